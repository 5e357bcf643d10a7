// Sampler speed: tokens/s of KV-cached batched sampling against full recompute (no cache), same model, same run.
// Usage: dotnet run -c Release --project bench/BonStudio.Bench -- sampler [--checkpoint PATH] [--threads N] [--repeats R]
// Default model: the default sft preset's GPT shape, randomly initialised (speed does not depend on the weights;
// no stop token, so every sample generates exactly 64 tokens).
using System.Diagnostics;
using BonStudio.Training.FineTuning;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using TorchSharp;

namespace BonStudio.Bench;

public sealed class SamplerBenchmark : IBenchmark
{
    public string Name => "sampler";
    public string Description => "KV-cached batched sampling vs full recompute (32 samples x 64 new tokens), tokens/s and ratio";

    public Task RunAsync(string[] args)
    {
        string? checkpoint = null; int threads = 0, repeats = 3;
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--checkpoint": checkpoint = args[++i]; break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--repeats": repeats = int.Parse(args[++i]); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        TorchRuntime.SetThreads(threads);
        TorchRuntime.Seed(0);
        var device = TorchRuntime.ResolveDevice("auto");
        ICausalLM model = checkpoint is null
            ? new Gpt(new SftConfig().ModelConfig(CharTokenizer.Instance.VocabSize)).to(device)
            : Checkpoint.LoadCausalLM(checkpoint, device).Model;
        ((TorchSharp.torch.nn.Module)model).eval();
        var tokenizer = CharTokenizer.Instance;
        const int samples = 32, newTokens = 64;

        // Prompts: one level-3 MiniMath question (n samples of one prompt) and 32 different ones (left-padded batch).
        var problems = MiniMath.Generate("test", samples, [1, 2, 3], seed: 7);
        var prompts = problems.Select(p => Sampler.EncodePrompt(tokenizer, MiniMath.Prompt(p))).ToList();
        var one = prompts[2];
        Console.WriteLine($"device {device.type}, threads {TorchSharp.torch.get_num_threads()}, model {(checkpoint ?? "random init, sft preset shape")}, " +
                          $"context {model.ContextLength}; prompt lengths {prompts.Min(p => p.Length)}..{prompts.Max(p => p.Length)} (n-of-one: {one.Length})");
        Console.WriteLine("note: timings are wall-clock on a machine that may be shared; both variants run interleaved in this one process.");

        var options = new SamplingOptions { Temperature = 1.0, MaxNewTokens = newTokens, StopTokenIds = [], Seed = 1 };
        var sampler = new Sampler(model, tokenizer);
        double Time(Func<IReadOnlyList<SampleResult>> run)
        {
            var sw = Stopwatch.StartNew();
            var results = run();
            sw.Stop();
            if (results.Count != samples || results.Any(r => r.TokenIds.Length != newTokens)) throw new InvalidOperationException("unexpected sample shape");
            return samples * newTokens / sw.Elapsed.TotalSeconds;
        }
        var cases = new (string Name, Func<SamplingOptions, IReadOnlyList<SampleResult>> Run)[]
        {
            ("32 samples of one prompt", o => sampler.SampleN(one, samples, o)),
            ("32 different prompts (left-padded)", o => sampler.Sample(prompts, o)),
        };
        foreach (var (name, run) in cases)
        {
            run(options with { MaxNewTokens = 4 });           // warm-up (JIT, allocator)
            run(options with { MaxNewTokens = 4, UseKvCache = false });
            var cached = new List<double>(); var full = new List<double>();
            for (int r = 0; r < repeats; r++)
            {
                cached.Add(Time(() => run(options)));
                full.Add(Time(() => run(options with { UseKvCache = false })));
            }
            double c = Median(cached), f = Median(full);
            Console.WriteLine($"{name}: KV cache {c,8:F0} tokens/s | full recompute {f,8:F0} tokens/s | ratio {c / f:F1}x (median of {repeats})");
        }
        return Task.CompletedTask;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
