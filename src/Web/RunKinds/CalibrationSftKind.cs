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
public sealed record CalibrationSftRunConfig : ComposedRunConfig<CalibrationSftConfig>
{
    [Description("Id of the model (checkpoint) to fine-tune: see the Models page or GET /api/models."), Range(1, int.MaxValue)]
    public int ModelId { get; init; } = 1;
    /// <summary>Stands for <see cref="CalibrationSftConfig.Ladder"/> as one line of text.</summary>
    [Required, Description("Phrase ladder: \"phrase=probability\" entries separated by ';' (default: methods.md §3).")]
    public string Ladder { get; init; } = string.Join("; ", new CalibrationSftConfig().Ladder);

    public override CalibrationSftConfig ToTraining() => Training with
    {
        Ladder = (Ladder ?? "").Split([';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
    };
}

public sealed class CalibrationSftKind : RunKind<CalibrationSftRunConfig>
{
    public override string Name => CalibrationSft.Kind;
    public override string Title => "Calibration fine-tuning (linguistic uncertainty)";
    public override string Description =>
        "Fine-tunes a model on its own answers followed by the ladder phrase nearest to its confidence, then scores the phrases it emits against correctness (unparseable outputs counted, phrase usage stored) and the ladder phrase it finds most likely after each answer (source phrase-ladder). Compare on the Calibration page.";

    public override CalibrationSftRunConfig DefaultConfig() => new();

    protected override WorkEstimate Estimate(CalibrationSftRunConfig config)
    {
        var c = config.ToTraining();
        return WorkEstimate.Of(
            ("greedy answers", c.TrainProblems + 2L * c.TestProblems), // training answers to label, test answers before and after
            ("sampled responses (consistency)", c.Source == ConfidenceSources.Consistency ? (long)(c.TrainProblems + c.TestProblems) * c.ConsistencySamples : 0),
            ("optimizer steps", c.Steps),
            ("training sequences", (long)c.Steps * c.BatchSize));
    }

    protected override void Execute(CalibrationSftRunConfig config, string runDirectory, IRunReporter reporter)
    {
        var db = RequireDatabase(reporter, "stores its pairs in the database");
        var (modelPath, modelName, store) = CalibrationRunStart.Open(db, config.ModelId, reporter);
        reporter.Log($"calibration-sft: base model {config.ModelId} ({modelName})");
        var result = CalibrationSft.Execute(config.ToTraining(), modelPath, runDirectory, reporter, store.OpenSink(db.RunId));
        reporter.Log($"test accuracy {result.TestAccuracy:P1} (base {result.BaseTestAccuracy:P1}); unparseable {result.Unparseable}/{result.TestProblems}; " +
                     $"phrases: {string.Join(", ", result.PhraseCounts.Select(kv => $"{kv.Key} {kv.Value}"))}; " +
                     $"ladder-constrained phrases: {string.Join(", ", result.LadderPhraseCounts.Select(kv => $"{kv.Key} {kv.Value}"))}; " +
                     string.Join("; ", result.Summaries.Select(s => $"{s.Source}: {CalibrationSummary.EceEstimator} {s.Ece15:F3}")));
        db.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
    }
}
