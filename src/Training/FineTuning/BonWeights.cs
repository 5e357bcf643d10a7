// Best-of-N-aware fine-tuning weights: every method turns its objective into a weighted log-likelihood
// L = −Σ_j a_j · log π(y_j | x), with weights computed from scores (no gradient through them).
// Reference: methods.md §2 (BoN-SFT §2.2, the one BoN-RL estimator §2.3), after "Inference-Aware
// Fine-Tuning for Best-of-N Sampling in Large Language Models". All sums are exact order statistics.
namespace BonStudio.Training.FineTuning;

/// <summary>The fine-tuning methods of the `bon-finetune` run kind.</summary>
public enum BonMethod
{
    /// <summary>Plain SFT on demonstrations (N' = 1).</summary>
    Sft,
    /// <summary>REINFORCE with a leave-one-out baseline (N' = 1).</summary>
    Rl,
    /// <summary>Imitation through the BoN policy (methods.md §2.2).</summary>
    BonSft,
    /// <summary>Select by verifier, reward = verifier score: BoN accuracy under the verifier.</summary>
    BonRlV,
    /// <summary>Select by verifier, reward = checker: BoN accuracy measured by the checker.</summary>
    BonRlS,
    /// <summary>Select by checker (random tie-break), reward = checker: pass@N'.</summary>
    BonRlb,
    /// <summary>As BonRlb, positives only (a_i = 0 where R_i = 0).</summary>
    BonRlbP,
}

public static class BonWeights
{
    /// <summary>
    /// Weights of the one BoN-RL estimator (methods.md §2.3) for the n samples of one prompt:
    /// <c>a_i = N' · (g_i − b_i) / n</c> with
    /// <c>g_i = E_{S ⊂ others, |S| = N'−1}[v(argmax_{S ∪ {i}} s)]</c> and
    /// <c>b_i = E_{S ⊂ others, |S| = N'}[v(argmax_S s)]</c>; ties in s are broken uniformly at random (exactly).
    /// Unbiased for ∇ E_{y~π_bon}[v]. With N' = 1 it is RLOO: a_i = (v_i − mean_{j≠i} v_j) / n.
    /// </summary>
    /// <param name="selection">s: the score Best-of-N selects by (higher wins).</param>
    /// <param name="reward">v: the reward of the selected sample.</param>
    /// <param name="nPrime">N', the Best-of-N the training targets; needs n ≥ N' + 1.</param>
    public static double[] LeaveOneOut(IReadOnlyList<double> selection, IReadOnlyList<double> reward, int nPrime)
    {
        int n = selection.Count;
        if (reward.Count != n) throw new ArgumentException($"selection has {n} scores but reward has {reward.Count}.", nameof(reward));
        if (nPrime < 1) throw new ArgumentOutOfRangeException(nameof(nPrime), nPrime, "N' must be at least 1.");
        if (n < nPrime + 1) throw new ArgumentException($"n = {n} samples per prompt is too few for N' = {nPrime}: the leave-one-out estimator needs n ≥ N' + 1.", nameof(selection));

        var weights = new double[n];
        var others = new int[n - 1];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0, o = 0; j < n; j++) if (j != i) others[o++] = j;
            double g = ExpectedRewardOfMaxWith(i, others, selection, reward, nPrime - 1);
            double b = ExpectedRewardOfMax(others, selection, reward, nPrime);
            // g and b are sums of probabilities times rewards: when they are equal in exact arithmetic (every sample equally
            // good, e.g. all correct) rounding leaves ~1e-17, which would count as a training signal and let AdamW step
            // on stale momentum. Differences this small are zero.
            double d = g - b;
            weights[i] = Math.Abs(d) < 1e-12 ? 0.0 : nPrime * d / n;
        }
        return weights;
    }

    /// <summary>
    /// Weights for one prompt under <paramref name="method"/>: the variants of methods.md §2.3 differ only in what
    /// selects (s) and what rewards (v). <paramref name="correct"/> is the checker's R ∈ {0,1};
    /// <paramref name="verifier"/> the verifier's score (needed by BonRlV and BonRlS).
    /// </summary>
    public static double[] ForRl(BonMethod method, IReadOnlyList<bool> correct, IReadOnlyList<double>? verifier, int nPrime)
    {
        var r = correct.Select(c => c ? 1.0 : 0.0).ToArray();
        double[] NeedVerifier() => verifier?.ToArray() ?? throw new ArgumentException($"method {method} selects by the verifier: scores are required.", nameof(verifier));
        return method switch
        {
            BonMethod.Rl => LeaveOneOut(r, r, 1),
            BonMethod.BonRlV => LeaveOneOut(NeedVerifier(), NeedVerifier(), nPrime),
            BonMethod.BonRlS => LeaveOneOut(NeedVerifier(), r, nPrime),
            BonMethod.BonRlb => LeaveOneOut(r, r, nPrime),
            BonMethod.BonRlbP => LeaveOneOut(r, r, nPrime).Select((a, i) => correct[i] ? a : 0.0).ToArray(),
            _ => throw new ArgumentException($"method {method} is not an RL method.", nameof(method)),
        };
    }

    /// <summary>
    /// BoN-SFT weights (methods.md §2.2) for a demonstration with verifier score <paramref name="demoScore"/> and the
    /// model's own n samples with scores <paramref name="sampleScores"/>: the demonstration gets weight 1 (returned
    /// separately), sample j gets <c>(N'−1)·(1{s_j ≤ s*} − F̂)/(n·F̂)</c> with the plug-in
    /// <c>F̂ = (1 + #{j: s_j ≤ s*})/(n + 1)</c>. Raise the demonstration, lower samples that would beat it, raise
    /// the ones it beats. N' = 1 is plain SFT (all sample weights 0).
    /// </summary>
    public static (double Demonstration, double[] Samples) ForBonSft(double demoScore, IReadOnlyList<double> sampleScores, int nPrime)
    {
        if (nPrime < 1) throw new ArgumentOutOfRangeException(nameof(nPrime), nPrime, "N' must be at least 1.");
        int n = sampleScores.Count;
        if (n == 0) return (1.0, []);
        int below = sampleScores.Count(s => s <= demoScore);
        double f = (1.0 + below) / (n + 1.0);
        var a = sampleScores.Select(s => (nPrime - 1) * ((s <= demoScore ? 1.0 : 0.0) - f) / (n * f)).ToArray();
        return (1.0, a);
    }

    /// <summary>
    /// E[v(argmax_S s)] for S a uniformly random k-subset of <paramref name="pool"/>, ties broken uniformly:
    /// sort ascending; the r-th smallest is the maximum of a random k-subset with probability C(r−1, k−1)/C(m, k);
    /// a tie group shares its mean reward (exact under random tie-breaking).
    /// </summary>
    internal static double ExpectedRewardOfMax(int[] pool, IReadOnlyList<double> s, IReadOnlyList<double> v, int k)
    {
        int m = pool.Length;
        var sorted = SortWithTieMeans(pool, s, v);
        double total = 0;
        for (int r = k; r <= m; r++) total += OrderWeight(r, k, m) * sorted[r - 1].MeanV;
        return total;
    }

    /// <summary>
    /// E[v(argmax_{S ∪ {i}} s)] for S a uniformly random k-subset of <paramref name="others"/> (i ∉ others), ties
    /// broken uniformly. Others strictly above s_i win when present and maximal; otherwise the winner is drawn
    /// uniformly from i and the members of i's tie group that S holds (a hypergeometric count).
    /// </summary>
    internal static double ExpectedRewardOfMaxWith(int i, int[] others, IReadOnlyList<double> s, IReadOnlyList<double> v, int k)
    {
        int m = others.Length;
        if (k == 0) return v[i];
        var sorted = SortWithTieMeans(others, s, v);
        int below = sorted.Count(x => x.S < s[i]);
        var ties = sorted.Where(x => x.S == s[i]).ToArray();
        double tieMean = ties.Length == 0 ? 0 : ties.Average(x => v[x.Index]);
        double denominator = Binomial(m, k);

        // An "above" sample at ascending rank r (1-based among others) is the winner when it is in S and the
        // rest of S lies below it: C(r−1, k−1) of the C(m, k) subsets.
        double total = 0;
        for (int r = below + ties.Length + 1; r <= m; r++)
            total += Binomial(r - 1, k - 1) / denominator * sorted[r - 1].MeanV;

        // No above sample in S: S takes t of i's tie group and k−t strictly below; i and the t tie mates
        // are equally likely to win, and t random tie mates carry t·tieMean in expectation.
        for (int t = 0; t <= Math.Min(ties.Length, k); t++)
        {
            double p = Binomial(ties.Length, t) * Binomial(below, k - t) / denominator;
            if (p > 0) total += p * (v[i] + t * tieMean) / (1 + t);
        }
        return total;
    }

    /// <summary>P(the r-th smallest of m is the max of a random k-subset) = C(r−1, k−1)/C(m, k).</summary>
    internal static double OrderWeight(int r, int k, int m) => Binomial(r - 1, k - 1) / Binomial(m, k);

    private readonly record struct Ranked(int Index, double S, double MeanV);

    private static Ranked[] SortWithTieMeans(int[] pool, IReadOnlyList<double> s, IReadOnlyList<double> v)
    {
        var order = pool.OrderBy(j => s[j]).ToArray();
        var result = new Ranked[order.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && s[order[end + 1]] == s[order[start]]) end++;
            double mean = 0;
            for (int q = start; q <= end; q++) mean += v[order[q]];
            mean /= end - start + 1;
            for (int q = start; q <= end; q++) result[q] = new Ranked(order[q], s[order[q]], mean);
            start = end + 1;
        }
        return result;
    }

    /// <summary>C(n, k) in double via a stable product (0 outside 0 ≤ k ≤ n).</summary>
    internal static double Binomial(int n, int k)
    {
        if (k < 0 || n < 0 || k > n) return 0;
        k = Math.Min(k, n - k);
        double c = 1;
        for (int j = 1; j <= k; j++) c = c * (n - k + j) / j;
        return c;
    }
}
