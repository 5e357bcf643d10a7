// `calib-base key=value ...`: trains the calibration study's small base GPT from scratch on MiniMath worked solutions
// (plain SFT = LikelihoodTrainer with weight 1) and prints its greedy test accuracy per level.
// Example: dotnet run -c Release --project bench/BonStudio.Bench -- calib-base out=studies/calibration/runs/base steps=2500
using System.Globalization;
using BonStudio.Training.Calibration;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using TorchSharp;

namespace BonStudio.Bench;

public sealed class CalibrationBaseVerb : IBenchmark
{
    public string Name => "calib-base";
    public string Description => "train the calibration study's base GPT: calib-base out=<dir> [steps= layers= dim= ctx= batch= lr= seed= threads= problems= levels= init=<ckpt>]";

    public Task RunAsync(string[] args)
    {
        var a = CalibrationArgs.Parse(args);
        string outDir = a.Get("out", "studies/calibration/runs/base");
        int steps = a.Int("steps", 2500), layers = a.Int("layers", 4), dim = a.Int("dim", 128), ctx = a.Int("ctx", 256);
        int batch = a.Int("batch", 32), problems = a.Int("problems", 50_000), threads = a.Int("threads", 2);
        double lr = a.Double("lr", 2e-3);
        long seed = a.Int("seed", 1);
        int[] levels = a.Get("levels", "1,2,3,4,5").Split(',').Select(int.Parse).ToArray();

        TorchRuntime.SetThreads(threads);
        TorchRuntime.Seed(seed);
        var device = TorchRuntime.ResolveDevice(a.Get("device", "auto"));
        var tokenizer = CharTokenizer.Instance;
        var config = new GptConfig { VocabSize = tokenizer.VocabSize, ContextLength = ctx, Layers = layers, Heads = 4, EmbeddingDim = dim };
        using var model = new Gpt(config).to(device);
        var init = a.Get("init", "");
        if (init.Length > 0) Checkpoint.LoadInto(model, init); // continue training an earlier base (same shape)
        var train = MiniMath.Generate("train", problems, levels, seed).Select(p => new TrainingPair(MiniMath.Prompt(p), MiniMath.Completion(p))).ToList();
        var reporter = new ConsoleReporter();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        LikelihoodTrainer.Train(model, tokenizer, train, new LikelihoodTrainingOptions
        {
            Steps = steps, BatchSize = batch, LearningRate = lr, MinLearningRate = lr / 20, WarmupSteps = init.Length > 0 ? 10 : 100, WeightDecay = 0.1, Seed = seed, LogEvery = 50,
        }, reporter, "train", (done, total) =>
        {
            if (done % 50 == 0) Console.WriteLine($"step {done}/{total} loss {reporter.Metrics.LastOrDefault(m => m.Name == "train/loss").Value:F4} {clock.Elapsed.TotalSeconds:F0}s");
        });
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, "base.safetensors");
        Checkpoint.Save(path, model, new CheckpointMetadata(Gpt.Architecture, config.ToJson(), tokenizer.Name, steps,
            $"{{\"kind\":\"calib-base\",\"steps\":{steps},\"lr\":{lr.ToString(CultureInfo.InvariantCulture)},\"batch\":{batch},\"seed\":{seed}}}"));

        var test = MiniMath.Generate("test", 500, levels, seed);
        var sampler = new Sampler(model, tokenizer);
        var results = new List<bool>();
        for (int i = 0; i < test.Count; i += 100)
        {
            var chunk = test.Skip(i).Take(100).ToList();
            var outs = sampler.Sample(chunk.Select(p => Sampler.EncodePrompt(tokenizer, MiniMath.Prompt(p))).ToList(),
                new SamplingOptions { Temperature = 0, MaxNewTokens = 120, StopStrings = ["\n"] });
            results.AddRange(chunk.Select((p, j) => MiniMath.IsCorrect(outs[j].Text!, p.Answer)));
        }
        Console.WriteLine($"RESULT base={path} params={model.ParameterCount} seconds={clock.Elapsed.TotalSeconds:F0} test_accuracy={results.Average(c => c ? 1.0 : 0.0):F3} " +
                          string.Join(" ", test.Select((p, i) => (p.Level, results[i])).GroupBy(x => x.Level).OrderBy(g => g.Key)
                              .Select(g => $"L{g.Key}={g.Average(x => x.Item2 ? 1.0 : 0.0):F3}")));
        return Task.CompletedTask;
    }
}

/// <summary>key=value arguments of the calibration verbs.</summary>
public sealed class CalibrationArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public static CalibrationArgs Parse(string[] args)
    {
        var parsed = new CalibrationArgs();
        foreach (var arg in args)
        {
            int eq = arg.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"argument '{arg}' is not key=value.");
            parsed._values[arg[..eq]] = arg[(eq + 1)..];
        }
        return parsed;
    }

    public IReadOnlyDictionary<string, string> Values => _values;
    public string Get(string key, string fallback) => _values.TryGetValue(key, out var v) ? v : fallback;
    public int Int(string key, int fallback) => _values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    public double Double(string key, double fallback) => _values.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
