// Best-of-N metrics against brute-force enumeration of every k-subset (ties included), known values,
// edge cases, Monte Carlo vs exact, dataset aggregation and the samples JSONL / report format.
using System.Text;
using System.Text.Json;
using BonStudio.Training.Metrics;
using BonStudio.Training.Tasks;

namespace BonStudio.Training.Tests.Metrics;

public class BonMetricsTests
{
    // ------------------------------------------------------------------ brute force (definitions, no tricks)

    private static IEnumerable<int[]> Subsets(int n, int k)
    {
        for (int mask = 0; mask < 1 << n; mask++)
            if (System.Numerics.BitOperations.PopCount((uint)mask) == k)
                yield return Enumerable.Range(0, n).Where(i => (mask >> i & 1) == 1).ToArray();
    }

    private static double BrutePass(bool[] correct, int k) =>
        Subsets(correct.Length, k).Average(s => s.Any(i => correct[i]) ? 1.0 : 0.0);

    private static double BruteBon(double[] scores, bool[] correct, int k) =>
        Subsets(scores.Length, k).Average(s =>
        {
            double max = s.Max(i => scores[i]);
            return s.Where(i => scores[i] == max).Average(i => correct[i] ? 1.0 : 0.0); // uniform tie-break
        });

    private static double BruteMaj(string?[] answers, bool[] correct, int k)
    {
        // An answer's correctness: mean correct flag of all n samples giving it.
        var answerCorrect = answers.Select((a, i) => (a, i)).Where(t => t.a is not null).GroupBy(t => t.a!)
            .ToDictionary(g => g.Key, g => g.Average(t => correct[t.i] ? 1.0 : 0.0));
        return Subsets(answers.Length, k).Average(s =>
        {
            var counts = s.Where(i => answers[i] is not null).GroupBy(i => answers[i]!).Select(g => (g.Key, Count: g.Count())).ToList();
            if (counts.Count == 0) return 0.0;
            int max = counts.Max(c => c.Count);
            return counts.Where(c => c.Count == max).Average(c => answerCorrect[c.Key]);
        });
    }

    private static (double[] Scores, bool[] Correct, string?[] Answers) RandomCase(Random rng, int n, bool consistent)
    {
        var scores = Enumerable.Range(0, n).Select(_ => (double)rng.Next(0, 4)).ToArray(); // few values → many ties
        var answers = Enumerable.Range(0, n).Select(_ => rng.Next(0, 5) switch { 0 => null, var a => $"a{a % 3}" }).ToArray();
        var correct = consistent
            ? answers.Select(a => a == "a0").ToArray()
            : Enumerable.Range(0, n).Select(_ => rng.Next(2) == 1).ToArray();
        return (scores, correct, answers);
    }

    [Fact]
    public void AllCurvesMatchBruteForceOnSmallRandomCasesWithTies()
    {
        var rng = new Random(1234); // only generates test cases
        for (int trial = 0; trial < 120; trial++)
        {
            int n = rng.Next(1, 11);
            var (scores, correct, answers) = RandomCase(rng, n, consistent: trial % 3 != 0);
            var m = BonMetrics.ForPrompt(new PromptSamples($"p{trial}", correct, scores, answers));
            for (int k = 1; k <= n; k++)
            {
                Assert.Equal(BrutePass(correct, k), m.PassAtK[k - 1], 12);
                Assert.Equal(BruteBon(scores, correct, k), m.BonAtK![k - 1], 12);
                Assert.Equal(BruteMaj(answers, correct, k), m.MajAtK![k - 1], 12);
                Assert.Equal(MajorityMethod.Exact, m.MajMethod![k - 1]);
                Assert.Equal(0, m.MajAtKStdErr![k - 1]);
            }
        }
    }

    [Fact]
    public void ExactMajorityMatchesSubsetEnumerationAtLargerN()
    {
        // n = 40 with many answer groups: k ≤ 3 and k ≥ 37 are exact; enumerate the k-subsets (or the removed
        // n − k samples) one by one and compare with the grouped enumeration.
        var rng = new Random(77);
        const int n = 40;
        var answers = Enumerable.Range(0, n).Select(_ => rng.Next(0, 12) switch { 0 => null, var a => $"{a % 9}" }).ToArray();
        var correct = answers.Select((a, i) => a == "1" || (a == "2" && i % 2 == 0)).ToArray(); // group "2" half correct
        var groupCorrect = answers.Select((a, i) => (a, i)).Where(t => t.a is not null).GroupBy(t => t.a!)
            .ToDictionary(g => g.Key, g => g.Average(t => correct[t.i] ? 1.0 : 0.0));
        double Majority(IEnumerable<int> members)
        {
            var counts = members.Where(i => answers[i] is not null).GroupBy(i => answers[i]!).Select(g => (g.Key, Count: g.Count())).ToList();
            if (counts.Count == 0) return 0;
            int max = counts.Max(c => c.Count);
            return counts.Where(c => c.Count == max).Average(c => groupCorrect[c.Key]);
        }
        IEnumerable<int[]> Combinations(int size, int start = 0)
        {
            if (size == 0) { yield return []; yield break; }
            for (int i = start; i <= n - size; i++)
                foreach (var rest in Combinations(size - 1, i + 1)) yield return [i, .. rest];
        }
        var (value, _, method) = BonMetrics.MajAtKCurve(answers, correct, new BonMetricsOptions { MajorityExactLimit = 10_000 });
        foreach (int k in new[] { 1, 2, 3, 37, 38, 39, 40 })
        {
            Assert.Equal(MajorityMethod.Exact, method[k - 1]);
            double brute = k <= n / 2
                ? Combinations(k).Average(s => Majority(s))
                : Combinations(n - k).Average(removed => Majority(Enumerable.Range(0, n).Except(removed)));
            Assert.Equal(brute, value[k - 1], 12);
        }
        Assert.Equal(MajorityMethod.MonteCarlo, method[3]); // C(40, 4) = 91 390 > 10 000
    }

    [Fact]
    public void KnownPassAtKValue()
    {
        Assert.Equal(0.916667, BonMetrics.PassAtK(10, 3, 5), 6);
        Assert.Equal(1 - 21.0 / 252, BonMetrics.PassAtK(10, 3, 5), 14);
        Assert.Equal(0.3, BonMetrics.PassAtK(10, 3, 1), 14);
    }

    [Theory]
    [InlineData(10, 0)]
    [InlineData(10, 10)]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    [InlineData(128, 1)]
    [InlineData(128, 127)]
    public void PassAtKEdgeCases(int n, int c)
    {
        var curve = BonMetrics.PassAtKCurve(n, c);
        Assert.Equal(n, curve.Length);
        if (c == 0) Assert.All(curve, v => Assert.Equal(0, v));
        if (c == n) Assert.All(curve, v => Assert.Equal(1, v));
        Assert.Equal(c > 0 ? 1 : 0, curve[^1]);                 // k = n
        Assert.Equal((double)c / n, curve[0], 12);               // k = 1
        for (int k = 1; k < n; k++) Assert.True(curve[k] >= curve[k - 1] - 1e-15);
        if (n == 128 && c == 1) Assert.Equal(64.0 / 128, curve[63], 12);
    }

    [Fact]
    public void BadPassAtKArgumentsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BonMetrics.PassAtK(10, 11, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => BonMetrics.PassAtK(10, 3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BonMetrics.PassAtK(10, 3, 11));
    }

    [Fact]
    public void BonAtKOnLargeNHasTheClosedForms()
    {
        const int n = 128;
        var scores = Enumerable.Range(0, n).Select(i => (double)((i * 37) % n)).ToArray(); // distinct scores
        // Only the top-scoring sample is correct: BoN@k = P(top in the k-subset) = k/n.
        var onlyTop = scores.Select(s => s == n - 1).ToArray();
        var curve = BonMetrics.BonAtKCurve(scores, onlyTop.Select(c => c ? 1.0 : 0.0).ToArray());
        for (int k = 1; k <= n; k++) Assert.Equal((double)k / n, curve[k - 1], 12);
        // All correct: the weights sum to one for every k.
        Assert.All(BonMetrics.BonAtKCurve(scores, Enumerable.Repeat(1.0, n).ToArray()), v => Assert.Equal(1, v, 12));
        // All scores tied: the verifier is a random pick, BoN@k = mean reward.
        var rewards = Enumerable.Range(0, n).Select(i => i % 4 == 0 ? 1.0 : 0.0).ToArray();
        Assert.All(BonMetrics.BonAtKCurve(new double[n], rewards), v => Assert.Equal(0.25, v, 12));
        Assert.Throws<ArgumentException>(() => BonMetrics.BonAtKCurve([double.NaN], [1]));
    }

    [Fact]
    public void MonteCarloMajorityAgreesWithExactWithinItsStandardError()
    {
        var rng = new Random(99);
        for (int trial = 0; trial < 8; trial++)
        {
            var (_, correct, answers) = RandomCase(rng, 12, consistent: true);
            var (exact, _, exactMethod) = BonMetrics.MajAtKCurve(answers, correct);
            var mcOptions = new BonMetricsOptions { MajorityExactLimit = 0, MajorityMonteCarloDraws = 4000, Seed = trial };
            var (mc, se, method) = BonMetrics.MajAtKCurve(answers, correct, mcOptions, "p");
            Assert.All(exactMethod, m => Assert.Equal(MajorityMethod.Exact, m));
            Assert.All(method, m => Assert.Equal(MajorityMethod.MonteCarlo, m));
            for (int k = 0; k < 12; k++)
                Assert.True(Math.Abs(mc[k] - exact[k]) <= 4.5 * se[k] + 1e-9, $"k={k + 1}: mc {mc[k]} ± {se[k]} vs exact {exact[k]}");
            // Same seed, same estimate.
            Assert.Equal(mc, BonMetrics.MajAtKCurve(answers, correct, mcOptions, "p").Value);
        }
    }

    [Fact]
    public void MajorityMethodFollowsTheSubsetCountLimit()
    {
        var answers = Enumerable.Range(0, 128).Select(i => (string?)$"{i % 7}").ToArray();
        var correct = answers.Select(a => a == "0").ToArray();
        var (value, se, method) = BonMetrics.MajAtKCurve(answers, correct, new BonMetricsOptions { MajorityMonteCarloDraws = 200 });
        // C(128,2) = 8128 ≤ 100 000 < C(128,3) = 341 376.
        Assert.Equal([MajorityMethod.Exact, MajorityMethod.Exact, MajorityMethod.MonteCarlo], method[..3]);
        Assert.Equal([MajorityMethod.MonteCarlo, MajorityMethod.Exact, MajorityMethod.Exact, MajorityMethod.Exact], method[^4..]);
        Assert.Equal(19.0 / 128, value[0], 12);      // maj@1 = share of correct samples (19 of 128 say "0")
        Assert.Equal(0.5, value[^1], 12);            // "0" and "1" tie at 19 of 128: a fair coin
        Assert.True(se[60] > 0);
    }

    [Fact]
    public void DiversityAndMeanReward()
    {
        var m = BonMetrics.ForPrompt(new PromptSamples("p", [true, false, false, true], [1, 2, 3, 4], ["5", "6", null, "5"]));
        Assert.Equal(0.5, m.MeanReward);
        Assert.Equal(2, m.DistinctAnswers);
        Assert.Equal(-(2.0 / 3 * Math.Log(2.0 / 3) + 1.0 / 3 * Math.Log(1.0 / 3)), m.AnswerEntropy, 12);
        var one = BonMetrics.ForPrompt(new PromptSamples("q", [true], [0.3], ["1"]));
        Assert.Equal([1.0], one.PassAtK);
        Assert.Equal([1.0], one.BonAtK!);
        Assert.Equal([1.0], one.MajAtK!);
        Assert.Equal(0, one.AnswerEntropy);
    }

    [Fact]
    public void StudentTQuantilesMatchTables()
    {
        Assert.Equal(12.706, StudentT.Quantile975(1), 3);
        Assert.Equal(4.303, StudentT.Quantile975(2), 3);
        Assert.Equal(3.182, StudentT.Quantile975(3), 2);
        Assert.Equal(2.228, StudentT.Quantile975(10), 3);
        Assert.Equal(2.042, StudentT.Quantile975(30), 3);
        Assert.Equal(1.984, StudentT.Quantile975(100), 3);
        var mi = MeanInterval.Of([0.0, 1.0]);
        Assert.Equal(0.5, mi.Mean);
        Assert.Equal(12.7062 * Math.Sqrt(0.5) / Math.Sqrt(2), mi.HalfWidth!.Value, 3);
        Assert.Null(MeanInterval.Of([0.7]).HalfWidth);
    }

    // ------------------------------------------------------------------------------ JSONL and the report

    private static string Line(object prompt, string response, string? answer, bool correct, double score, string prompt_text = "q") =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["prompt_id"] = prompt, ["prompt"] = prompt_text, ["response"] = response, ["answer"] = answer,
            ["correct"] = correct, ["score"] = score,
        });

    [Fact]
    public void ReportFromJsonlHasTheExactCliShapeAndValues()
    {
        // Prompt "a": correct sample scored highest; prompt 7 (numeric id): nothing correct.
        var text = string.Join("\n",
            Line("a", "x #### 1", "1", true, 0.9), Line(7, "y", null, false, 0.1, "r"),
            Line("a", "x #### 2", "2", false, 0.5), Line(7, "y #### 3", "3", false, 0.2, "r"),
            Line("a", "x #### 2", "2", false, 0.1), Line(7, "y #### 3", "3", false, 0.3, "r")) + "\n\n";
        var report = BonMetricsReport.FromJsonl(new StringReader(text));
        var json = report.ToJson();
        Assert.StartsWith("{\"n_prompts\":2,\"n\":3,\"k\":[1,2,3],\"pass_at_k\":[", json);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(["n_prompts", "n", "k", "pass_at_k", "bon_at_k", "maj_at_k"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        // Prompt a: pass@k = 1/3, 2/3, 1; BoN@k = 1/3, 2/3, 1 (the correct one is the top score); maj@k = 1/3, 1/3, 0.
        // Prompt 7: all zero. Dataset means are halves.
        Assert.Equal([1 / 6.0, 1 / 3.0, 0.5], report.PassAtK.Select(v => Math.Round(v, 12)).ToArray(), new RoundedComparer());
        Assert.Equal([1 / 6.0, 1 / 3.0, 0.5], report.BonAtK.ToArray(), new RoundedComparer());
        Assert.Equal([1 / 6.0, 1 / 6.0, 0.0], report.MajAtK.ToArray(), new RoundedComparer());
    }

    private sealed class RoundedComparer : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) < 1e-12;
        public int GetHashCode(double v) => 0;
    }

    [Fact]
    public void MalformedLinesAreRejectedWithTheirLineNumber()
    {
        var good = Line("a", "r", "1", true, 1);
        JsonlFormatException Fail(string text) =>
            Assert.Throws<JsonlFormatException>(() => BonMetricsReport.FromJsonl(new StringReader(text)));

        var e = Fail($"{good}\n{good}\n{{\"prompt_id\": \"a\", oops\n");
        Assert.Equal(3, e.LineNumber);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("score", Fail($"{good}\n{good.Replace("\"score\":1", "\"score\":\"high\"")}").Message);
        Assert.Contains("'answer'", Fail(good.Replace("\"answer\":\"1\",", "")).Message);
        Assert.Contains("'correct'", Fail(good.Replace("true", "\"yes\"")).Message);
        Assert.Contains("'prompt_id'", Fail(good.Replace("\"prompt_id\":\"a\",", "")).Message);
        Assert.Equal(1, Fail("[1,2]").LineNumber);
        Assert.Contains("no samples", Fail("\n").Message);

        var unequal = Fail(string.Join("\n", Line("a", "r", "1", true, 1), Line("a", "r", "1", true, 1), Line("b", "r", "1", true, 1)));
        Assert.Contains("same n", unequal.Message);
        Assert.Equal(3, unequal.LineNumber);
        Assert.Contains("different prompt text", Fail(string.Join("\n", Line("a", "r", "1", true, 1), Line("a", "r", "1", true, 1, "other"))).Message);
    }
}
