// Calibration metrics against hand-computed cases and edge cases; the JSONL reader and report shape;
// the phrase ladder (nearest phrase, parsing, unknown phrases).
using System.Text.Json;
using BonStudio.Training.Metrics;
using BonStudio.Training.Tasks;

namespace BonStudio.Training.Tests.Metrics;

public class CalibrationMetricsTests
{
    private static CalibrationPair P(double c, bool y) => new(c, y);

    // Worked by hand in the comments below.
    private static readonly CalibrationPair[] Hand = [P(0.9, true), P(0.9, false), P(0.6, true), P(0.3, false), P(0.1, false)];

    [Fact]
    public void HandComputedEqualWidthCase()
    {
        var r = CalibrationMetrics.Report(Hand, bins: 10, Binning.Width);
        // Bins: [.9,1] conf .9 acc .5 (2 pairs), [.6,.7) .6/1, [.3,.4) .3/0, [.1,.2) .1/0.
        // ECE = 2/5·.4 + 1/5·.4 + 1/5·.3 + 1/5·.1 = .32; MCE = .4.
        Assert.Equal(5, r.N);
        Assert.Equal(0.4, r.Accuracy, 12);
        Assert.Equal(0.32, r.Ece, 12);
        Assert.Equal(0.4, r.Mce, 12);
        Assert.Equal((0.01 + 0.81 + 0.16 + 0.09 + 0.01) / 5, r.Brier, 12);
        // Positives .9, .6 vs negatives .9, .3, .1: wins 1+1+0+1+1 plus a half for .9 = .9 → 4.5 / 6.
        Assert.Equal(0.75, r.Auroc!.Value, 12);
        Assert.Equal(10, r.Bins.Count);
        Assert.Equal([0, 1, 0, 1, 0, 0, 1, 0, 0, 2], r.Bins.Select(b => b.Count));
        Assert.Null(r.Bins[0].Accuracy);                  // empty bin
        Assert.Equal(0.9, r.Bins[9].Confidence!.Value, 12);
        Assert.Equal(0.5, r.Bins[9].Accuracy!.Value, 12);
        Assert.Equal(0.6, r.Bins[6].Lo, 12);
        Assert.Equal(1.0, r.Bins[9].Hi);
        Assert.Equal("10 equal-width bins", CalibrationMetrics.DescribeBinning(10, Binning.Width));
    }

    [Fact]
    public void HandComputedEqualMassCase()
    {
        var r = CalibrationMetrics.Report(Hand, bins: 2, Binning.Mass);
        // Sorted: .1F .3F | .6T .9T .9F → bins of 2 and 3: |0 − .2| and |2/3 − .8|.
        Assert.Equal([2, 3], r.Bins.Select(b => b.Count));
        Assert.Equal((0.1, 0.3), (r.Bins[0].Lo, r.Bins[0].Hi));
        Assert.Equal((0.6, 0.9), (r.Bins[1].Lo, r.Bins[1].Hi));
        Assert.Equal(2.0 / 5 * 0.2 + 3.0 / 5 * (0.8 - 2.0 / 3), r.Ece, 12);
        Assert.Equal(0.2, r.Mce, 12);
        // More bins than pairs: the empty ones are left out, every pair is in its own bin.
        var many = CalibrationMetrics.Bins(Hand, 15, Binning.Mass);
        Assert.Equal(5, many.Count);
        Assert.All(many, b => Assert.Equal(1, b.Count));
    }

    [Fact]
    public void BinEdgesAreHalfOpenWithTheLastClosed()
    {
        var pairs = new[] { P(0, false), P(1.0 / 3, true), P(2.0 / 3, true), P(1, true), P(0.999999, false) };
        var bins = CalibrationMetrics.Bins(pairs, 3, Binning.Width);
        Assert.Equal([1, 1, 3], bins.Select(b => b.Count));
        Assert.Equal(1.0 / 3, bins[1].Lo);
        var ten = CalibrationMetrics.Bins([P(0.3, true), P(0.7, true), P(0.1, true)], 10, Binning.Width);
        Assert.Equal(1, ten[3].Count);
        Assert.Equal(1, ten[7].Count);
        Assert.Equal(1, ten[1].Count);
    }

    [Fact]
    public void AllCorrectAllWrongAndExtremeConfidences()
    {
        var allRightSure = Enumerable.Repeat(P(1, true), 4).ToArray();
        var r = CalibrationMetrics.Report(allRightSure, 10);
        Assert.Equal((1.0, 0.0, 0.0, 0.0), (r.Accuracy, r.Ece, r.Mce, r.Brier));
        Assert.Null(r.Auroc); // one class: AUROC undefined, reported as null
        var allWrongSure = Enumerable.Repeat(P(1, false), 4).ToArray();
        var w = CalibrationMetrics.Report(allWrongSure, 10);
        Assert.Equal((0.0, 1.0, 1.0, 1.0), (w.Accuracy, w.Ece, w.Mce, w.Brier));
        Assert.Null(w.Auroc);
        var allWrongZero = CalibrationMetrics.Report(Enumerable.Repeat(P(0, false), 3).ToArray(), 15);
        Assert.Equal((0.0, 0.0), (allWrongZero.Ece, allWrongZero.Brier));
        Assert.Equal(3, allWrongZero.Bins[0].Count);
        Assert.Throws<ArgumentException>(() => CalibrationMetrics.Report([P(1.5, true)]));
        Assert.Throws<ArgumentException>(() => CalibrationMetrics.Report([]));
    }

    [Fact]
    public void AurocHandlesTiesAndMatchesPairCounting()
    {
        Assert.Equal(0.5, CalibrationMetrics.Auroc([P(0.7, true), P(0.7, false), P(0.7, true)])!.Value, 12);
        Assert.Equal(1.0, CalibrationMetrics.Auroc([P(0.8, true), P(0.2, false)])!.Value);
        Assert.Equal(0.0, CalibrationMetrics.Auroc([P(0.2, true), P(0.8, false)])!.Value);
        var rng = new Random(5);
        for (int t = 0; t < 30; t++)
        {
            var pairs = Enumerable.Range(0, rng.Next(2, 40)).Select(_ => P(rng.Next(0, 6) / 5.0, rng.Next(2) == 1)).ToArray();
            var pos = pairs.Where(p => p.Correct).ToArray();
            var neg = pairs.Where(p => !p.Correct).ToArray();
            var auc = CalibrationMetrics.Auroc(pairs);
            if (pos.Length == 0 || neg.Length == 0) { Assert.Null(auc); continue; }
            double wins = pos.Sum(a => neg.Sum(b => a.Confidence > b.Confidence ? 1 : a.Confidence == b.Confidence ? 0.5 : 0));
            Assert.Equal(wins / (pos.Length * neg.Length), auc!.Value, 12);
        }
    }

    [Fact]
    public void SelectiveAccuracyKeepsTheMostConfidentFirst()
    {
        var curve = CalibrationMetrics.SelectiveAccuracy(Hand);
        Assert.Equal([0.9, 0.6, 0.3, 0.1], curve.Select(p => p.Threshold));
        Assert.Equal([0.4, 0.6, 0.8, 1.0], curve.Select(p => p.Coverage).Select(c => Math.Round(c, 12)));
        Assert.Equal([0.5, 2.0 / 3, 0.5, 0.4], curve.Select(p => p.Accuracy).Select(a => Math.Round(a, 12)).ToArray(),
            new ToleranceComparer());
    }

    private sealed class ToleranceComparer : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) < 1e-9;
        public int GetHashCode(double v) => 0;
    }

    [Fact]
    public void BootstrapBandsAreSeededAndContainTheBinAccuracy()
    {
        var rng = new Random(3);
        var pairs = Enumerable.Range(0, 300).Select(_ => { double c = rng.NextDouble(); return P(c, rng.NextDouble() < c); }).ToArray();
        var bins = CalibrationMetrics.Bins(pairs, 10);
        var a = CalibrationMetrics.BootstrapBands(pairs, 10, resamples: 300, seed: 9);
        var b = CalibrationMetrics.BootstrapBands(pairs, 10, resamples: 300, seed: 9);
        var c = CalibrationMetrics.BootstrapBands(pairs, 10, resamples: 300, seed: 10);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        for (int i = 0; i < 10; i++)
        {
            Assert.InRange(bins[i].Accuracy!.Value, a[i].Lower!.Value - 1e-12, a[i].Upper!.Value + 1e-12);
            Assert.True(a[i].Upper - a[i].Lower > 0.05, "a bin of ~30 pairs has a real band");
        }
        var band = CalibrationMetrics.BootstrapBands([P(0.95, true), P(0.92, true)], 10, resamples: 50);
        Assert.Equal(new BinBand(1, 1), band[9]);
        Assert.Equal(new BinBand(null, null), band[0]);
    }

    // ------------------------------------------------------------------------------ JSONL and the report

    [Fact]
    public void ReportFromJsonlHasTheExactCliShape()
    {
        var text = string.Join("\n",
            "{\"confidence\": 0.9, \"correct\": true, \"model\": \"m\", \"source\": \"ptrue\", \"question_id\": 1}",
            "{\"confidence\": 0.9, \"correct\": false, \"model\": \"m\", \"source\": \"ptrue\"}",
            "{\"confidence\": 0.6, \"correct\": true, \"model\": \"m\", \"source\": \"ptrue\"}",
            "{\"confidence\": 0.3, \"correct\": false, \"model\": \"m\", \"source\": \"ptrue\"}",
            "{\"confidence\": 0.1, \"correct\": 0, \"model\": \"m\", \"source\": \"ptrue\", \"question_id\": \"q5\"}");
        var report = CalibrationReport.FromJsonl(new StringReader(text), bins: 10, Binning.Width);
        Assert.Equal(CalibrationMetrics.Report(Hand, 10).ToJson(), report.ToJson());
        using var doc = JsonDocument.Parse(report.ToJson());
        Assert.Equal(["n", "accuracy", "ece", "mce", "brier", "auroc", "bins"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        var bin = doc.RootElement.GetProperty("bins")[9];
        Assert.Equal(["lo", "hi", "count", "confidence", "accuracy"], bin.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("bins")[0].GetProperty("accuracy").ValueKind);
        Assert.StartsWith("{\"n\":5,\"accuracy\":0.4,\"ece\":0.32", report.ToJson());
    }

    [Theory]
    [InlineData("{\"confidence\": 1.5, \"correct\": true}", "[0, 1]")]
    [InlineData("{\"confidence\": -0.1, \"correct\": true}", "[0, 1]")]
    [InlineData("{\"confidence\": \"high\", \"correct\": true}", "'confidence'")]
    [InlineData("{\"confidence\": 0.5}", "'correct'")]
    [InlineData("{\"confidence\": 0.5, \"correct\": true, \"source\": \"other\"}", "source")]
    [InlineData("{\"confidence\": 0.5, \"correct\": true", "JSON")]
    public void MalformedCalibrationLinesRejectTheFile(string bad, string mentions)
    {
        var text = "{\"confidence\": 0.5, \"correct\": true}\n{\"confidence\": 1, \"correct\": false}\n" + bad + "\n";
        var e = Assert.Throws<JsonlFormatException>(() => CalibrationReport.FromJsonl(new StringReader(text)));
        Assert.Equal(3, e.LineNumber);
        Assert.Contains(mentions, e.Message);
    }

    // ----------------------------------------------------------------------------------------- phrase ladder

    [Theory]
    [InlineData(0.93, "almost certain")]
    [InlineData(1.0, "almost certain")]
    [InlineData(0.0, "almost no chance")]
    [InlineData(0.37, "probably not")]
    [InlineData(0.66, "likely")]
    [InlineData(0.56, "better than even")]
    [InlineData(0.075, "highly unlikely")]
    public void NearestPhrase(double confidence, string phrase) =>
        Assert.Equal(phrase, PhraseLadder.Default.Nearest(confidence).Phrase);

    [Theory]
    [InlineData("12 #### highly unlikely", 0.05)]
    [InlineData("The answer is 12. Highly unlikely.", 0.05)]
    [InlineData("It's LIKELY!", 0.70)]
    [InlineData("unlikely", 0.20)]
    [InlineData("almost-certain", 0.95)]
    [InlineData("Highly\nlikely", 0.90)]
    [InlineData("likely... on reflection, about even", 0.50)]
    [InlineData("there is a very good chance", 0.80)]
    [InlineData("little chance (I guess)", 0.10)]
    [InlineData("certainly", null)]
    [InlineData("probably", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void ParsePhraseFromModelText(string? text, double? probability) =>
        Assert.Equal(probability, PhraseLadder.Default.ToProbability(text));

    [Fact]
    public void EveryLadderPhraseRoundTripsAndCustomLaddersWork()
    {
        foreach (var p in PhraseLadder.Default.Phrases)
        {
            Assert.Equal(p, PhraseLadder.Default.Parse($"Answer: 42. {p.Phrase.ToUpperInvariant()}."));
            Assert.Equal(p, PhraseLadder.Default.Nearest(p.Probability));
        }
        Assert.Equal(11, PhraseLadder.Default.Phrases.Count);
        var custom = new PhraseLadder([new("sure", 1.0), new("no idea", 0.5), new("not sure", 0.3)]);
        Assert.Equal(0.3, custom.ToProbability("I am not sure"));
        Assert.Equal(1.0, custom.ToProbability("sure!"));
        Assert.Null(custom.ToProbability("likely"));
        // An exact tie (binary fractions) goes to the less confident phrase.
        Assert.Equal("no idea", new PhraseLadder([new("sure", 0.75), new("no idea", 0.25)]).Nearest(0.5).Phrase);
        Assert.Throws<ArgumentException>(() => new PhraseLadder([new("a", 0.5), new("A", 0.4)]));
        Assert.Throws<ArgumentException>(() => new PhraseLadder([new("a", 1.5)]));
        Assert.Throws<ArgumentException>(() => new PhraseLadder([]));
    }
}
