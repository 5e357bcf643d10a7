// Trains the default `sft` preset (SftConfig defaults) and prints time, throughput and test accuracy per level.
// Usage: dotnet run -c Release --project bench/BonStudio.Bench -- sft-preset [Name=value ...] [--dir PATH]
// e.g. `sft-preset Steps=200 Levels=[1,2]` to try a variant. Values are JSON (numbers, arrays, "strings").
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Training.FineTuning;
using BonStudio.Training.Runtime;

namespace BonStudio.Bench;

public sealed class SftPresetBenchmark : IBenchmark
{
    public string Name => "sft-preset";
    public string Description => "train the default sft preset; prints wall time, tokens/s and test accuracy per level";

    public Task RunAsync(string[] args)
    {
        var node = JsonSerializer.SerializeToNode(new SftConfig())!.AsObject();
        string? dir = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--dir") { dir = args[++i]; continue; }
            var eq = args[i].IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"argument '{args[i]}' is not Name=value");
            var name = args[i][..eq];
            if (!node.ContainsKey(name)) throw new ArgumentException($"SftConfig has no property '{name}'");
            node[name] = JsonNode.Parse(args[i][(eq + 1)..]);
        }
        var config = node.Deserialize<SftConfig>()!;
        dir ??= Path.Combine(Path.GetTempPath(), $"bonstudio-sft-preset-{DateTime.UtcNow:yyyyMMddHHmmss}");
        Console.WriteLine($"run directory: {dir}");
        Console.WriteLine($"config: {JsonSerializer.Serialize(config)}");
        var started = DateTime.UtcNow;
        var result = SftRun.Execute(config, dir, new ConsoleReporter());
        Console.WriteLine($"wall time: {(DateTime.UtcNow - started).TotalSeconds:F0} s (training {result.TrainSeconds:F0} s wall, {result.TrainCpuSeconds:F0} s CPU, {result.TokensPerSecond:F0} tokens/s)");
        Console.WriteLine($"parameters: {result.Parameters:N0}");
        Console.WriteLine($"test greedy accuracy: {result.TestAccuracy:P1}; " + string.Join(", ", result.TestAccuracyByLevel.Select(kv => $"L{kv.Key} {kv.Value:P1}")));
        if (result.TestAccuracyTemperatureOne is { } t1)
            Console.WriteLine($"test temperature-1 accuracy: {t1:P1}; " + string.Join(", ", result.TestAccuracyTemperatureOneByLevel!.Select(kv => $"L{kv.Key} {kv.Value:P1}")));
        Console.WriteLine($"test loss: {result.TestLoss:F4}; final checkpoint {result.FinalCheckpointPath}");
        return Task.CompletedTask;
    }
}
