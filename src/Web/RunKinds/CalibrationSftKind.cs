// Run kind "calibration-sft" (issue #5 item 3): label the model's own answers with the ladder phrase nearest to the
// chosen source's confidence (or the top phrase: the always-confident baseline), fine-tune, then score the phrases the
// model emits. Every pair (emitted phrase → probability, the source's confidence, baselines) is stored as CalibrationPoint
// rows; the fine-tuned checkpoint is registered as a model. Executor = Training's CalibrationSft.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using BonStudio.Training.Calibration;
using BonStudio.Training.Runtime;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;

namespace BonStudio.Web.RunKinds;

/// <summary>The web form of <see cref="CalibrationSftConfig"/>: the model is a Model row; the ladder is "phrase=p" entries separated by ';'.</summary>
public sealed record CalibrationSftRunConfig : IRunConfig, IValidatableObject
{
    private static readonly CalibrationSftConfig Defaults = new();

    [Description("Id of the model (checkpoint) to fine-tune: see the Models page or GET /api/models."), Range(1, int.MaxValue)]
    public int ModelId { get; init; } = 1;
    [Required, AllowedValues("p-true", "consistency", "likelihood"), Description("Confidence source that labels the training answers.")]
    public string Source { get; init; } = Defaults.Source;
    [Required, AllowedValues("source", "always-confident"), Description("How training answers are labelled: source (nearest ladder phrase to the source's confidence) or always-confident (the top phrase everywhere; the baseline).")]
    public string Labels { get; init; } = Defaults.Labels;
    [Required, Description("Phrase ladder: \"phrase=probability\" entries separated by ';' (default: methods.md §3).")]
    public string Ladder { get; init; } = string.Join("; ", Defaults.Ladder);
    [Range(1, 256), Description("Samples per question for the consistency source (n).")]
    public int ConsistencySamples { get; init; } = Defaults.ConsistencySamples;
    [Range(0.05, 5.0), Description("Sampling temperature of the consistency samples.")]
    public double ConsistencyTemperature { get; init; } = Defaults.ConsistencyTemperature;
    [Required, MinLength(1), Description("MiniMath difficulty levels (1 = easiest, 5 = hardest), mixed evenly.")]
    public int[] Levels { get; init; } = Defaults.Levels;
    [Range(16, 1_000_000), Description("Training questions the model answers; its answers + phrases are the fine-tuning data.")]
    public int TrainProblems { get; init; } = Defaults.TrainProblems;
    [Range(1, 100_000), Description("Test questions for the evaluation.")]
    public int TestProblems { get; init; } = Defaults.TestProblems;
    [Range(8, 4096), Description("Most tokens generated per response (including the confidence line).")]
    public int MaxNewTokens { get; init; } = Defaults.MaxNewTokens;
    [Range(1, 1_000_000), Description("Fine-tuning optimizer steps.")]
    public int Steps { get; init; } = Defaults.Steps;
    [Range(1, 4096), Description("Examples per fine-tuning step.")]
    public int BatchSize { get; init; } = Defaults.BatchSize;
    [Range(1e-6, 1.0), Description("Peak learning rate (AdamW) of the fine-tuning.")]
    public double LearningRate { get; init; } = Defaults.LearningRate;
    [Range(1, 1_000_000), Description("p-true only: training questions whose labelled answers teach the self-evaluation format.")]
    public int TeachProblems { get; init; } = Defaults.TeachProblems;
    [Range(0, 64), Description("p-true only: sampled answers per teaching question besides the greedy one.")]
    public int TeachSamplesPerProblem { get; init; } = Defaults.TeachSamplesPerProblem;
    [Range(1, 1_000_000), Description("p-true only: optimizer steps teaching the self-evaluation format.")]
    public int TeachSteps { get; init; } = Defaults.TeachSteps;
    [Range(0, long.MaxValue), Description("Seed for question choice, sampling and fine-tuning.")]
    public long Seed { get; init; } = Defaults.Seed;
    [Description("auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
    public string Device { get; init; } = Defaults.Device;
    [Range(0, 256), Description("libtorch intra-op threads (0 = default).")]
    public int Threads { get; init; } = Defaults.Threads;

    public CalibrationSftConfig ToTraining() => new()
    {
        Source = Source, Labels = Labels,
        Ladder = (Ladder ?? "").Split([';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        ConsistencySamples = ConsistencySamples, ConsistencyTemperature = ConsistencyTemperature, Levels = Levels,
        TrainProblems = TrainProblems, TestProblems = TestProblems, MaxNewTokens = MaxNewTokens, Steps = Steps, BatchSize = BatchSize,
        LearningRate = LearningRate, TeachProblems = TeachProblems, TeachSamplesPerProblem = TeachSamplesPerProblem, TeachSteps = TeachSteps,
        Seed = Seed, Device = Device, Threads = Threads,
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var training = ToTraining();
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(training, new ValidationContext(training), results, validateAllProperties: true);
        return results.Select(r => new ValidationResult(r.ErrorMessage, r.MemberNames.ToArray()));
    }
}

public sealed class CalibrationSftKind : RunKind<CalibrationSftRunConfig>
{
    public override string Name => CalibrationSft.Kind;
    public override string Title => "Calibration fine-tuning (linguistic uncertainty)";
    public override string Description =>
        "Fine-tunes a model on its own answers followed by the ladder phrase nearest to its confidence, then scores the phrases it emits against correctness (unparseable outputs counted, phrase usage stored). Compare on the Calibration page.";

    public override CalibrationSftRunConfig DefaultConfig() => new();

    protected override void Execute(CalibrationSftRunConfig config, string runDirectory, IRunReporter reporter)
    {
        var db = reporter as DbRunReporter
            ?? throw new InvalidOperationException("calibration-sft stores its pairs in the database: run it through the job or `run` (a DbRunReporter).");
        var models = new EvaluationStore(db.DbFactory);
        var (modelPath, modelName) = models.ModelPath(config.ModelId);
        var store = new CalibrationStore(db.DbFactory);
        int removed = store.DeletePoints(db.RunId);
        if (removed > 0) reporter.Log($"retry: removed {removed} pairs stored by an earlier attempt");
        reporter.Log($"calibration-sft: base model {config.ModelId} ({modelName})");
        var result = CalibrationSft.Execute(config.ToTraining(), modelPath, runDirectory, reporter, store.OpenSink(db.RunId));
        reporter.Log($"test accuracy {result.TestAccuracy:P1} (base {result.BaseTestAccuracy:P1}); unparseable {result.Unparseable}/{result.TestProblems}; " +
                     $"phrases: {string.Join(", ", result.PhraseCounts.Select(kv => $"{kv.Key} {kv.Value}"))}; " +
                     string.Join("; ", result.Summaries.Select(s => $"{s.Source}: {CalibrationSummary.EceEstimator} {s.Ece15:F3}")));
        db.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
    }
}
