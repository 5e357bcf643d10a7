// `rl-run key=value ...`: runs one RL run (RlRun.Execute) from the command line, for studies/uflp scripts.
// Keys are RlConfig property names (case-insensitive), plus out=<dir> for the run directory.
// Example: dotnet run -c Release --project bench/BonStudio.Bench -- rl-run Env=deepsea EnvSize=20 Seed=3 out=runs/x
using System.Globalization;
using BonStudio.Training.RL;
using BonStudio.Training.Runtime;

namespace BonStudio.Bench;

public sealed class RlRunVerb : IBenchmark
{
    public string Name => "rl-run";
    public string Description => "one RL run: rl-run Key=Value ... out=<dir> (keys: RlConfig properties)";

    public Task RunAsync(string[] args)
    {
        var (config, outDir) = Parse(args);
        var result = RlRun.Execute(config, outDir, new ConsoleReporter(output: TextWriter.Null));
        Console.WriteLine($"RESULT {result.RunName} solved_at={result.StepsToSolve?.ToString() ?? "never"} steps={result.SimulatorSteps} " +
                          $"episodes={result.Episodes} resets={result.Resets} updates={result.Updates} final_eval={result.FinalEvalReturn:F3} " +
                          $"best_eval={result.BestEvalReturn:F3} seconds={result.Seconds:F1}");
        return Task.CompletedTask;
    }

    public static (RlConfig Config, string OutDir) Parse(string[] args)
    {
        object config = new RlConfig();
        string outDir = Path.Combine("runs", "rl", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        foreach (var arg in args)
        {
            int eq = arg.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"rl-run: argument '{arg}' is not Key=Value.");
            string key = arg[..eq], value = arg[(eq + 1)..];
            if (key.Equals("out", StringComparison.OrdinalIgnoreCase)) { outDir = value; continue; }
            var prop = typeof(RlConfig).GetProperties().FirstOrDefault(p => p.Name.Equals(key, StringComparison.OrdinalIgnoreCase) && p.CanWrite)
                ?? throw new ArgumentException($"rl-run: '{key}' is not an RlConfig property.");
            object parsed = Convert.ChangeType(value, prop.PropertyType, CultureInfo.InvariantCulture);
            prop.SetValue(config, parsed); // init-only setters are settable by reflection on a fresh copy
        }
        return ((RlConfig)config, outDir);
    }
}
