// Run kind "calibration-eval" (issue #5 item 1): a stored model answers MiniMath questions greedily and each chosen
// confidence source (p-true, consistency, likelihood) gives one raw (confidence, correct) pair per question, stored
// as CalibrationPoint rows (Services/CalibrationStore); metrics are recomputed from them at view time (/calibration).
// Executor = Training's CalibrationEval; this file maps the web form (model id, comma-separated sources) onto its config.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using BonStudio.Training.Calibration;
using BonStudio.Training.Runtime;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;

namespace BonStudio.Web.RunKinds;

/// <summary>The web form of <see cref="CalibrationEvalConfig"/>: the model is a Model row; lists are comma-separated text.</summary>
public sealed record CalibrationEvalRunConfig : IRunConfig, IValidatableObject
{
    private static readonly CalibrationEvalConfig Defaults = new();

    [Description("Id of the model (checkpoint) to evaluate: see the Models page or GET /api/models."), Range(1, int.MaxValue)]
    public int ModelId { get; init; } = 1;
    [Required, Description("Confidence sources, comma-separated: p-true (self-evaluation), consistency (agreement of n samples with the greedy answer), likelihood (exp of the mean token log-prob).")]
    public string Sources { get; init; } = string.Join(", ", Defaults.Sources);
    [Range(1, 256), Description("Samples per question for the consistency source (n).")]
    public int ConsistencySamples { get; init; } = Defaults.ConsistencySamples;
    [Range(0.05, 5.0), Description("Sampling temperature of the consistency samples.")]
    public double ConsistencyTemperature { get; init; } = Defaults.ConsistencyTemperature;
    [Range(1, 100_000), Description("Number of MiniMath questions to answer and score.")]
    public int Problems { get; init; } = Defaults.Problems;
    [Required, MinLength(1), Description("MiniMath difficulty levels (1 = easiest, 5 = hardest), mixed evenly; several levels give varied accuracy.")]
    public int[] Levels { get; init; } = Defaults.Levels;
    [Required, AllowedValues("test", "validation"), Description("Split of the evaluated questions (P(True) teaching always uses train).")]
    public string Split { get; init; } = Defaults.Split;
    [Range(8, 4096), Description("Most tokens generated per response.")]
    public int MaxNewTokens { get; init; } = Defaults.MaxNewTokens;
    [Description("First teach a copy of the model the self-evaluation format on its own labelled answers to training questions (needed for p-true unless the checkpoint knows it).")]
    public bool TeachPTrue { get; init; } = Defaults.TeachPTrue;
    [Range(1, 1_000_000), Description("Training questions whose own answers (labelled by the checker) teach the P(True) format.")]
    public int TeachProblems { get; init; } = Defaults.TeachProblems;
    [Range(0, 64), Description("Temperature-1 sampled answers per teaching question, besides the greedy answer.")]
    public int TeachSamplesPerProblem { get; init; } = Defaults.TeachSamplesPerProblem;
    [Range(1, 1_000_000), Description("Optimizer steps teaching the P(True) format.")]
    public int TeachSteps { get; init; } = Defaults.TeachSteps;
    [Range(1, 4096), Description("Examples per teaching step.")]
    public int TeachBatchSize { get; init; } = Defaults.TeachBatchSize;
    [Range(1e-6, 1.0), Description("Peak learning rate (AdamW) of the teaching.")]
    public double TeachLearningRate { get; init; } = Defaults.TeachLearningRate;
    [Range(0, long.MaxValue), Description("Seed for question choice, sampling and teaching.")]
    public long Seed { get; init; } = Defaults.Seed;
    [Description("auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
    public string Device { get; init; } = Defaults.Device;
    [Range(0, 256), Description("libtorch intra-op threads (0 = default).")]
    public int Threads { get; init; } = Defaults.Threads;

    /// <summary>The comma-separated list as an array.</summary>
    public static string[] SplitList(string? text) =>
        (text ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public CalibrationEvalConfig ToTraining() => new()
    {
        Sources = SplitList(Sources), ConsistencySamples = ConsistencySamples, ConsistencyTemperature = ConsistencyTemperature,
        Problems = Problems, Levels = Levels, Split = Split, MaxNewTokens = MaxNewTokens, TeachPTrue = TeachPTrue,
        TeachProblems = TeachProblems, TeachSamplesPerProblem = TeachSamplesPerProblem, TeachSteps = TeachSteps,
        TeachBatchSize = TeachBatchSize, TeachLearningRate = TeachLearningRate, Seed = Seed, Device = Device, Threads = Threads,
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var training = ToTraining();
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(training, new ValidationContext(training), results, validateAllProperties: true);
        return results.Select(r => new ValidationResult(r.ErrorMessage, r.MemberNames.ToArray()));
    }
}

public sealed class CalibrationEvalKind : RunKind<CalibrationEvalRunConfig>
{
    public override string Name => CalibrationEval.Kind;
    public override string Title => "Calibration evaluation";
    public override string Description =>
        "A model answers MiniMath questions greedily; each confidence source (P(True), sample consistency, answer likelihood) gives a (confidence, correct) pair per question. Compare runs on the Calibration page.";

    public override CalibrationEvalRunConfig DefaultConfig() => new();

    protected override void Execute(CalibrationEvalRunConfig config, string runDirectory, IRunReporter reporter)
    {
        var db = reporter as DbRunReporter
            ?? throw new InvalidOperationException("calibration-eval stores its pairs in the database: run it through the job or `run` (a DbRunReporter).");
        var models = new EvaluationStore(db.DbFactory);
        var (modelPath, modelName) = models.ModelPath(config.ModelId);
        models.SetRunModel(db.RunId, config.ModelId);
        var store = new CalibrationStore(db.DbFactory);
        int removed = store.DeletePoints(db.RunId); // a retried run recomputes everything: no duplicated pairs
        if (removed > 0) reporter.Log($"retry: removed {removed} pairs stored by an earlier attempt");
        reporter.Log($"calibration-eval: model {config.ModelId} ({modelName})");
        var result = CalibrationEval.Execute(config.ToTraining(), modelPath, runDirectory, reporter, store.OpenSink(db.RunId));
        reporter.Log($"greedy accuracy {result.Accuracy:P1} on {result.Problems} questions; " +
                     string.Join("; ", result.Summaries.Select(s => $"{s.Source}: {CalibrationSummary.EceEstimator} {s.Ece15:F3}, Brier {s.Brier:F3}")));
        // Store the summary now: a background flush cancelled by the reporter's shutdown could otherwise drop the last batch.
        db.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
    }
}
