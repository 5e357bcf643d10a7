// Run kind "rl": one environment + one agent + one uncertainty measure, with or without UFLP, for a budget of
// training simulator steps (methods.md §4). CleanRL-like flat loop: seeding block, then collect → learn → evaluate.
// Metrics (IRunReporter): charts/episodic_return, charts/resets, charts/SPS, losses/td_loss, eval/return,
// eval/steps_to_solve. Files in the run directory: config.json, eval.csv, episodes.csv, result.json, grid.json (grid worlds).
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BonStudio.Training.RL.Agents;
using BonStudio.Training.RL.Envs;
using BonStudio.Training.RL.Uncertainty;
using BonStudio.Training.Runtime;

namespace BonStudio.Training.RL;

/// <summary>Everything an RL run needs. The attributes drive the web form, API validation and `run`.</summary>
public sealed record RlConfig : IRunConfig
{
    // environment
    [Description("Environment: deepsea, cartpole (sparse swing-up) or montezuma (mini Montezuma-like rooms).")]
    [Required, AllowedValues("deepsea", "cartpole", "montezuma")]
    public string Env { get; init; } = "deepsea";
    [Description("Deep Sea size N (grid N×N, episodes of N steps). Ignored by the other environments.")]
    [Range(2, 200)]
    public int EnvSize { get; init; } = 20;
    [Description("Stochastic variant: Deep Sea 'right' fails with probability 1/N (+ bsuite's noisy end rewards); Montezuma sticky actions.")]
    [Range(typeof(bool), "false", "true")]
    public bool Stochastic { get; init; } = false;
    [Description("Seed of Deep Sea's per-cell action mapping; -1 = use the run seed.")]
    [Range(-1, int.MaxValue)]
    public int MappingSeed { get; init; } = -1;

    // agent
    [Description("Agent: bootddqn (ensemble with random priors), ddqn (ε-greedy) or ddqn-bonus (acts on Q + c·u).")]
    [Required, AllowedValues("bootddqn", "ddqn", "ddqn-bonus")]
    public string Agent { get; init; } = "bootddqn";
    [Description("Hidden units per layer of the Q-network(s).")]
    [Range(4, 1024)]
    public int Hidden { get; init; } = 32;
    [Description("BootDDQN: number of heads M.")]
    [Range(1, 64)]
    public int Heads { get; init; } = 10;
    [Description("BootDDQN: scale β of each head's fixed random prior network.")]
    [Range(0.0, 100.0)]
    public double PriorScale { get; init; } = 3.0;
    [Description("BootDDQN: probability that a transition trains a given head (1 = no bootstrap masks).")]
    [Range(0.01, 1.0)]
    public double MaskProbability { get; init; } = 1.0;
    [Description("Adam learning rate.")]
    [Range(1e-6, 1.0)]
    public double LearningRate { get; init; } = 1e-3;
    [Description("Discount factor γ.")]
    [Range(0.0, 1.0)]
    public double Gamma { get; init; } = 0.99;
    [Description("Transitions per gradient update.")]
    [Range(1, 4096)]
    public int BatchSize { get; init; } = 64;
    [Description("Transitions kept in the replay buffer.")]
    [Range(100, 10_000_000)]
    public int ReplayCapacity { get; init; } = 100_000;
    [Description("Transitions collected before the first update.")]
    [Range(1, 1_000_000)]
    public int LearningStarts { get; init; } = 128;
    [Description("One gradient update every this many simulator steps.")]
    [Range(1, 1000)]
    public int TrainEvery { get; init; } = 1;
    [Description("Target network sync every this many updates.")]
    [Range(1, 100_000)]
    public int TargetSyncEvery { get; init; } = 4;
    [Description("DDQN: final ε of the linear decay.")]
    [Range(0.0, 1.0)]
    public double EpsilonEnd { get; init; } = 0.05;
    [Description("DDQN: simulator steps over which ε decays from 1 to its final value.")]
    [Range(1L, 100_000_000L)]
    public long EpsilonDecaySteps { get; init; } = 50_000;
    [Description("DDQN-Bonus: weight c of the uncertainty bonus when acting.")]
    [Range(0.0, 1000.0)]
    public double BonusScale { get; init; } = 1.0;

    // uncertainty
    [Description("Uncertainty u: ensemble (std of BootDDQN heads), covariance (Sherman–Morrison), counts, rnd.")]
    [Required, AllowedValues("ensemble", "covariance", "counts", "rnd")]
    public string Uncertainty { get; init; } = "ensemble";
    [Description("λ of the covariance and count measures (u of an unseen state = λ^-1/2).")]
    [Range(1e-6, 1e6)]
    public double UncertaintyLambda { get; init; } = 1.0;

    // UFLP
    [Description("Use UFLP: restart episodes from the most uncertain state in the history.")]
    [Range(typeof(bool), "false", "true")]
    public bool Uflp { get; init; } = true;
    [Description("UFLP p_init: probability of starting from the initial distribution (1 = ordinary online RL).")]
    [Range(0.0, 1.0)]
    public double PInit { get; init; } = 0.1;
    [Description("UFLP B: history entries compared per restart; 0 = all of the history.")]
    [Range(0, 10_000_000)]
    public int UflpBatch { get; init; } = 0;
    [Description("UFLP C: snapshots the history keeps (FIFO).")]
    [Range(1, 10_000_000)]
    public int HistoryCapacity { get; init; } = 10_000;
    [Description("UFLP selection: state-action (argmax u(s,a)) or state (argmax u(s), a0 uniform).")]
    [Required, AllowedValues("state-action", "state")]
    public string Selection { get; init; } = "state-action";

    // budget and evaluation
    [Description("Budget in training simulator steps (evaluation steps are not counted).")]
    [Range(100L, 1_000_000_000L)]
    public long BudgetSteps { get; init; } = 300_000;
    [Description("Evaluate every this many training simulator steps.")]
    [Range(10L, 100_000_000L)]
    public long EvalEvery { get; init; } = 2_000;
    [Description("Greedy evaluation episodes per evaluation (always from the initial state).")]
    [Range(1, 1000)]
    public int EvalEpisodes { get; init; } = 1;
    [Description("Solved when the mean evaluation return reaches this (Deep Sea best is 0.99; Montezuma 3).")]
    [Range(-1e9, 1e9)]
    public double SolveThreshold { get; init; } = 0.9;
    [Description("Stop the run as soon as it is solved.")]
    [Range(typeof(bool), "false", "true")]
    public bool StopWhenSolved { get; init; } = false;
    [Description("Scalar metrics (returns, loss, SPS) are reported every this many simulator steps.")]
    [Range(10L, 100_000_000L)]
    public long LogEvery { get; init; } = 1_000;
    [Description("Grid worlds: visits and uncertainty per cell are sent to the episode sink every this many steps (0 = never).")]
    [Range(0L, 100_000_000L)]
    public long HeatmapEvery { get; init; } = 10_000;

    // runtime
    [Description("Seed for every random number generator of the run.")]
    [Range(0L, long.MaxValue)]
    public long Seed { get; init; } = 1;
    [Description("Device: auto, cpu, cuda or cuda:N.")]
    [Required, RegularExpression("^(auto|cpu|cuda(:[0-9]+)?)$")]
    public string Device { get; init; } = "auto";
    [Description("libtorch intra-op threads (0 = libtorch default). Small networks run fastest on 1.")]
    [Range(0, 256)]
    public int Threads { get; init; } = 1;

    /// <summary>Attribute validation plus the rules that tie fields together; throws with every problem named.</summary>
    public void Validate()
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true);
        var problems = results.Select(r => $"{string.Join(",", r.MemberNames)}: {r.ErrorMessage}").ToList();
        if (Uncertainty == "ensemble" && Agent != "bootddqn" && (Uflp || Agent == "ddqn-bonus"))
            problems.Add($"Uncertainty: 'ensemble' needs Agent 'bootddqn' (got '{Agent}'); use counts, covariance or rnd.");
        if (problems.Count > 0) throw new ArgumentException("invalid RL config: " + string.Join("; ", problems));
    }

    /// <summary>CleanRL-style run name: {env}__{algo}__{seed}.</summary>
    public string RunName => $"{Env}{(Env == "deepsea" ? EnvSize.ToString(CultureInfo.InvariantCulture) : "")}__{Agent}{(Uflp ? "+uflp" : "")}__{Seed}";
}

/// <summary>One evaluation: mean greedy return from the initial state after <paramref name="SimulatorSteps"/> training steps.</summary>
public sealed record EvalPoint(long SimulatorSteps, double Return);

/// <summary>What a finished (or cancelled) run reports.</summary>
/// <param name="StepsToSolve">Training steps at the first evaluation whose return reached the threshold (null = never).</param>
public sealed record RlResult(string RunName, long SimulatorSteps, long Episodes, long Resets, long Updates, long? StepsToSolve,
    double FinalEvalReturn, double BestEvalReturn, double Seconds, bool Cancelled, IReadOnlyList<EvalPoint> Evaluations);

public static class RlRun
{
    public static RlResult Execute(RlConfig config, string runDirectory, IRunReporter reporter, IEpisodeSink? episodes = null)
    {
        config.Validate();
        Directory.CreateDirectory(runDirectory);
        var json = new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        File.WriteAllText(Path.Combine(runDirectory, "config.json"), JsonSerializer.Serialize(config, json));
        reporter.Log($"rl run {config.RunName}: {JsonSerializer.Serialize(config)}");

        // TRY NOT TO MODIFY: seeding. One seed feeds torch, the agent, UFLP and both environment copies.
        TorchRuntime.SetThreads(config.Threads);
        var device = TorchRuntime.ResolveDevice(config.Device);
        TorchRuntime.Seed(config.Seed);
        var seeds = new Random(unchecked((int)config.Seed ^ (int)(config.Seed >> 32)));
        var agentRng = new Random(seeds.Next());
        var uflpRng = new Random(seeds.Next());
        int mappingSeed = config.MappingSeed >= 0 ? config.MappingSeed : (int)(config.Seed % int.MaxValue);
        var env = EnvFactory.Create(config.Env, config.EnvSize, config.Stochastic, (ulong)seeds.NextInt64(), mappingSeed);
        var evalEnv = EnvFactory.Create(config.Env, config.EnvSize, config.Stochastic, (ulong)seeds.NextInt64(), mappingSeed);
        var grid = env as IGridEnvironment;

        using var agent = CreateAgent(config, env, device, agentRng, out var uncertainty);
        using var _u = uncertainty;
        var uflp = config.Uflp
            ? new Uflp(new UflpConfig
            {
                PInit = config.PInit, BatchSize = config.UflpBatch, Capacity = config.HistoryCapacity,
                Selection = config.Selection == "state" ? UflpSelection.State : UflpSelection.StateAction,
            }, uncertainty, env.ActionCount, uflpRng)
            : null;

        var evals = new List<EvalPoint>();
        var visits = grid is null ? null : new long[grid.GridRows * grid.GridCols];
        using var episodesCsv = new StreamWriter(Path.Combine(runDirectory, "episodes.csv"));
        episodesCsv.WriteLine("episode,start,row,col,uncertainty,action,return,length,steps");
        var clock = Stopwatch.StartNew();
        long steps = 0, episodeCount = 0, resets = 0, lastLogSteps = 0;
        long? solvedAt = null;
        double lossSum = 0, returnSum = 0; int lossCount = 0, returnCount = 0;
        var lastLogTime = clock.Elapsed;
        bool cancelled = false;

        double Evaluate()
        {
            double total = 0;
            for (int e = 0; e < config.EvalEpisodes; e++)
            {
                var obs = evalEnv.Reset();
                while (true)
                {
                    var r = evalEnv.Step(agent.ActGreedy(obs));
                    total += r.Reward; obs = r.Observation;
                    if (r.Done) break;
                }
            }
            return total / config.EvalEpisodes;
        }

        void AfterStep()
        {
            if (steps % config.EvalEvery == 0)
            {
                double ret = Evaluate();
                evals.Add(new EvalPoint(steps, ret));
                reporter.Metric("eval/return", steps, ret);
                if (solvedAt is null && ret >= config.SolveThreshold)
                {
                    solvedAt = steps;
                    reporter.Metric("eval/steps_to_solve", steps, steps);
                    reporter.Log($"solved at {steps} simulator steps (eval return {ret:F3})");
                }
            }
            if (steps % config.LogEvery == 0) LogScalars();
            if (grid is not null && episodes is not null && config.HeatmapEvery > 0 && steps % config.HeatmapEvery == 0)
                episodes.Grid(GridSnapshot(grid, evalEnv as IGridEnvironment ?? grid, visits!, uncertainty, steps));
        }

        void LogScalars()
        {
            var now = clock.Elapsed;
            reporter.Metric("charts/SPS", steps, (steps - lastLogSteps) / Math.Max(1e-9, (now - lastLogTime).TotalSeconds));
            (lastLogSteps, lastLogTime) = (steps, now);
            if (lossCount > 0) reporter.Metric("losses/td_loss", steps, lossSum / lossCount);
            if (returnCount > 0) reporter.Metric("charts/episodic_return", steps, returnSum / returnCount);
            reporter.Metric("charts/resets", steps, resets);
            lossSum = returnSum = 0; lossCount = returnCount = 0;
            reporter.Progress((double)steps / config.BudgetSteps, $"{steps}/{config.BudgetSteps} steps, {episodeCount} episodes, {resets} resets");
        }

        // ALGO LOGIC: data collection with UFLP restarts, learning after every step.
        while (steps < config.BudgetSteps && !(config.StopWhenSolved && solvedAt is not null))
        {
            if (reporter.CancellationToken.IsCancellationRequested) { cancelled = true; break; }
            agent.BeginEpisode();
            var start = uflp?.ChooseStart() ?? UflpStart.Initial;
            float[] obs;
            if (start.FromInitial) obs = env.Reset();
            else { env.Restore(start.Snapshot!); obs = start.Observation!; resets++; }
            var startKey = grid?.StateKey;
            if (start.FromInitial) uflp?.History.Add(env.Snapshot(), obs, startKey);

            double episodeReturn = 0; int length = 0;
            int? forced = start.FirstAction;
            while (true)
            {
                int action = forced ?? agent.Act(obs);
                forced = null;
                if (visits is not null) { var (r0, c0) = grid!.StateKey; visits[r0 * grid.GridCols + c0]++; }
                var step = env.Step(action);
                steps++; length++; episodeReturn += step.Reward;
                uncertainty.Observe(obs, action);
                double loss = agent.Observe(obs, action, step.Reward, step.Observation, step.Done && !step.Truncated);
                if (!double.IsNaN(loss)) { lossSum += loss; lossCount++; }
                if (!step.Done) uflp?.History.Add(env.Snapshot(), step.Observation, grid?.StateKey);
                obs = step.Observation;
                AfterStep();
                if (step.Done || steps >= config.BudgetSteps) break;
            }

            var record = new EpisodeRecord(episodeCount++, start.FromInitial ? EpisodeStartKind.Initial : EpisodeStartKind.Reset,
                startKey?.Row, startKey?.Col, start.Uncertainty, start.FirstAction, episodeReturn, length, steps);
            episodes?.Episode(record);
            episodesCsv.WriteLine(string.Join(',', record.Index, record.StartKind, record.StartRow, record.StartCol,
                F(record.StartUncertainty), record.StartAction, F(record.Return), record.Length, record.SimulatorSteps));
            returnSum += episodeReturn; returnCount++;
        }

        if (steps > lastLogSteps) LogScalars(); // the tail since the last report
        if (grid is not null)
        {
            var final = GridSnapshot(grid, evalEnv as IGridEnvironment ?? grid, visits!, uncertainty, steps);
            if (episodes is not null && (config.HeatmapEvery == 0 || steps % config.HeatmapEvery != 0)) episodes.Grid(final);
            File.WriteAllText(Path.Combine(runDirectory, "grid.json"), JsonSerializer.Serialize(final, json)); // final visits + u per cell
        }
        var result = new RlResult(config.RunName, steps, episodeCount, resets, agent.Updates, solvedAt,
            evals.Count > 0 ? evals[^1].Return : double.NaN, evals.Count > 0 ? evals.Max(e => e.Return) : double.NaN,
            clock.Elapsed.TotalSeconds, cancelled, evals);
        File.WriteAllLines(Path.Combine(runDirectory, "eval.csv"),
            ["steps,return", .. evals.Select(e => $"{e.SimulatorSteps},{F(e.Return)}")]);
        File.WriteAllText(Path.Combine(runDirectory, "result.json"), JsonSerializer.Serialize(result with { Evaluations = [] }, json));
        reporter.Log($"{config.RunName}: {steps} steps, {episodeCount} episodes, {resets} resets, solved at {solvedAt?.ToString() ?? "never"}, " +
                     $"final eval {result.FinalEvalReturn:F3}, {result.Seconds:F1}s");
        reporter.Progress(1.0, cancelled ? "cancelled" : "done");
        return result;
    }

    private static string F(double x) => double.IsNaN(x) ? "" : x.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>Builds the agent and the uncertainty measure the config names (the ensemble measure reads the agent's heads).</summary>
    public static IAgent CreateAgent(RlConfig c, IEnvironment env, TorchSharp.torch.Device device, Random rng, out IUncertainty uncertainty)
    {
        int obs = env.ObservationSize, actions = env.ActionCount;
        IUncertainty MakeMeasure(IQEnsemble? ensemble) => c.Uncertainty switch
        {
            "ensemble" when ensemble is not null => new EnsembleStd(ensemble, actions),
            "ensemble" => new ApproxCounts(new ApproxCountsConfig { Lambda = c.UncertaintyLambda }, actions), // plain DDQN has no heads: counts stand in (heatmaps only)
            "covariance" => new FeatureCovariance(new FeatureCovarianceConfig
                { Lambda = c.UncertaintyLambda, RandomFeatures = obs <= 16 ? 256 : 0, Seed = (int)(c.Seed % int.MaxValue) }, obs, actions),
            "counts" => new ApproxCounts(new ApproxCountsConfig { Lambda = c.UncertaintyLambda }, actions),
            "rnd" => new RandomNetworkDistillation(new RndConfig(), obs, actions, device),
            _ => throw new ArgumentException($"Uncertainty '{c.Uncertainty}' is not one of {string.Join(", ", UncertaintyFactory.Names)}."),
        };
        var ddqn = new DdqnConfig
        {
            Hidden = c.Hidden, LearningRate = c.LearningRate, Gamma = c.Gamma, BatchSize = c.BatchSize, ReplayCapacity = c.ReplayCapacity,
            LearningStarts = c.LearningStarts, TrainEvery = c.TrainEvery, TargetSyncEvery = c.TargetSyncEvery,
            EpsilonEnd = c.EpsilonEnd, EpsilonDecaySteps = c.EpsilonDecaySteps,
        };
        switch (c.Agent)
        {
            case "bootddqn":
                var boot = new BootDdqn(new BootDdqnConfig
                {
                    Heads = c.Heads, Hidden = c.Hidden, PriorScale = c.PriorScale, MaskProbability = c.MaskProbability,
                    LearningRate = c.LearningRate, Gamma = c.Gamma, BatchSize = c.BatchSize, ReplayCapacity = c.ReplayCapacity,
                    LearningStarts = c.LearningStarts, TrainEvery = c.TrainEvery, TargetSyncEvery = c.TargetSyncEvery,
                }, obs, actions, device, rng);
                uncertainty = MakeMeasure(boot);
                return boot;
            case "ddqn":
                uncertainty = MakeMeasure(null);
                return new Ddqn(ddqn, obs, actions, device, rng);
            case "ddqn-bonus":
                uncertainty = MakeMeasure(null);
                return new DdqnBonus(new DdqnBonusConfig { Ddqn = ddqn with { EpsilonStart = 0, EpsilonEnd = 0 }, BonusScale = c.BonusScale },
                    obs, actions, device, rng, uncertainty);
            default:
                throw new ArgumentException($"Agent '{c.Agent}' is not one of bootddqn, ddqn, ddqn-bonus.");
        }
    }

    private static GridAggregate GridSnapshot(IGridEnvironment grid, IGridEnvironment cells, long[] visits, IUncertainty uncertainty, long steps)
    {
        var keys = new List<int>(); var observations = new List<float[]>();
        for (int r = 0; r < grid.GridRows; r++)
            for (int c = 0; c < grid.GridCols; c++)
                if (cells.ObservationAt(r, c) is { } o) { keys.Add(r * grid.GridCols + c); observations.Add(o); }
        var u = new float[grid.GridRows * grid.GridCols];
        Array.Fill(u, float.NaN);
        var values = uncertainty.State(observations);
        for (int i = 0; i < keys.Count; i++) u[keys[i]] = values[i];
        return new GridAggregate(steps, grid.GridRows, grid.GridCols, (long[])visits.Clone(), u);
    }
}
