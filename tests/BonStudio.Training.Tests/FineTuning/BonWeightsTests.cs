using BonStudio.Training.FineTuning;

namespace BonStudio.Training.Tests.FineTuning;

public class BonWeightsTests
{
    // ---- brute force references -------------------------------------------------------------------------

    /// <summary>All k-subsets of items.</summary>
    private static IEnumerable<int[]> Subsets(int[] items, int k)
    {
        if (k == 0) { yield return []; yield break; }
        for (int first = 0; first <= items.Length - k; first++)
            foreach (var rest in Subsets(items[(first + 1)..], k - 1))
                yield return [items[first], .. rest];
    }

    /// <summary>Expected reward of the winner of a set, ties broken uniformly at random.</summary>
    private static double Winner(IReadOnlyList<int> set, double[] s, double[] v)
    {
        double max = set.Max(j => s[j]);
        return set.Where(j => s[j] == max).Average(j => v[j]);
    }

    private static double[] BruteForceWeights(double[] s, double[] v, int nPrime)
    {
        int n = s.Length;
        var a = new double[n];
        for (int i = 0; i < n; i++)
        {
            var others = Enumerable.Range(0, n).Where(j => j != i).ToArray();
            double g = Subsets(others, nPrime - 1).Average(S => Winner([.. S, i], s, v));
            double b = Subsets(others, nPrime).Average(S => Winner(S, s, v));
            a[i] = nPrime * (g - b) / n;
        }
        return a;
    }

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5, 6, 7, 8 };

    [Theory, MemberData(nameof(Seeds))]
    public void Leave_one_out_weights_equal_brute_force_over_all_subsets_with_ties(int seed)
    {
        // Arrange: small integer scores make ties frequent; rewards independent of scores.
        var rng = new Random(seed);
        for (int trial = 0; trial < 25; trial++)
        {
            int n = rng.Next(2, 8);
            int nPrime = rng.Next(1, n);                      // n ≥ N' + 1, including the edge n = N' + 1
            var s = Enumerable.Range(0, n).Select(_ => (double)rng.Next(0, 3)).ToArray();
            var v = Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();

            // Act
            var exact = BonWeights.LeaveOneOut(s, v, nPrime);
            var brute = BruteForceWeights(s, v, nPrime);

            // Assert
            for (int i = 0; i < n; i++) Assert.Equal(brute[i], exact[i], 1e-12);
        }
    }

    [Theory]
    [InlineData(BonMethod.BonRlV)]
    [InlineData(BonMethod.BonRlS)]
    [InlineData(BonMethod.BonRlb)]
    [InlineData(BonMethod.BonRlbP)]
    [InlineData(BonMethod.Rl)]
    public void Every_rl_variant_matches_brute_force_with_its_selection_and_reward(BonMethod method)
    {
        var rng = new Random((int)method + 100);
        for (int trial = 0; trial < 30; trial++)
        {
            // Arrange
            int n = rng.Next(2, 8);
            int nPrime = method == BonMethod.Rl ? 1 : rng.Next(1, n);
            var correct = Enumerable.Range(0, n).Select(_ => rng.Next(2) == 1).ToArray();
            var verifier = Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble(), 1)).ToArray(); // ties possible
            var r = correct.Select(c => c ? 1.0 : 0.0).ToArray();
            var (s, v) = method switch
            {
                BonMethod.BonRlV => (verifier, verifier),
                BonMethod.BonRlS => (verifier, r),
                _ => (r, r),
            };

            // Act
            var weights = BonWeights.ForRl(method, correct, verifier, nPrime);
            var brute = BruteForceWeights(s, v, nPrime);
            if (method == BonMethod.BonRlbP) brute = brute.Select((a, i) => correct[i] ? a : 0).ToArray();

            // Assert
            for (int i = 0; i < n; i++) Assert.Equal(brute[i], weights[i], 1e-12);
        }
    }

    [Theory]
    [InlineData(BonMethod.Rl, 1)]
    [InlineData(BonMethod.BonRlV, 4)]
    [InlineData(BonMethod.BonRlS, 4)]
    [InlineData(BonMethod.BonRlb, 4)]
    [InlineData(BonMethod.BonRlbP, 4)]
    public void A_prompt_whose_samples_are_all_alike_gets_exactly_zero_weights(BonMethod method, int nPrime)
    {
        // All 8 correct with equal scores: nothing to learn. Rounding in the order-statistic sums used to leave ~1e-17
        // weights, which counted as a signal and made the trainer take an AdamW step on momentum alone.
        var allCorrect = Enumerable.Repeat(true, 8).ToArray();
        var allWrong = Enumerable.Repeat(false, 8).ToArray();
        foreach (var (correct, score) in new[] { (allCorrect, 1.0), (allWrong, 0.0), (allCorrect, 0.3) })
            Assert.All(BonWeights.ForRl(method, correct, Enumerable.Repeat(score, 8).ToArray(), nPrime), a => Assert.Equal(0.0, a));
    }

    [Fact]
    public void With_n_prime_one_the_estimator_is_rloo()
    {
        // Arrange
        double[] v = [1, 0, 0.5, 0.25];

        // Act
        var a = BonWeights.LeaveOneOut([3, 1, 2, 0], v, 1);

        // Assert: a_i = (v_i − mean_{j≠i} v_j) / n
        for (int i = 0; i < v.Length; i++)
            Assert.Equal((v[i] - v.Where((_, j) => j != i).Average()) / v.Length, a[i], 1e-12);
    }

    [Fact]
    public void Bon_rlb_matches_the_closed_form_pass_at_n_gradient()
    {
        // Arrange: methods.md §2.3, g_i = 1 if R_i else 1 − C(n−1−c_{−i}, N'−1)/C(n−1, N'−1).
        bool[] correct = [true, false, false, true, false, false, false];
        int n = correct.Length, nPrime = 3;
        var r = correct.Select(c => c ? 1.0 : 0.0).ToArray();

        // Act
        var a = BonWeights.ForRl(BonMethod.BonRlb, correct, null, nPrime);

        // Assert
        for (int i = 0; i < n; i++)
        {
            int cOthers = correct.Where((_, j) => j != i).Count(c => c);
            double g = correct[i] ? 1 : 1 - BonWeights.Binomial(n - 1 - cOthers, nPrime - 1) / BonWeights.Binomial(n - 1, nPrime - 1);
            double b = 1 - BonWeights.Binomial(n - 1 - cOthers, nPrime) / BonWeights.Binomial(n - 1, nPrime);
            Assert.Equal(nPrime * (g - b) / n, a[i], 1e-12);
        }
        Assert.All(a.Where((_, i) => correct[i]), w => Assert.True(w > 0));
        Assert.All(a.Where((_, i) => !correct[i]), w => Assert.True(w < 0));
    }

    [Fact]
    public void Bad_arguments_are_refused_with_the_reason()
    {
        var tooFew = Assert.Throws<ArgumentException>(() => BonWeights.LeaveOneOut([1, 2, 3], [1, 2, 3], 3));
        Assert.Contains("n ≥ N' + 1", tooFew.Message);
        var noVerifier = Assert.Throws<ArgumentException>(() => BonWeights.ForRl(BonMethod.BonRlV, [true, false, true], null, 2));
        Assert.Contains("verifier", noVerifier.Message);
        Assert.Throws<ArgumentException>(() => BonWeights.LeaveOneOut([1, 2], [1], 1));
    }

    // ---- exact unbiasedness on a 4-response softmax policy -----------------------------------------------

    private static double[] Softmax(double[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(x => Math.Exp(x - max)).ToArray();
        double z = e.Sum();
        return e.Select(x => x / z).ToArray();
    }

    /// <summary>Every n-tuple of response ids with its probability under π.</summary>
    private static IEnumerable<(int[] Tuple, double P)> Tuples(double[] pi, int n)
    {
        int k = pi.Length, count = (int)Math.Pow(k, n);
        for (int code = 0; code < count; code++)
        {
            var t = new int[n];
            double p = 1;
            for (int j = 0, c = code; j < n; j++, c /= k) { t[j] = c % k; p *= pi[t[j]]; }
            yield return (t, p);
        }
    }

    /// <summary>J(θ) = E over N' iid draws of v(argmax s), ties at random: the exact BoN objective.</summary>
    private static double ExactObjective(double[] logits, double[] s, double[] v, int nPrime) =>
        Tuples(Softmax(logits), nPrime).Sum(x => x.P * Winner(Enumerable.Range(0, nPrime).ToArray(),
            x.Tuple.Select(y => s[y]).ToArray(), x.Tuple.Select(y => v[y]).ToArray()));

    [Theory]
    [InlineData(2, 3, false)]
    [InlineData(2, 4, false)]
    [InlineData(3, 4, false)]
    [InlineData(2, 4, true)]   // checker-style selection: ties between different responses
    [InlineData(3, 4, true)]
    public void The_estimator_is_exactly_unbiased_for_the_gradient_of_the_bon_objective(int nPrime, int n, bool tiedScores)
    {
        // Arrange: 4 responses with fixed scores and rewards; a softmax policy over them.
        double[] logits = [0.3, -0.2, 0.7, -0.5];
        double[] s = tiedScores ? [1, 0, 1, 0] : [0.9, 0.1, 0.5, 0.3];
        double[] v = tiedScores ? [1, 0, 1, 0] : [1, 0, 0, 1];
        var pi = Softmax(logits);

        // Act: expected estimator, enumerating every n-tuple: E[Σ_i a_i ∇θ log π(y_i)], ∇θ log π(y) = e_y − π.
        var expected = new double[4];
        foreach (var (tuple, p) in Tuples(pi, n))
        {
            var a = BonWeights.LeaveOneOut(tuple.Select(y => s[y]).ToArray(), tuple.Select(y => v[y]).ToArray(), nPrime);
            for (int i = 0; i < n; i++)
                for (int d = 0; d < 4; d++)
                    expected[d] += p * a[i] * ((tuple[i] == d ? 1 : 0) - pi[d]);
        }
        // ...and the true gradient by central finite differences of the exact objective.
        var fd = new double[4];
        const double h = 1e-5;
        for (int d = 0; d < 4; d++)
        {
            var up = (double[])logits.Clone(); up[d] += h;
            var down = (double[])logits.Clone(); down[d] -= h;
            fd[d] = (ExactObjective(up, s, v, nPrime) - ExactObjective(down, s, v, nPrime)) / (2 * h);
        }

        // Assert: the loss is −Σ a log π, so the expected ascent direction must equal ∇J.
        for (int d = 0; d < 4; d++) Assert.Equal(fd[d], expected[d], 1e-8);
    }

    // ---- BoN-SFT ------------------------------------------------------------------------------------------

    [Fact]
    public void Bon_sft_lowers_samples_that_beat_the_demonstration_and_raises_those_it_beats()
    {
        // Act
        var (demo, a) = BonWeights.ForBonSft(0.5, [0.9, 0.1, 0.5, 0.7], nPrime: 4);

        // Assert: F̂ = (1 + 2)/5 = 0.6; a_j = 3·(1{s_j ≤ 0.5} − 0.6)/(4·0.6)
        Assert.Equal(1.0, demo);
        Assert.Equal([-0.75, 0.5, 0.5, -0.75], a.Select(x => Math.Round(x, 12)));
        Assert.All(BonWeights.ForBonSft(0.5, [0.9, 0.1], nPrime: 1).Samples, x => Assert.Equal(0, x));
    }

    [Fact]
    public void Bon_sft_expected_gradient_converges_to_the_bon_likelihood_gradient_as_n_grows()
    {
        // Arrange: 4 responses with distinct scores; demonstration y* = response 2.
        double[] logits = [0.2, -0.1, 0.4, 0.0];
        double[] s = [0.8, 0.2, 0.5, 0.35];
        int demo = 2, nPrime = 4;
        var pi = Softmax(logits);

        // Target: log π_bon(y*) = log(N' · π(y*) · F(y*)^{N'−1}) with F(y*) = P(s(y) ≤ s*) (methods.md §2.2),
        // differentiated by finite differences.
        double LogPiBon(double[] l)
        {
            var p = Softmax(l);
            double f = p.Where((_, y) => s[y] <= s[demo]).Sum();
            return Math.Log(nPrime * p[demo] * Math.Pow(f, nPrime - 1));
        }
        var target = new double[4];
        for (int d = 0; d < 4; d++)
        {
            var up = (double[])logits.Clone(); up[d] += 1e-6;
            var down = (double[])logits.Clone(); down[d] -= 1e-6;
            target[d] = (LogPiBon(up) - LogPiBon(down)) / 2e-6;
        }

        // Act: E over n-tuples of ∇ log π(y*) + Σ_j a_j ∇ log π(y_j), for growing n.
        double[] Expected(int n)
        {
            var e = new double[4];
            for (int d = 0; d < 4; d++) e[d] = (demo == d ? 1 : 0) - pi[d];
            foreach (var (tuple, p) in Tuples(pi, n))
            {
                var (_, a) = BonWeights.ForBonSft(s[demo], tuple.Select(y => s[y]).ToArray(), nPrime);
                for (int j = 0; j < n; j++)
                    for (int d = 0; d < 4; d++)
                        e[d] += p * a[j] * ((tuple[j] == d ? 1 : 0) - pi[d]);
            }
            return e;
        }
        double Error(double[] e) => Math.Sqrt(e.Select((x, d) => (x - target[d]) * (x - target[d])).Sum());
        var (e2, e4, e8) = (Expected(2), Expected(4), Expected(8));

        // Assert: a plug-in estimator (1/F̂), biased at small n but consistent (methods.md §2.2): the large
        // components point the right way already at n = 4, and the error shrinks as n grows.
        for (int d = 0; d < 4; d++)
            if (Math.Abs(target[d]) > 0.1) Assert.Equal(Math.Sign(target[d]), Math.Sign(e4[d]));
        Assert.True(Error(e8) < Error(e4) && Error(e4) < Error(e2), $"errors n=2: {Error(e2)}, n=4: {Error(e4)}, n=8: {Error(e8)}");
        Assert.True(Error(e8) < 0.1 * Math.Sqrt(target.Sum(x => x * x)), $"n=8 error {Error(e8)} is not small");
    }
}
