// The inspector's "P(pick)" against brute force: enumerate every k-subset and split each subset's pick among its
// tied top scores; also checks that Σ P(pick)·R equals BonMetrics' BoN@k.
using BonStudio.Training.Metrics;
using BonStudio.Web.Services;

namespace BonStudio.Web.Tests.Evaluation;

public class PickProbabilityTests
{
    [Theory]
    [InlineData(new[] { 0.1, 0.9, 0.5, 0.9, 0.2 }, 1)]
    [InlineData(new[] { 0.1, 0.9, 0.5, 0.9, 0.2 }, 2)]
    [InlineData(new[] { 0.1, 0.9, 0.5, 0.9, 0.2 }, 5)]
    [InlineData(new[] { 1.0, 1.0, 1.0, 0.0 }, 3)]
    [InlineData(new[] { 0.3, 0.7, 0.7, 0.1, 0.7, 0.2 }, 4)]
    public void PickProbabilitiesMatchEnumerationOfAllSubsets(double[] scores, int k)
    {
        int n = scores.Length;
        var expected = new double[n];
        int subsets = 0;
        for (int mask = 0; mask < 1 << n; mask++)
        {
            if (System.Numerics.BitOperations.PopCount((uint)mask) != k) continue;
            subsets++;
            var members = Enumerable.Range(0, n).Where(i => (mask & (1 << i)) != 0).ToList();
            double top = members.Max(i => scores[i]);
            var tied = members.Where(i => scores[i] == top).ToList();
            foreach (var i in tied) expected[i] += 1.0 / tied.Count;
        }
        var actual = EvaluationService.PickProbabilities(scores, k);
        for (int i = 0; i < n; i++) Assert.Equal(expected[i] / subsets, actual[i], 12);

        var rewards = scores.Select((_, i) => i % 2 == 0 ? 1.0 : 0.0).ToArray();
        Assert.Equal(BonMetrics.BonAtKCurve(scores, rewards)[k - 1], actual.Select((p, i) => p * rewards[i]).Sum(), 12);
    }
}
