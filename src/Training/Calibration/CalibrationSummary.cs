// End-of-run summary of one source's (confidence, correct) pairs, reported as run metrics
// calibration/{source}/ece (15 equal-width bins, the torchmetrics default), .../brier, .../auroc, .../mean_confidence.
// Viewers recompute everything from the raw pairs with the estimator they choose; these numbers are a convenience.
// TODO(merge tasks): delegate to Metrics/CalibrationMetrics (the shared, tested module) once it is in main; until
// then this file holds the three estimators the run summary needs, and nothing else in Calibration/ computes metrics.
namespace BonStudio.Training.Calibration;

/// <summary>One source's summary.</summary>
/// <param name="Ece15">ECE with 15 equal-width bins [lo, hi), the last closed.</param>
/// <param name="Brier">Mean (c − y)².</param>
/// <param name="Auroc">AUROC of confidence for correct vs wrong (ties count ½); NaN when all are correct or all wrong.</param>
public sealed record CalibrationSummary(string Source, int Count, double Accuracy, double MeanConfidence, double Ece15, double Brier, double Auroc)
{
    public const string EceEstimator = "ECE, 15 equal-width bins";

    public static CalibrationSummary Of(string source, IReadOnlyList<CalibrationRecord> records)
    {
        int n = records.Count;
        if (n == 0) return new CalibrationSummary(source, 0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        double accuracy = records.Average(r => r.Correct ? 1.0 : 0.0);
        double meanConfidence = records.Average(r => r.Confidence);
        double brier = records.Average(r => Math.Pow(r.Confidence - (r.Correct ? 1 : 0), 2));

        const int bins = 15;
        var count = new int[bins]; var conf = new double[bins]; var acc = new double[bins];
        foreach (var r in records)
        {
            int b = Math.Min(bins - 1, (int)Math.Floor(r.Confidence * bins));
            count[b]++; conf[b] += r.Confidence; acc[b] += r.Correct ? 1 : 0;
        }
        double ece = 0;
        for (int b = 0; b < bins; b++) if (count[b] > 0) ece += Math.Abs(acc[b] - conf[b]) / n;

        // AUROC by the rank-sum (Mann-Whitney) form with mid-ranks for ties.
        int positives = records.Count(r => r.Correct), negatives = n - positives;
        double auroc = double.NaN;
        if (positives > 0 && negatives > 0)
        {
            var sorted = records.OrderBy(r => r.Confidence).ToList();
            double rankSumPositive = 0;
            for (int i = 0; i < n;)
            {
                int j = i;
                while (j < n && sorted[j].Confidence == sorted[i].Confidence) j++;
                double midRank = (i + 1 + j) / 2.0; // ranks i+1..j
                for (int k = i; k < j; k++) if (sorted[k].Correct) rankSumPositive += midRank;
                i = j;
            }
            auroc = (rankSumPositive - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
        }
        return new CalibrationSummary(source, n, accuracy, meanConfidence, ece, brier, auroc);
    }

    /// <summary>Reports calibration/{source}/ece, brier, auroc (when defined), mean_confidence.</summary>
    public void Report(Runtime.IRunReporter reporter, long step)
    {
        reporter.Metric($"calibration/{Source}/ece", step, Ece15);
        reporter.Metric($"calibration/{Source}/brier", step, Brier);
        if (double.IsFinite(Auroc)) reporter.Metric($"calibration/{Source}/auroc", step, Auroc);
        reporter.Metric($"calibration/{Source}/mean_confidence", step, MeanConfidence);
    }
}
