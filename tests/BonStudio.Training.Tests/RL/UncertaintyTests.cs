using BonStudio.Training.RL.Agents;
using BonStudio.Training.RL.Uncertainty;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.RL;

/// <summary>Every measure must rank a rarely visited state above a frequently visited one.</summary>
public class UncertaintyTests
{
    private const int Dim = 16, Actions = 2;
    private static float[] OneHot(int i) { var x = new float[Dim]; x[i] = 1; return x; }

    private static void Visit(IUncertainty u, int frequent = 200, int rare = 1)
    {
        for (int i = 0; i < frequent; i++) u.Observe(OneHot(3), i % Actions);
        for (int i = 0; i < rare; i++) u.Observe(OneHot(9), 0);
    }

    private static void AssertRareAboveFrequent(IUncertainty u)
    {
        var s = u.State([OneHot(3), OneHot(9), OneHot(12)]);
        Assert.True(s[1] > s[0], $"{u.Name}: u(rare)={s[1]} should exceed u(frequent)={s[0]}");
        Assert.True(s[2] >= s[1] * 0.5, $"{u.Name}: an unseen state should not look known (u={s[2]})");
        var sa = u.StateAction([OneHot(3), OneHot(9)]);
        Assert.Equal(2 * Actions, sa.Length);
        Assert.True(sa[Actions] > sa[0], $"{u.Name}: u(rare, a0)={sa[Actions]} should exceed u(frequent, a0)={sa[0]}");
    }

    [Fact]
    public void Counts_rank_rare_above_frequent_and_follow_the_formula()
    {
        var u = new ApproxCounts(new ApproxCountsConfig { Lambda = 1.0 }, Actions);
        Visit(u);
        AssertRareAboveFrequent(u);
        Assert.Equal(1 / Math.Sqrt(201), u.State([OneHot(3)])[0], 5);
        Assert.Equal(1 / Math.Sqrt(101), u.StateAction([OneHot(3)])[1], 5);
        Assert.Equal(1 / Math.Sqrt(1), u.StateAction([OneHot(9)])[1], 5); // (rare, a=1) never taken
    }

    [Fact]
    public void Covariance_ranks_rare_above_frequent_and_matches_the_direct_inverse()
    {
        var u = new FeatureCovariance(new FeatureCovarianceConfig { Lambda = 1.0 }, Dim, Actions);
        Visit(u);
        AssertRareAboveFrequent(u);
        // One-hot features: A_a = λI + n_a e eᵀ, so u = (λ + n)^-1/2 exactly.
        Assert.Equal(1 / Math.Sqrt(101), u.StateAction([OneHot(3)])[0], 5);
    }

    [Fact]
    public void Covariance_with_dense_random_features_matches_a_dense_solve()
    {
        BonStudio.Training.Runtime.TorchRuntime.SetThreads(1);
        var u = new FeatureCovariance(new FeatureCovarianceConfig { Lambda = 0.5, RandomFeatures = 8, Seed = 1 }, 3, 1);
        var rng = new Random(2);
        var xs = Enumerable.Range(0, 30).Select(_ => new float[] { (float)rng.NextDouble(), (float)rng.NextDouble(), (float)rng.NextDouble() }).ToList();
        foreach (var x in xs) u.Observe(x, 0);
        // Compare with sqrt(φᵀ(λI + ΣφφᵀΣ)^-1 φ) computed by torch in float64.
        var phi = FeaturesOf(u, xs);                                        // (30, 8) via the measure's own map
        var gram = 0.5 * eye(8, dtype: float64) + phi.T.matmul(phi);
        var probe = FeaturesOf(u, [xs[0]]);
        double expected = Math.Sqrt(probe.matmul(linalg.inv(gram)).matmul(probe.T).item<double>());
        Assert.Equal(expected, u.StateAction([xs[0]])[0], 3);
    }

    private static Tensor FeaturesOf(FeatureCovariance u, IReadOnlyList<float[]> xs)
    {
        var m = typeof(FeatureCovariance).GetMethod("Features", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var rows = xs.Select(x => (double[])m.Invoke(u, [x])!).ToList();
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Count, rows[0].Length]);
    }
}

[Collection("Torch")]
public class TorchUncertaintyTests
{
    // Tiny networks: one thread avoids OpenMP spin-waiting on a busy machine (RlRun does the same via Threads = 1).
    public TorchUncertaintyTests() => BonStudio.Training.Runtime.TorchRuntime.SetThreads(1);

    private const int Dim = 16, Actions = 2;
    private static float[] OneHot(int i) { var x = new float[Dim]; x[i] = 1; return x; }

    [Fact]
    public void Rnd_ranks_rare_above_frequent()
    {
        manual_seed(1);
        using var u = new RandomNetworkDistillation(new RndConfig { LearningRate = 3e-3 }, Dim, Actions, CPU);
        for (int i = 0; i < 3200; i++) u.Observe(OneHot(3 + i % 2), 0); // two frequent states
        u.Observe(OneHot(9), 0);                                       // one rare visit
        var s = u.State([OneHot(3), OneHot(4), OneHot(9), OneHot(12)]);
        Assert.True(s[2] > 3 * Math.Max(s[0], s[1]), $"rnd: rare {s[2]} vs frequent {s[0]}, {s[1]}");
        Assert.True(s[3] > 3 * Math.Max(s[0], s[1]), $"rnd: unseen {s[3]} vs frequent {s[0]}, {s[1]}");
        Assert.False(u.ActionDependent);
    }

    [Fact]
    public void Ensemble_std_ranks_rare_above_frequent_after_training_on_the_frequent_state()
    {
        manual_seed(2);
        using var agent = new BootDdqn(new BootDdqnConfig { Heads = 8, Hidden = 16, LearningStarts = 32, BatchSize = 32 }, Dim, Actions, CPU, new Random(1));
        var u = new EnsembleStd(agent, Actions);
        var before = u.StateAction([OneHot(3)]);
        for (int i = 0; i < 400; i++) agent.Observe(OneHot(3), i % Actions, 0f, OneHot(4), terminal: true);
        agent.Observe(OneHot(9), 0, 0f, OneHot(4), terminal: true);
        var sa = u.StateAction([OneHot(3), OneHot(9)]);
        Assert.True(sa[0] < before[0] / 3, $"training should shrink the ensemble spread at the visited state: {before[0]} → {sa[0]}");
        Assert.True(sa[Actions] > 3 * sa[0], $"ensemble: rare {sa[Actions]} vs frequent {sa[0]}");
        var s = u.State([OneHot(3), OneHot(12)]);
        Assert.True(s[1] > 3 * s[0]);
    }

    [Fact]
    public void Ddqn_bonus_acts_on_q_plus_c_times_u()
    {
        manual_seed(3);
        var counts = new ApproxCounts(new ApproxCountsConfig(), Actions);
        var x = OneHot(5);
        using var agent = new DdqnBonus(new DdqnBonusConfig { BonusScale = 10 }, Dim, Actions, CPU, new Random(1), counts);
        var q = agent.QValues(x);
        int greedy = agent.ActGreedy(x), other = 1 - greedy;
        Assert.True(Math.Abs(q[0] - q[1]) < 5, $"untrained Q values should be small: {q[0]}, {q[1]}");
        Assert.Equal(greedy, agent.Act(x)); // equal counts: the bonus is the same for both actions
        for (int i = 0; i < 99; i++) counts.Observe(x, greedy); // u(greedy) = 0.1, u(other) = 1: +9 for the other action
        Assert.Equal(other, agent.Act(x));
        Assert.Equal(greedy, agent.ActGreedy(x)); // evaluation ignores the bonus
        using var noBonus = new DdqnBonus(new DdqnBonusConfig { BonusScale = 0 }, Dim, Actions, CPU, new Random(1), counts);
        Assert.Equal(noBonus.ActGreedy(x), noBonus.Act(x));
    }
}
