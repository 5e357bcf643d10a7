// `rl`: environment steps/s (Deep Sea, cartpole swing-up, mini Montezuma, with and without snapshots) and agent
// updates/s + acting steps/s (DDQN, BootDDQN) on CPU, and the cost of one UFLP start choice with B = all.
// Usage: dotnet run -c Release --project bench/BonStudio.Bench -- rl [seconds-per-item, default 3]
using System.Diagnostics;
using BonStudio.Training.RL;
using BonStudio.Training.RL.Agents;
using BonStudio.Training.RL.Envs;
using BonStudio.Training.RL.Uncertainty;
using BonStudio.Training.Runtime;
using static TorchSharp.torch;

namespace BonStudio.Bench;

public sealed class RlBenchmark : IBenchmark
{
    public string Name => "rl";
    public string Description => "RL: env steps/s, agent updates/s and acting steps/s on CPU, UFLP choice cost";

    public Task RunAsync(string[] args)
    {
        double seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 3.0;
        TorchRuntime.SetThreads(1);
        TorchRuntime.Seed(0);
        Console.WriteLine($"threads=1, {seconds}s per item; figures are per second of wall time on a shared machine");

        foreach (var (name, size) in new[] { ("deepsea", 20), ("cartpole", 0), ("montezuma", 0) })
        {
            var env = EnvFactory.Create(name, size, false, 1, 0);
            var rng = new Random(1);
            long steps = 0;
            double Episodes(bool snapshot) => Rate(seconds, () =>
            {
                env.Reset();
                while (true) { steps++; if (env.Step(rng.Next(env.ActionCount)).Done) break; if (snapshot) env.Snapshot(); }
            });
            steps = 0; double e1 = Episodes(false); double plain = steps / seconds;
            steps = 0; double e2 = Episodes(true); double withSnap = steps / seconds;
            Console.WriteLine($"env {name,-10} steps/s {plain:N0} (with a snapshot after every step: {withSnap:N0})");
        }

        const int obs = 400, actions = 2; // Deep Sea N = 20
        var x = new float[obs]; x[0] = 1;
        foreach (var agentName in new[] { "ddqn", "bootddqn" })
        {
            using IAgent agent = agentName == "ddqn"
                ? new Ddqn(new DdqnConfig { Hidden = 32, LearningStarts = 1 }, obs, actions, CPU, new Random(1))
                : new BootDdqn(new BootDdqnConfig { LearningStarts = 1 }, obs, actions, CPU, new Random(1));
            var y = new float[obs]; y[21] = 1;
            for (int i = 0; i < 500; i++) agent.Observe(x, i % 2, 0, y, false); // warm up + fill replay
            long updatesBefore = agent.Updates;
            double updateRate = Rate(seconds, () => agent.Observe(x, 0, 0, y, false));
            double actRate = Rate(seconds, () => agent.ActGreedy(x));
            Console.WriteLine($"agent {agentName,-9} (obs {obs}, batch 64) updates/s {updateRate:N0}   greedy act/s {actRate:N0}");
        }

        // UFLP: one start choice over a history of 10 000 Deep Sea N=20 snapshots (≤ 210 distinct states).
        using var boot = new BootDdqn(new BootDdqnConfig(), obs, actions, CPU, new Random(1));
        var uflp = new Uflp(new UflpConfig { PInit = 0 }, new EnsembleStd(boot, actions), actions, new Random(1));
        var ds = new DeepSea(new DeepSeaConfig(20), 1);
        var r = new Random(2);
        while (uflp.History.Count < uflp.History.Capacity)
        {
            ds.Reset();
            for (int t = 0; t < 19; t++) { var s = ds.Step(r.Next(2)); uflp.History.Add(ds.Snapshot(), s.Observation, ds.StateKey); }
        }
        Console.WriteLine($"uflp choice (B = all, |H| = 10000, {uflp.History.DistinctCount} distinct) per s {Rate(seconds, () => uflp.ChooseStart()):N0}");
        return Task.CompletedTask;
    }

    private static double Rate(double seconds, Action work)
    {
        var sw = Stopwatch.StartNew();
        long n = 0;
        while (sw.Elapsed.TotalSeconds < seconds) { work(); n++; }
        return n / sw.Elapsed.TotalSeconds;
    }
}
