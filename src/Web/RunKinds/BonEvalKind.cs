// Run kind "bon-eval" (issue #3 item 1): draw n samples per prompt from a stored model at one or more temperatures,
// grade each with the task's checker, score each with the chosen verifiers, store every sample (SampleSet/Sample/
// ScoreLayer/Score, exactly once: a resumed run skips stored sets), then store the summary metrics
// bon/pass_at_{k}, bon/bon_at_{k}@{verifier}, bon/maj_at_{k} for k = 1, 2, 4, ..., n (methods.md §1).
// Executor = Training's BonEvaluation; storage = Services/EvaluationStore.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Evaluation;
using BonStudio.Training.Models.Loaders;
using BonStudio.Training.Runtime;
using BonStudio.Training.Tasks;
using BonStudio.Training.Tasks.Answers;
using BonStudio.Training.Verifiers;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.RunKinds;

/// <summary>Configuration of a Best-of-N evaluation.</summary>
public sealed record BonEvalConfig : IRunConfig, IValidatableObject
{
    // model
    [Description("Id of the model (checkpoint) to evaluate: see the Models page or GET /api/models."), Range(1, int.MaxValue)]
    public int ModelId { get; init; } = 1;

    // problems
    [Description("Where the prompts come from: a generated MiniMath split, or an imported data set (datasetId)."), AllowedValues("minimath", "dataset")]
    public string ProblemSource { get; init; } = "minimath";
    [Description("MiniMath split (disjoint from the others)."), AllowedValues("train", "validation", "test")]
    public string Split { get; init; } = "test";
    [Description("Lowest MiniMath difficulty level included."), Range(1, 5)]
    public int MinLevel { get; init; } = 1;
    [Description("Highest MiniMath difficulty level included."), Range(1, 5)]
    public int MaxLevel { get; init; } = 3;
    [Description("Number of problems (MiniMath: generated; data set: the first ones)."), Range(1, 100_000)]
    public int Count { get; init; } = 200;
    [Description("Id of an imported data set (problemSource = dataset)."), Range(0, int.MaxValue)]
    public int DatasetId { get; init; } = 0;
    [Description("Seed of the MiniMath generator: keep it fixed so evaluations of different models see the same problems (sft uses its own seed).")]
    public long ProblemSeed { get; init; } = 1;

    // sampling
    [Description("Samples per prompt (n): pass@k, BoN@k and maj@k are exact for every k ≤ n."), Range(1, 512)]
    public int N { get; init; } = 32;
    [Description("Sampling temperatures, comma-separated; one sample set per temperature, e.g. \"0.7, 1.0\"."), Required]
    public string Temperatures { get; init; } = "1.0";
    [Description("Nucleus sampling: keep the smallest token set with this probability mass (1 = off)."), Range(0.01, 1.0)]
    public double TopP { get; init; } = 1.0;
    [Description("Keep only the k most likely tokens (0 = off)."), Range(0, 100_000)]
    public int TopK { get; init; } = 0;
    [Description("Most tokens generated per sample (capped by the model's context)."), Range(1, 4096)]
    public int MaxNewTokens { get; init; } = 96;

    // checker
    [Description("How samples are graded: auto (the data set's own checker: code for humaneval, the answer format otherwise), answer (extract and compare the final answer), code (run the HumanEval tests on prompt + sample in the sandbox; the verdict and its reason are stored as the sample's extracted answer)."), AllowedValues("auto", "answer", "code")]
    public string Checker { get; init; } = "auto";
    [Description("Code checker: wall-clock and CPU seconds per sample before the sandbox kills it."), Range(1, 300)]
    public int CodeTimeoutSeconds { get; init; } = 10;
    [Description("Code checker: cut each sample at HumanEval's stop sequences (\\nclass, \\ndef, \\n#, \\nif, \\nprint) before running it, as Chen et al. (2021) did.")]
    public bool CodeStopSequences { get; init; } = true;

    // verifiers
    [Description("Score with the checker as oracle verifier (1 correct, 0 wrong).")]
    public bool Oracle { get; init; } = true;
    [Description("Also score with a noisy oracle flipping each verdict with this probability ε (0 = no noisy oracle)."), Range(0.0, 1.0)]
    public double NoisyOracleEpsilon { get; init; } = 0.0;
    [Description("Model id of a learned reward model (a `verifier` run's checkpoint) to score with (0 = none)."), Range(0, int.MaxValue)]
    public int RewardModelId { get; init; } = 0;

    // runtime
    [Description("Seed of the sampler (each prompt's stream depends only on seed, temperature and prompt id) and of the noisy oracle.")]
    public long Seed { get; init; } = 1;
    [Description("auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
    public string Device { get; init; } = "auto";
    [Description("libtorch intra-op threads (0 = default)."), Range(0, 256)]
    public int Threads { get; init; } = 0;

    /// <summary>The parsed temperature list (validated by <see cref="Validate"/>).</summary>
    public IReadOnlyList<double> TemperatureList() => ParseTemperatures(Temperatures, out _) ?? [];

    public static IReadOnlyList<double>? ParseTemperatures(string? text, out string? error)
    {
        error = null;
        var parts = (text ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) { error = "give at least one temperature, e.g. \"1.0\""; return null; }
        var list = new List<double>();
        foreach (var p in parts)
        {
            if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) || !(t >= 0 && t <= 10))
            { error = $"'{p}' is not a temperature in [0, 10]"; return null; }
            if (list.Contains(t)) { error = $"temperature {p} is listed twice"; return null; }
            list.Add(t);
        }
        if (list.Count > 16) { error = "at most 16 temperatures"; return null; }
        return list;
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ParseTemperatures(Temperatures, out var error) is null)
            yield return new ValidationResult($"The field temperatures: {error}.", [nameof(Temperatures)]);
        if (MinLevel > MaxLevel)
            yield return new ValidationResult($"The field minLevel ({MinLevel}) must not exceed maxLevel ({MaxLevel}).", [nameof(MinLevel)]);
        if (ProblemSource == "dataset" && DatasetId < 1)
            yield return new ValidationResult("The field datasetId must name an imported data set when problemSource is 'dataset'.", [nameof(DatasetId)]);
        if (Checker == "code" && ProblemSource == "minimath")
            yield return new ValidationResult("The field checker: 'code' needs an imported humaneval data set (problemSource = dataset).", [nameof(Checker)]);
        if (!Oracle && NoisyOracleEpsilon == 0 && RewardModelId == 0)
            yield return new ValidationResult("Choose at least one verifier: oracle, a noisy oracle (ε > 0) or a reward model.", [nameof(Oracle)]);
    }
}

public sealed class BonEvalKind : RunKind<BonEvalConfig>
{
    public const string KindName = "bon-eval";
    public override string Name => KindName;
    public override string Title => "Best-of-N evaluation";
    public override string Description =>
        "Draw n samples per prompt from a model, grade and score them with verifiers, store every sample, and measure pass@k, BoN@k and maj@k for all k.";

    public override BonEvalConfig DefaultConfig() => new();

    protected override WorkEstimate Estimate(BonEvalConfig c)
    {
        long samples = (long)c.Count * c.N * Math.Max(1, c.TemperatureList().Count);
        int verifiers = (c.Oracle ? 1 : 0) + (c.NoisyOracleEpsilon > 0 ? 1 : 0) + (c.RewardModelId > 0 ? 1 : 0);
        return WorkEstimate.Of(("sampled responses", samples), ("verifier scores", samples * verifiers));
    }

    protected override void Execute(BonEvalConfig config, string runDirectory, IRunReporter reporter)
    {
        var db = reporter as DbRunReporter
            ?? throw new InvalidOperationException("bon-eval stores its samples in the database: run it through the job or `run` (a DbRunReporter).");
        var store = new EvaluationStore(db.DbFactory);
        var device = TorchRuntime.ResolveDevice(config.Device);
        TorchRuntime.SetThreads(config.Threads);

        // Inputs: the model row and the problems.
        var (modelPath, modelName) = store.ModelPath(config.ModelId);
        var problems = LoadProblems(config, store);
        reporter.Log($"bon-eval: model {config.ModelId} ({modelName}), {problems.Count} problems, n = {config.N}, T = {config.Temperatures}");
        store.SetRunModel(db.RunId, config.ModelId);

        using var loaded = ModelLoader.Load(modelPath, null, device);
        var verifiers = new List<IVerifier>();
        try
        {
            if (config.Oracle) verifiers.Add(new OracleVerifier());
            if (config.NoisyOracleEpsilon > 0) verifiers.Add(new NoisyOracleVerifier(config.NoisyOracleEpsilon, config.Seed));
            if (config.RewardModelId > 0) verifiers.Add(EvaluationVerifiers.LoadRewardModel(store, config.RewardModelId, device));

            var options = new BonEvalOptions
            {
                N = config.N, Temperatures = config.TemperatureList(), TopP = config.TopP, TopK = config.TopK,
                MaxNewTokens = config.MaxNewTokens, Seed = config.Seed,
            };
            using var sink = store.OpenSink(db.RunId, verifiers.Select(v => (v.Name, v is OracleVerifier or NoisyOracleVerifier ? null : store.ProducedByRun(config.RewardModelId))).ToList());
            var done = sink.StoredSets();
            if (done.Count > 0) reporter.Log($"resuming: {done.Count} sample sets already stored are skipped");
            BonEvaluation.Run(loaded.Model, loaded.Tokenizer, problems, options, verifiers, sink, reporter,
                (key, t) => done.Contains((key, t)));
            sink.Flush();
        }
        finally
        {
            foreach (var v in verifiers) (v as IDisposable)?.Dispose();
        }

        // Summary metrics from what was stored (the same numbers the API and pages compute).
        foreach (var (name, step, value) in new EvaluationService(db.DbFactory).SummaryMetrics(db.RunId))
            reporter.Metric(name, step, value);
        reporter.Progress(1, "done");
        // Store them now: a background flush cancelled by the reporter's shutdown could otherwise drop the last batch.
        db.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    private static List<EvalProblem> LoadProblems(BonEvalConfig config, EvaluationStore store)
    {
        if (config.ProblemSource == "minimath")
        {
            var levels = Enumerable.Range(config.MinLevel, config.MaxLevel - config.MinLevel + 1).ToArray();
            return MiniMath.Generate(config.Split, config.Count, levels, config.ProblemSeed).Select(p => new EvalProblem(
                p.Id, MiniMath.Prompt(p), p.Answer, p.Level,
                response => { var g = Grader.Grade(MiniMathChecker.Instance, p.Answer, response); return (g.Extracted, g.Correct); })).ToList();
        }
        var (suite, rows) = store.DatasetProblems(config.DatasetId, config.Count);
        if (config.Checker == "code" || (config.Checker == "auto" && suite == HumanEval.Format))
        {
            if (suite != HumanEval.Format)
                throw new ArgumentException($"checker: 'code' runs HumanEval tests, but data set {config.DatasetId} is '{suite}' (use checker auto or answer).");
            var limits = new SandboxLimits { WallClock = TimeSpan.FromSeconds(config.CodeTimeoutSeconds), CpuSeconds = config.CodeTimeoutSeconds };
            var code = new CodeVerifier(new CodeVerifierConfig { Limits = limits });
            return rows.Select(p =>
            {
                var task = HumanEval.ToTask(p.ExternalId, p.Prompt, p.ReferenceAnswer, p.ReferenceSolution);
                var problem = code.ToEvalProblem(task);
                return config.CodeStopSequences
                    ? problem with { Difficulty = p.Difficulty, Check = response => problem.Check(HumanEval.Truncate(response)) }
                    : problem with { Difficulty = p.Difficulty };
            }).ToList();
        }
        if (suite == HumanEval.Format)
            throw new ArgumentException($"checker: data set {config.DatasetId} is humaneval; its samples are graded by running code (checker auto or code).");
        var checker = Grader.For(suite);
        return rows.Select(p => new EvalProblem(p.ExternalId, p.Prompt, p.ReferenceAnswer, p.Difficulty,
            response => { var g = Grader.Grade(checker, p.ReferenceAnswer, response); return (g.Extracted, g.Correct); })).ToList();
    }
}
