// Metric computation time for Best-of-N evaluations (issue #3): P prompts × n samples, every k = 1..n,
// pass@k + BoN@k + maj@k (exact where C(n,k) ≤ 100 000, else Monte Carlo) + diversity, then the dataset means
// with intervals. Synthetic but realistic inputs: per-prompt difficulty, verifier scores correlated with
// correctness and rounded (so ties occur), a few recurring wrong answers.
// Usage: dotnet run -c Release --project bench/BonStudio.Bench -- metrics [prompts=10000] [n=128] [mcDraws=1000]
using System.Diagnostics;
using BonStudio.Training.Metrics;
using BonStudio.Training.Tasks;

namespace BonStudio.Bench;

public sealed class MetricsBenchmark : IBenchmark
{
    public string Name => "metrics";
    public string Description => "BoN metric computation for P prompts × n samples, all k (args: prompts n mcDraws)";

    public Task RunAsync(string[] args)
    {
        int prompts = args.Length > 0 ? int.Parse(args[0]) : 10_000;
        int n = args.Length > 1 ? int.Parse(args[1]) : 128;
        int draws = args.Length > 2 ? int.Parse(args[2]) : 1000;
        var data = MakeData(prompts, n, seed: 1);
        var options = new BonMetricsOptions { MajorityMonteCarloDraws = draws };
        Console.WriteLine($"metrics: {prompts} prompts × n = {n}, all k = 1..{n}, maj@k Monte Carlo draws = {draws}");

        var sw = Stopwatch.StartNew();
        Cpu.Restart();
        foreach (var p in data) BonMetrics.PassAtKCurve(n, p.Correct.Count(c => c));
        Report("pass@k only", sw.Elapsed, prompts);

        sw.Restart();
        Cpu.Restart();
        var rewards = new double[n];
        foreach (var p in data)
        {
            for (int i = 0; i < n; i++) rewards[i] = p.Correct[i] ? 1 : 0;
            BonMetrics.BonAtKCurve(p.Scores!, rewards);
        }
        Report("BoN@k only", sw.Elapsed, prompts);

        sw.Restart();
        Cpu.Restart();
        foreach (var p in data) BonMetrics.MajAtKCurve(p.Answers!, p.Correct, options, p.PromptId);
        Report("maj@k only", sw.Elapsed, prompts);

        sw.Restart();
        Cpu.Restart();
        var perPrompt = data.Select(p => BonMetrics.ForPrompt(p, options)).ToArray();
        var dataset = BonMetrics.Aggregate(perPrompt);
        var report = BonMetricsReport.From(dataset);
        Report("all metrics + dataset means/intervals (1 thread)", sw.Elapsed, prompts);

        sw.Restart();
        Cpu.Restart();
        var parallel = data.AsParallel().AsOrdered().Select(p => BonMetrics.ForPrompt(p, options)).ToArray();
        BonMetrics.Aggregate(parallel);
        Report($"all metrics, PLINQ over {Environment.ProcessorCount} cores", sw.Elapsed, prompts);

        Console.WriteLine($"check: pass@1 {report.PassAtK[0]:F4}  pass@{n} {report.PassAtK[^1]:F4}  BoN@{n} {report.BonAtK[^1]:F4}  maj@{n} {report.MajAtK[^1]:F4}" +
                          $"  maj@k MC s.e. (k = n/2) {dataset.MajAtKMonteCarloStdErr![n / 2 - 1]:E2}");
        return Task.CompletedTask;
    }

    // Wall time and this process's CPU time: the CPU figure is less disturbed by other load on a shared machine.
    private static void Report(string what, TimeSpan t, int prompts)
    {
        var cpu = Cpu.Elapsed;
        Console.WriteLine($"  {what,-52} wall {t.TotalSeconds,7:F2} s  cpu {cpu.TotalSeconds,7:F2} s  ({cpu.TotalMilliseconds * 1000 / prompts,7:F1} µs cpu/prompt)");
    }

    private static class Cpu
    {
        private static TimeSpan _start;
        public static void Restart() => _start = Process.GetCurrentProcess().TotalProcessorTime;
        public static TimeSpan Elapsed => Process.GetCurrentProcess().TotalProcessorTime - _start;
    }

    private static List<PromptSamples> MakeData(int prompts, int n, long seed)
    {
        var rng = new SplitMix64((ulong)seed);
        var list = new List<PromptSamples>(prompts);
        for (int p = 0; p < prompts; p++)
        {
            double solveRate = rng.NextDouble();
            var correct = new bool[n];
            var scores = new double[n];
            var answers = new string?[n];
            for (int i = 0; i < n; i++)
            {
                correct[i] = rng.NextDouble() < solveRate;
                scores[i] = Math.Round((correct[i] ? 0.3 : 0) + 0.7 * rng.NextDouble(), 2);
                answers[i] = correct[i] ? "42" : rng.Below(10) == 0 ? null : $"{rng.Below(1 + rng.Below(20))}";
            }
            list.Add(new PromptSamples($"p{p}", correct, scores, answers));
        }
        return list;
    }
}
