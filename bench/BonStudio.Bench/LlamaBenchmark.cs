// LLaMA decoding speed: greedy tokens/s of a ~15M-parameter LLaMA (llama2.c's stories15M shape: dim 288, 6 layers,
// 6 heads, vocab 32000) with random weights, written by this benchmark in the llama2.c format and loaded back by the
// real loader, then decoded by the batched KV-cached Sampler: one sequence, and 32 sequences in one batch.
// Usage: dotnet run -c Release --project bench/BonStudio.Bench -- llama [--threads N] [--tokens K] [--batch B] [--repeats R]
using System.Diagnostics;
using BonStudio.Training.Models;
using BonStudio.Training.Models.Loaders;
using BonStudio.Training.Runtime;
using BonStudio.Training.Sampling;
using TorchSharp;

namespace BonStudio.Bench;

public sealed class LlamaBenchmark : IBenchmark
{
    public string Name => "llama";
    public string Description => "greedy decoding tokens/s of a ~15M-parameter LLaMA (llama2.c file, random weights): 1 sequence and a 32-sequence batch";

    public Task RunAsync(string[] args)
    {
        int threads = 0, newTokens = 128, batch = 32, repeats = 3;
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--tokens": newTokens = int.Parse(args[++i]); break;
                case "--batch": batch = int.Parse(args[++i]); break;
                case "--repeats": repeats = int.Parse(args[++i]); break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        TorchRuntime.SetThreads(threads);
        TorchRuntime.Seed(0);
        var device = TorchRuntime.ResolveDevice("auto");

        // write random weights in the llama2.c format, then load them with the real loader
        var config = new LlamaConfig();                                                // stories15M shape
        var path = Path.Combine(Path.GetTempPath(), $"bon-llama-bench-{Environment.ProcessId}.bin");
        try
        {
            using (var random = new Llama(config)) Llama2cCheckpoint.Write(path, random);
            var fileBytes = new FileInfo(path).Length;
            using var model = Llama2cCheckpoint.Load(path, device);
            Console.WriteLine($"model: {config.ParameterCount / 1e6:F2}M parameters (dim {config.Dim}, hidden {config.HiddenDim}, layers {config.Layers}, " +
                              $"heads {config.Heads}/{config.KvHeads} kv, vocab {config.VocabSize}, context {config.ContextLength}); file {fileBytes / 1e6:F1} MB");
            Console.WriteLine($"device {device.type}, threads {torch.get_num_threads()}, {newTokens} new tokens per sequence, greedy, no stop token, best of {repeats}");
            Console.WriteLine("note: wall-clock timings on a machine shared with other jobs; take them as indicative.");

            var rng = new Random(1);
            int[] Prompt(int length) => [1, .. Enumerable.Range(0, length - 1).Select(_ => rng.Next(3, config.VocabSize))];
            var single = new List<int[]> { Prompt(8) };
            var batched = Enumerable.Range(0, batch).Select(i => Prompt(4 + i % 9)).ToList();   // lengths 4..12: left padding
            var sampler = new Sampler(model);
            var options = new SamplingOptions { Temperature = 0, MaxNewTokens = newTokens, StopTokenIds = [] };

            // best wall-clock rate over the repeats, and tokens per CPU-second of this process (less sensitive to a
            // shared machine: time spent waiting for a core is not counted)
            (double Wall, double Cpu) Best(IReadOnlyList<int[]> prompts)
            {
                sampler.Sample(prompts, options with { MaxNewTokens = 8 });           // warm-up
                double best = 0, bestCpu = 0;
                var self = Process.GetCurrentProcess();
                for (int r = 0; r < repeats; r++)
                {
                    self.Refresh();
                    var cpu0 = self.TotalProcessorTime;
                    var sw = Stopwatch.StartNew();
                    var results = sampler.Sample(prompts, options);
                    sw.Stop();
                    self.Refresh();
                    var cpu = (self.TotalProcessorTime - cpu0).TotalSeconds;
                    long tokens = results.Sum(x => (long)x.TokenIds.Length);
                    if (results.Any(x => x.TokenIds.Length != newTokens)) throw new InvalidOperationException("a sequence stopped early");
                    best = Math.Max(best, tokens / sw.Elapsed.TotalSeconds);
                    bestCpu = Math.Max(bestCpu, tokens / cpu);
                }
                return (best, bestCpu);
            }
            var one = Best(single);
            Console.WriteLine($"single sequence : {one.Wall,9:F1} tokens/s wall clock, {one.Cpu,9:F1} tokens per CPU-second");
            var many = Best(batched);
            Console.WriteLine($"batch of {batch,-7}: {many.Wall,9:F1} tokens/s wall clock, {many.Cpu,9:F1} tokens per CPU-second " +
                              $"({many.Wall / one.Wall:F1}x the single-sequence wall-clock rate)");
            Console.WriteLine($"load average at the end: {LoadAverage()}");
        }
        finally
        {
            File.Delete(path);
        }
        return Task.CompletedTask;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
