// End-of-run summary of one source's (confidence, correct) pairs, reported as run metrics
// calibration/{source}/ece (15 equal-width bins, the torchmetrics default), .../mce, .../brier, .../auroc,
// .../mean_confidence. Computed by the shared Metrics/CalibrationMetrics module; viewers recompute everything from
// the raw pairs with the estimator they choose, these numbers are a convenience.
using BonStudio.Training.Metrics;

namespace BonStudio.Training.Calibration;

/// <summary>One source's summary.</summary>
/// <param name="Ece15">ECE with 15 equal-width bins [lo, hi), the last closed.</param>
/// <param name="Mce15">MCE over the same bins.</param>
/// <param name="Brier">Mean (c − y)².</param>
/// <param name="Auroc">AUROC of confidence for correct vs wrong (ties count ½); NaN when all are correct or all wrong.</param>
public sealed record CalibrationSummary(string Source, int Count, double Accuracy, double MeanConfidence, double Ece15, double Mce15, double Brier, double Auroc)
{
    public const string EceEstimator = "ECE, 15 equal-width bins";

    public static CalibrationSummary Of(string source, IReadOnlyList<CalibrationRecord> records)
    {
        if (records.Count == 0) return new CalibrationSummary(source, 0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        var pairs = records.Select(r => new CalibrationPair(r.Confidence, r.Correct)).ToArray();
        var report = CalibrationMetrics.Report(pairs, bins: 15, Binning.Width);
        return new CalibrationSummary(source, report.N, report.Accuracy, pairs.Average(p => p.Confidence), report.Ece, report.Mce, report.Brier,
            report.Auroc ?? double.NaN);
    }

    /// <summary>Reports calibration/{source}/ece, mce, brier, auroc (when defined), mean_confidence.</summary>
    public void Report(Runtime.IRunReporter reporter, long step)
    {
        if (Count == 0) return;
        reporter.Metric($"calibration/{Source}/ece", step, Ece15);
        reporter.Metric($"calibration/{Source}/mce", step, Mce15);
        reporter.Metric($"calibration/{Source}/brier", step, Brier);
        if (double.IsFinite(Auroc)) reporter.Metric($"calibration/{Source}/auroc", step, Auroc);
        reporter.Metric($"calibration/{Source}/mean_confidence", step, MeanConfidence);
    }
}
