// Run kind "calibration-eval" (issue #5 item 1): a stored model answers MiniMath questions greedily and each chosen
// confidence source (p-true, consistency, likelihood) gives one raw (confidence, correct) pair per question, stored
// as CalibrationPoint rows (Services/CalibrationStore); metrics are recomputed from them at view time (/calibration).
// Executor = Training's CalibrationEval; the web config composes its config record, adding the model id and a
// comma-separated form of the sources.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using BonStudio.Training.Calibration;
using BonStudio.Training.Runtime;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;

namespace BonStudio.Web.RunKinds;

/// <summary>The web form of <see cref="CalibrationEvalConfig"/>: the model is a Model row; the sources are comma-separated text.</summary>
public sealed record CalibrationEvalRunConfig : ComposedRunConfig<CalibrationEvalConfig>
{
    [Description("Id of the model (checkpoint) to evaluate: see the Models page or GET /api/models."), Range(1, int.MaxValue)]
    public int ModelId { get; init; } = 1;
    /// <summary>Stands for <see cref="CalibrationEvalConfig.Sources"/> as one line of text.</summary>
    [Required, Description("Confidence sources, comma-separated: p-true (self-evaluation), consistency (agreement of n samples with the greedy answer), likelihood (exp of the mean token log-prob).")]
    public string Sources { get; init; } = string.Join(", ", new CalibrationEvalConfig().Sources);

    /// <summary>The comma-separated list as an array.</summary>
    public static string[] SplitList(string? text) =>
        (text ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override CalibrationEvalConfig ToTraining() => Training with { Sources = SplitList(Sources) };
}

public sealed class CalibrationEvalKind : RunKind<CalibrationEvalRunConfig>
{
    public override string Name => CalibrationEval.Kind;
    public override string Title => "Calibration evaluation";
    public override string Description =>
        "A model answers MiniMath questions greedily; each confidence source (P(True), sample consistency, answer likelihood) gives a (confidence, correct) pair per question. Compare runs on the Calibration page.";

    public override CalibrationEvalRunConfig DefaultConfig() => new();

    protected override WorkEstimate Estimate(CalibrationEvalRunConfig config)
    {
        var c = config.ToTraining();
        bool teach = c.TeachPTrue && c.Sources.Contains(ConfidenceSources.PTrue);
        return WorkEstimate.Of(
            ("greedy answers", c.Problems),
            ("sampled responses (consistency)", c.Sources.Contains(ConfidenceSources.Consistency) ? (long)c.Problems * c.ConsistencySamples : 0),
            ("sampled responses (P(True) teaching data)", teach ? (long)c.TeachProblems * c.TeachSamplesPerProblem : 0),
            ("optimizer steps (P(True) teaching)", teach ? c.TeachSteps : 0));
    }

    protected override void Execute(CalibrationEvalRunConfig config, string runDirectory, IRunReporter reporter)
    {
        var db = RequireDatabase(reporter, "stores its pairs in the database");
        var (modelPath, modelName, store) = CalibrationRunStart.Open(db, config.ModelId, reporter);
        new EvaluationStore(db.DbFactory).SetRunModel(db.RunId, config.ModelId);
        reporter.Log($"calibration-eval: model {config.ModelId} ({modelName})");
        var result = CalibrationEval.Execute(config.ToTraining(), modelPath, runDirectory, reporter, store.OpenSink(db.RunId));
        reporter.Log($"greedy accuracy {result.Accuracy:P1} on {result.Problems} questions; " +
                     string.Join("; ", result.Summaries.Select(s => $"{s.Source}: {CalibrationSummary.EceEstimator} {s.Ece15:F3}, Brier {s.Brier:F3}")));
        // Store the summary now: a background flush cancelled by the reporter's shutdown could otherwise drop the last batch.
        db.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
    }
}

/// <summary>What both calibration kinds do first.</summary>
internal static class CalibrationRunStart
{
    /// <summary>Resolves the model row to its checkpoint and drops the pairs an earlier attempt of this run stored
    /// (a retried run recomputes everything, so no pair is stored twice).</summary>
    public static (string ModelPath, string ModelName, CalibrationStore Store) Open(DbRunReporter db, int modelId, IRunReporter reporter)
    {
        var (modelPath, modelName) = new EvaluationStore(db.DbFactory).ModelPath(modelId);
        var store = new CalibrationStore(db.DbFactory);
        int removed = store.DeletePoints(db.RunId);
        if (removed > 0) reporter.Log($"retry: removed {removed} pairs stored by an earlier attempt");
        return (modelPath, modelName, store);
    }
}
