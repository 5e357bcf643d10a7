// Calibration metrics from raw (confidence, correct) pairs (methods.md §3, issue #5 items 2 and 5).
//   ECE   = Σ_b (|B_b|/n) · |acc(B_b) − conf(B_b)|     equal-width bins [b/B, (b+1)/B), the last closed,
//                                                     or equal-mass bins: the sorted confidences split into B
//                                                     near-equal counts (bin b holds sorted items ⌊bn/B⌋..⌊(b+1)n/B⌋−1)
//   MCE   = max over non-empty bins of |acc − conf|
//   Brier = mean (c − y)²
//   AUROC = P(c_correct > c_wrong) + ½ P(c_correct = c_wrong)   (Mann–Whitney with average ranks);
//           undefined (null) when all pairs are correct or all wrong.
//   Selective accuracy vs coverage: keep the most confident pairs; one point per distinct confidence threshold.
// Empty equal-width bins are reported with count 0 and null confidence/accuracy (they add nothing to ECE/MCE);
// equal-mass binning has empty bins only when n < B, and those are left out.
using System.Text.Json;
using System.Text.Json.Serialization;
using BonStudio.Training.Tasks;

namespace BonStudio.Training.Metrics;

public enum Binning { Width, Mass }

public sealed record CalibrationPair(double Confidence, bool Correct);

/// <summary>One reliability-diagram bin; Confidence/Accuracy are the bin means (null when Count = 0).</summary>
public sealed record ReliabilityBin(
    [property: JsonPropertyName("lo")] double Lo,
    [property: JsonPropertyName("hi")] double Hi,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("confidence")] double? Confidence,
    [property: JsonPropertyName("accuracy")] double? Accuracy);

/// <summary>A percentile bootstrap band for one bin's accuracy (null bounds for an empty bin).</summary>
public sealed record BinBand(double? Lower, double? Upper);

public sealed record SelectivePoint(double Threshold, double Coverage, double Accuracy);

/// <summary>The `metrics calibration --json` report: {"n","accuracy","ece","mce","brier","auroc","bins"}.</summary>
public sealed record CalibrationReport(
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("accuracy")] double Accuracy,
    [property: JsonPropertyName("ece")] double Ece,
    [property: JsonPropertyName("mce")] double Mce,
    [property: JsonPropertyName("brier")] double Brier,
    [property: JsonPropertyName("auroc")] double? Auroc,
    [property: JsonPropertyName("bins")] IReadOnlyList<ReliabilityBin> Bins)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>Reads a calibration JSONL file (one model and source) and computes the report.</summary>
    public static CalibrationReport FromJsonl(TextReader reader, int bins = 15, Binning binning = Binning.Width)
    {
        var records = CalibrationJsonl.Read(reader);
        if (records.Count == 0) throw new JsonlFormatException(0, "the file has no calibration pairs");
        var first = records[0];
        foreach (var r in records)
        {
            if (r.Model != first.Model)
                throw new JsonlFormatException(r.LineNumber, $"model '{r.Model}' differs from '{first.Model}' on line {first.LineNumber}; one report covers one model");
            if (r.Source != first.Source)
                throw new JsonlFormatException(r.LineNumber, $"source '{r.Source}' differs from '{first.Source}' on line {first.LineNumber}; one report covers one confidence source");
        }
        return CalibrationMetrics.Report(records.Select(r => new CalibrationPair(r.Confidence, r.Correct)).ToArray(), bins, binning);
    }
}

/// <summary>One line of the calibration import format.</summary>
public sealed record CalibrationRecord(int LineNumber, double Confidence, bool Correct, string? Model, string? Source, string? QuestionId);

public static class CalibrationJsonl
{
    /// <summary>Lines {"confidence": 0..1, "correct": bool, optional "model", "source", "question_id"}; any bad line rejects the file.</summary>
    public static List<CalibrationRecord> Read(TextReader reader) => Jsonl.ReadAll(reader, (o, line) =>
    {
        double c = Jsonl.RequiredDouble(o, "confidence", line);
        if (c is < 0 or > 1) throw new JsonlFormatException(line, $"field 'confidence' must be in [0, 1], got {c}");
        return new CalibrationRecord(line, c, Jsonl.RequiredBool(o, "correct", line),
            Jsonl.OptionalString(o, "model", line), Jsonl.OptionalString(o, "source", line),
            o.TryGetProperty("question_id", out var q) && q.ValueKind != JsonValueKind.Null ? Jsonl.RequiredId(o, "question_id", line) : null);
    });
}

public static class CalibrationMetrics
{
    /// <summary>The estimator, to show beside a number: "15 equal-width bins" / "10 equal-mass bins".</summary>
    public static string DescribeBinning(int bins, Binning binning) =>
        $"{bins} equal-{(binning == Binning.Width ? "width" : "mass")} bins";

    public static CalibrationReport Report(IReadOnlyList<CalibrationPair> pairs, int bins = 15, Binning binning = Binning.Width)
    {
        Validate(pairs);
        var reliability = Bins(pairs, bins, binning);
        return new CalibrationReport(pairs.Count, Accuracy(pairs), Ece(reliability, pairs.Count), Mce(reliability),
            Brier(pairs), Auroc(pairs), reliability);
    }

    public static double Accuracy(IReadOnlyList<CalibrationPair> pairs) { Validate(pairs); return pairs.Average(p => p.Correct ? 1.0 : 0.0); }

    public static double Brier(IReadOnlyList<CalibrationPair> pairs)
    {
        Validate(pairs);
        return pairs.Average(p => (p.Confidence - (p.Correct ? 1 : 0)) * (p.Confidence - (p.Correct ? 1 : 0)));
    }

    public static double Ece(IReadOnlyList<CalibrationPair> pairs, int bins = 15, Binning binning = Binning.Width) =>
        Ece(Bins(pairs, bins, binning), pairs.Count);

    public static double Mce(IReadOnlyList<CalibrationPair> pairs, int bins = 15, Binning binning = Binning.Width) =>
        Mce(Bins(pairs, bins, binning));

    private static double Ece(IReadOnlyList<ReliabilityBin> bins, int n) =>
        bins.Where(b => b.Count > 0).Sum(b => (double)b.Count / n * Math.Abs(b.Accuracy!.Value - b.Confidence!.Value));

    private static double Mce(IReadOnlyList<ReliabilityBin> bins) =>
        bins.Where(b => b.Count > 0).Select(b => Math.Abs(b.Accuracy!.Value - b.Confidence!.Value)).DefaultIfEmpty(0).Max();

    /// <summary>Reliability bins (see the file header for the two binnings).</summary>
    public static IReadOnlyList<ReliabilityBin> Bins(IReadOnlyList<CalibrationPair> pairs, int bins = 15, Binning binning = Binning.Width)
    {
        Validate(pairs);
        var members = BinMembers(pairs, bins, binning);
        return members.Select(m =>
        {
            var (lo, hi, idx) = m;
            if (idx.Count == 0) return new ReliabilityBin(lo, hi, 0, null, null);
            return new ReliabilityBin(lo, hi, idx.Count, idx.Average(i => pairs[i].Confidence), idx.Average(i => pairs[i].Correct ? 1.0 : 0.0));
        }).ToList();
    }

    /// <summary>Which pairs fall in which bin, with the bin's bounds.</summary>
    private static List<(double Lo, double Hi, List<int> Members)> BinMembers(IReadOnlyList<CalibrationPair> pairs, int bins, Binning binning)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var result = new List<(double, double, List<int>)>();
        if (binning == Binning.Width)
        {
            for (int b = 0; b < bins; b++) result.Add(((double)b / bins, (double)(b + 1) / bins, new List<int>()));
            for (int i = 0; i < pairs.Count; i++) result[WidthBin(pairs[i].Confidence, bins)].Item3.Add(i);
            return result;
        }
        var order = Enumerable.Range(0, pairs.Count).OrderBy(i => pairs[i].Confidence).ThenBy(i => i).ToArray();
        int n = order.Length;
        for (int b = 0; b < bins; b++)
        {
            int start = (int)((long)b * n / bins), end = (int)((long)(b + 1) * n / bins);
            if (end == start) continue; // only when n < bins
            var idx = order[start..end].ToList();
            result.Add((pairs[idx[0]].Confidence, pairs[idx[^1]].Confidence, idx));
        }
        return result;
    }

    /// <summary>Bin b holds b/B ≤ c &lt; (b+1)/B, the last also c = 1, with the bounds computed exactly as reported.</summary>
    private static int WidthBin(double c, int bins)
    {
        int b = Math.Clamp((int)Math.Floor(c * bins), 0, bins - 1);
        while (b > 0 && c < (double)b / bins) b--;
        while (b < bins - 1 && c >= (double)(b + 1) / bins) b++;
        return b;
    }

    /// <summary>AUROC of confidence for correct vs wrong (ties count half); null when only one class is present.</summary>
    public static double? Auroc(IReadOnlyList<CalibrationPair> pairs)
    {
        Validate(pairs);
        long positives = pairs.Count(p => p.Correct), negatives = pairs.Count - positives;
        if (positives == 0 || negatives == 0) return null;
        var order = Enumerable.Range(0, pairs.Count).OrderBy(i => pairs[i].Confidence).ToArray();
        double positiveRankSum = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end < order.Length && pairs[order[end]].Confidence == pairs[order[start]].Confidence) end++;
            double averageRank = (start + 1 + end) / 2.0; // ranks start+1..end
            for (int j = start; j < end; j++) if (pairs[order[j]].Correct) positiveRankSum += averageRank;
            start = end;
        }
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Accuracy of the pairs with confidence ≥ threshold, for every distinct threshold (most confident first).</summary>
    public static IReadOnlyList<SelectivePoint> SelectiveAccuracy(IReadOnlyList<CalibrationPair> pairs)
    {
        Validate(pairs);
        var sorted = pairs.OrderByDescending(p => p.Confidence).ToArray();
        var points = new List<SelectivePoint>();
        int kept = 0, correct = 0;
        for (int i = 0; i < sorted.Length;)
        {
            double threshold = sorted[i].Confidence;
            while (i < sorted.Length && sorted[i].Confidence == threshold) { kept++; if (sorted[i].Correct) correct++; i++; }
            points.Add(new SelectivePoint(threshold, (double)kept / sorted.Length, (double)correct / kept));
        }
        return points;
    }

    /// <summary>
    /// Percentile bootstrap (seeded) of each bin's accuracy: the pairs are resampled with replacement and
    /// keep their bin; the band is the [α/2, 1 − α/2] percentiles over resamples in which the bin is non-empty.
    /// </summary>
    public static IReadOnlyList<BinBand> BootstrapBands(IReadOnlyList<CalibrationPair> pairs, int bins = 15, Binning binning = Binning.Width,
        int resamples = 1000, long seed = 0, double alpha = 0.05)
    {
        Validate(pairs);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 1);
        var members = BinMembers(pairs, bins, binning);
        var binOf = new int[pairs.Count];
        for (int b = 0; b < members.Count; b++) foreach (var i in members[b].Members) binOf[i] = b;
        var accuracies = members.Select(_ => new List<double>(resamples)).ToArray();
        var count = new int[members.Count];
        var correct = new int[members.Count];
        var rng = new SplitMix64(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + 1));
        for (int r = 0; r < resamples; r++)
        {
            Array.Clear(count);
            Array.Clear(correct);
            for (int j = 0; j < pairs.Count; j++)
            {
                int i = rng.Below(pairs.Count);
                count[binOf[i]]++;
                if (pairs[i].Correct) correct[binOf[i]]++;
            }
            for (int b = 0; b < members.Count; b++) if (count[b] > 0) accuracies[b].Add((double)correct[b] / count[b]);
        }
        return accuracies.Select(a =>
        {
            if (a.Count == 0) return new BinBand(null, null);
            a.Sort();
            return new BinBand(Percentile(a, alpha / 2), Percentile(a, 1 - alpha / 2));
        }).ToList();
    }

    /// <summary>Linear interpolation between order statistics (numpy's default).</summary>
    private static double Percentile(List<double> sorted, double q)
    {
        double pos = q * (sorted.Count - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private static void Validate(IReadOnlyList<CalibrationPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("no calibration pairs", nameof(pairs));
        for (int i = 0; i < pairs.Count; i++)
            if (!(pairs[i].Confidence is >= 0 and <= 1))
                throw new ArgumentException($"pair {i}: confidence {pairs[i].Confidence} is outside [0, 1]", nameof(pairs));
    }
}
