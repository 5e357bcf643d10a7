// Best-of-N metrics from one sampling pass of n samples per prompt, for every k = 1..n (methods.md §1).
//
//   pass@k  = 1 − C(n−c, k)/C(n, k), computed as 1 − Π_{i=n−c+1..n} (1 − k/i)          (exact, O(n·c))
//   BoN@k   = Σ_{i=k..n} C(i−1, k−1)/C(n, k) · R_(i), samples sorted by score ascending; ties in the score
//             are broken uniformly at random, exactly, by replacing R_(i) with its tie group's mean  (O(n²))
//   maj@k   = P(the most frequent answer among k random samples is correct); ties between answers are broken
//             uniformly at random (we take the expectation over the tie-break exactly). Samples without an
//             answer (null) take part in the draw but can never be the majority; if all k lack an answer the
//             value is 0. An answer's correctness is the mean correct flag of the n samples that gave it
//             (normally all equal). Exact by enumerating every k-subset when C(n, k) ≤ MajorityExactLimit (grouped
//             by how many samples each answer contributes, weighted by binomials: the same sum, fewer terms),
//             else a seeded Monte Carlo estimate with its standard error. MC draws random permutations; every
//             prefix of length k of a uniform permutation is a uniform k-subset, so one permutation serves all k.
//   diversity: distinct non-null answers, and the Shannon entropy (nats) of the non-null answers' frequencies.
//
// Dataset level: the mean over prompts with a 95% Student-t interval over prompts (MeanInterval).
namespace BonStudio.Training.Metrics;

using BonStudio.Training.Tasks;

/// <summary>One prompt's n samples. Scores (verifier) and Answers (extracted, null = none) are optional.</summary>
public sealed record PromptSamples(string PromptId, IReadOnlyList<bool> Correct,
    IReadOnlyList<double>? Scores = null, IReadOnlyList<string?>? Answers = null);

public enum MajorityMethod { Exact, MonteCarlo }

/// <summary>Settings of the maj@k estimator.</summary>
public sealed record BonMetricsOptions
{
    /// <summary>Enumerate all k-subsets when C(n, k) is at most this (methods.md: 100 000).</summary>
    public long MajorityExactLimit { get; init; } = 100_000;
    /// <summary>Random permutations per prompt for the Monte Carlo maj@k.</summary>
    public int MajorityMonteCarloDraws { get; init; } = 1000;
    /// <summary>Seed of the Monte Carlo estimate (mixed with the prompt id, so results do not depend on prompt order).</summary>
    public long Seed { get; init; } = 0;
}

/// <summary>Per-prompt curves; index k−1 holds the value for k.</summary>
public sealed record PromptBonMetrics(
    string PromptId, int N, int NumCorrect,
    double[] PassAtK,
    double[]? BonAtK,
    double[]? MajAtK, double[]? MajAtKStdErr, MajorityMethod[]? MajMethod,
    double MeanReward, int DistinctAnswers, double AnswerEntropy);

/// <summary>Dataset-level means over prompts with 95% intervals; index k−1 holds the value for k.</summary>
public sealed record DatasetBonMetrics(
    int NPrompts, int N,
    MeanInterval[] PassAtK,
    MeanInterval[]? BonAtK,
    MeanInterval[]? MajAtK,
    double[]? MajAtKMonteCarloStdErr, // Monte Carlo standard error of the mean maj@k (0 where every prompt was exact)
    MajorityMethod[]? MajMethod,
    MeanInterval MeanReward, MeanInterval DistinctAnswers, MeanInterval AnswerEntropy);

public static class BonMetrics
{
    // ---------------------------------------------------------------------------------------------- pass@k

    /// <summary>Unbiased pass@k from c correct out of n (Chen et al. 2021), stable product form.</summary>
    public static double PassAtK(int n, int c, int k)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be at least 1");
        if (c < 0 || c > n) throw new ArgumentOutOfRangeException(nameof(c), c, $"c must be in 0..{n}");
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in 1..{n}");
        if (n - c < k) return 1.0;
        double allWrong = 1.0;
        for (int i = n - c + 1; i <= n; i++) allWrong *= 1.0 - (double)k / i;
        return 1.0 - allWrong;
    }

    /// <summary>pass@k for k = 1..n.</summary>
    public static double[] PassAtKCurve(int n, int c)
    {
        var curve = new double[n];
        for (int k = 1; k <= n; k++) curve[k - 1] = PassAtK(n, c, k);
        return curve;
    }

    // ----------------------------------------------------------------------------------------------- BoN@k

    /// <summary>
    /// BoN@k for k = 1..n: the expected reward of the highest-scoring of k samples drawn without replacement,
    /// ties broken uniformly at random. Rewards may be any real numbers (0/1 for correctness).
    /// </summary>
    public static double[] BonAtKCurve(IReadOnlyList<double> scores, IReadOnlyList<double> rewards)
    {
        int n = scores.Count;
        if (n == 0) throw new ArgumentException("no samples", nameof(scores));
        if (rewards.Count != n) throw new ArgumentException($"{rewards.Count} rewards for {n} scores", nameof(rewards));
        for (int i = 0; i < n; i++)
            if (!double.IsFinite(scores[i])) throw new ArgumentException($"score {i} is {scores[i]}", nameof(scores));

        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) => scores[a].CompareTo(scores[b]));
        // R_(i) in ascending score order, each tie group replaced by its mean (exact random tie-breaking).
        var r = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start;
            double sum = 0;
            while (end < n && scores[order[end]] == scores[order[start]]) sum += rewards[order[end++]];
            for (int j = start; j < end; j++) r[j] = sum / (end - start);
            start = end;
        }

        var curve = new double[n];
        for (int k = 1; k <= n; k++)
        {
            // w(i) = C(i−1, k−1)/C(n, k): w(n) = k/n, w(i−1) = w(i)·(i−k)/(i−1); all factors ≤ 1, so no overflow.
            double w = (double)k / n, acc = 0;
            for (int i = n; i >= k && w > 0; i--)
            {
                acc += w * r[i - 1];
                if (i > k) w *= (double)(i - k) / (i - 1);
            }
            curve[k - 1] = acc;
        }
        return curve;
    }

    // ----------------------------------------------------------------------------------------------- maj@k

    /// <summary>maj@k for k = 1..n with its per-k method and Monte Carlo standard error (0 when exact).</summary>
    public static (double[] Value, double[] StdErr, MajorityMethod[] Method) MajAtKCurve(
        IReadOnlyList<string?> answers, IReadOnlyList<bool> correct, BonMetricsOptions? options = null, string promptId = "")
    {
        options ??= new BonMetricsOptions();
        int n = answers.Count;
        if (n == 0) throw new ArgumentException("no samples", nameof(answers));
        if (correct.Count != n) throw new ArgumentException($"{correct.Count} correct flags for {n} answers", nameof(correct));

        // Group samples by answer; null answers are group −1.
        var groupOf = new int[n];
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var sizes = new List<int>();
        var correctSums = new List<double>();
        for (int j = 0; j < n; j++)
        {
            if (answers[j] is not { } a) { groupOf[j] = -1; continue; }
            if (!index.TryGetValue(a, out int g)) { g = index[a] = sizes.Count; sizes.Add(0); correctSums.Add(0); }
            groupOf[j] = g;
            sizes[g]++;
            if (correct[j]) correctSums[g]++;
        }
        var majority = new MajorityCounter(groupOf, sizes.Select((s, g) => correctSums[g] / s).ToArray(), sizes.ToArray());

        var value = new double[n];
        var stdErr = new double[n];
        var method = new MajorityMethod[n];
        bool anyMonteCarlo = false;
        for (int k = 1; k <= n; k++)
        {
            if (Binomial(n, k) <= options.MajorityExactLimit)
            {
                method[k - 1] = MajorityMethod.Exact;
                value[k - 1] = majority.Exact(k);
            }
            else { method[k - 1] = MajorityMethod.MonteCarlo; anyMonteCarlo = true; }
        }
        if (anyMonteCarlo)
        {
            int draws = options.MajorityMonteCarloDraws;
            if (draws < 2) throw new ArgumentOutOfRangeException(nameof(options), draws, "MajorityMonteCarloDraws must be at least 2");
            var rng = new SplitMix64(unchecked((ulong)options.Seed * 0x9E3779B97F4A7C15UL) ^ MiniMath.Fnv1a64(promptId));
            var sum = new double[n];
            var sumSq = new double[n];
            majority.MonteCarlo(draws, ref rng, sum, sumSq);
            for (int k = 1; k <= n; k++)
            {
                if (method[k - 1] != MajorityMethod.MonteCarlo) continue;
                double mean = sum[k - 1] / draws;
                double variance = Math.Max(0, (sumSq[k - 1] - draws * mean * mean) / (draws - 1));
                value[k - 1] = mean;
                stdErr[k - 1] = Math.Sqrt(variance / draws);
            }
        }
        return (value, stdErr, method);
    }

    /// <summary>C(n, k) as a double (exact up to 2^53, then approximate; only compared with a limit).</summary>
    public static double Binomial(int n, int k)
    {
        if (k < 0 || k > n) return 0;
        k = Math.Min(k, n - k);
        double c = 1;
        for (int i = 1; i <= k; i++) c = c * (n - k + i) / i;
        return Math.Round(c);
    }

    /// <summary>Finds the majority answer of subsets with exact tie-breaking: enumerated exactly, or sampled.</summary>
    private sealed class MajorityCounter
    {
        private readonly int[] _groupOf;          // sample → answer group, −1 = no answer
        private readonly double[] _groupCorrect;  // answer group → correctness in [0, 1]
        private readonly int[] _groupSize;
        private readonly int[] _counts;           // scratch for Monte Carlo
        private readonly int _noAnswer;           // samples without an answer
        private readonly int[] _sizeAfter;        // _sizeAfter[g] = samples in groups g+1.. plus the no-answer ones
        private readonly double[] _binomial;      // C(_groupSize[g], x) for the enumeration, per group, flattened
        private readonly int[] _binomialStart;

        public MajorityCounter(int[] groupOf, double[] groupCorrect, int[] groupSize)
        {
            _groupOf = groupOf; _groupCorrect = groupCorrect; _groupSize = groupSize;
            _counts = new int[groupSize.Length];
            _noAnswer = groupOf.Count(g => g < 0);
            int groups = groupSize.Length;
            _sizeAfter = new int[groups];
            for (int g = groups - 1, after = _noAnswer; g >= 0; g--) { _sizeAfter[g] = after; after += groupSize[g]; }
            _binomialStart = new int[groups + 1];
            for (int g = 0; g < groups; g++) _binomialStart[g + 1] = _binomialStart[g] + groupSize[g] + 1;
            _binomial = new double[_binomialStart[groups]];
            for (int g = 0; g < groups; g++)
                for (int x = 0; x <= groupSize[g]; x++) _binomial[_binomialStart[g] + x] = Binomial(groupSize[g], x);
        }

        /// <summary>
        /// Exact maj@k: the mean over all C(n, k) subsets, enumerated by how many samples each answer group
        /// contributes (x_g, weighted by Π C(m_g, x_g)) instead of one subset at a time; same sum, fewer terms.
        /// </summary>
        public double Exact(int k)
        {
            int n = _groupOf.Length;
            double total = Enumerate(0, k, 1.0, 0, 0, 0.0);
            return total / Binomial(n, k);
        }

        /// <summary>Sum over choices x_g.. of weight × majority value; the rest of k comes from the no-answer samples.</summary>
        private double Enumerate(int g, int remaining, double weight, int max, int top, double topCorrect)
        {
            if (g == _groupSize.Length || remaining == 0)
            {
                if (remaining > _noAnswer) return 0; // cannot fill k
                // Groups not reached contribute 0 samples; the no-answer samples fill the rest.
                double ways = remaining == 0 ? 1 : Binomial(_noAnswer, remaining);
                return weight * ways * (top == 0 ? 0 : topCorrect / top);
            }
            double sum = 0;
            int lowest = Math.Max(0, remaining - _sizeAfter[g]);
            int highest = Math.Min(_groupSize[g], remaining);
            for (int x = lowest; x <= highest; x++)
            {
                double w = weight * _binomial[_binomialStart[g] + x];
                if (x == 0) sum += Enumerate(g + 1, remaining, w, max, top, topCorrect);
                else if (x > max) sum += Enumerate(g + 1, remaining - x, w, x, 1, _groupCorrect[g]);
                else if (x == max) sum += Enumerate(g + 1, remaining - x, w, max, top + 1, topCorrect + _groupCorrect[g]);
                else sum += Enumerate(g + 1, remaining - x, w, max, top, topCorrect);
            }
            return sum;
        }

        /// <summary>Adds the majority value of every prefix of <paramref name="draws"/> random permutations.</summary>
        public void MonteCarlo(int draws, ref SplitMix64 rng, double[] sum, double[] sumSq)
        {
            int n = _groupOf.Length;
            var groups = (int[])_groupOf.Clone(); // shuffled in place; the order left by one draw is as good a start as any
            for (int d = 0; d < draws; d++)
            {
                int max = 0, top = 0;
                double topCorrect = 0;
                for (int i = 0; i < n; i++)
                {
                    int j = i + rng.Below(n - i); // Fisher–Yates, one position at a time
                    int g = groups[j];
                    groups[j] = groups[i];
                    groups[i] = g;
                    if (g >= 0)
                    {
                        int c = ++_counts[g];
                        if (c > max) { max = c; top = 1; topCorrect = _groupCorrect[g]; }
                        else if (c == max) { top++; topCorrect += _groupCorrect[g]; }
                    }
                    double v = top == 0 ? 0 : topCorrect / top;
                    sum[i] += v;
                    sumSq[i] += v * v;
                }
                Array.Clear(_counts);
            }
        }

    }

    // ------------------------------------------------------------------------------------ prompt & dataset

    /// <summary>All per-prompt metrics. BoN@k needs Scores; maj@k and the diversity figures need Answers.</summary>
    public static PromptBonMetrics ForPrompt(PromptSamples samples, BonMetricsOptions? options = null)
    {
        int n = samples.Correct.Count;
        if (n == 0) throw new ArgumentException($"prompt '{samples.PromptId}' has no samples", nameof(samples));
        if (samples.Scores is { } s && s.Count != n)
            throw new ArgumentException($"prompt '{samples.PromptId}': {s.Count} scores for {n} samples", nameof(samples));
        if (samples.Answers is { } a && a.Count != n)
            throw new ArgumentException($"prompt '{samples.PromptId}': {a.Count} answers for {n} samples", nameof(samples));

        int c = samples.Correct.Count(x => x);
        var rewards = samples.Correct.Select(x => x ? 1.0 : 0.0).ToArray();
        double[]? bon = samples.Scores is { } scores ? BonAtKCurve(scores, rewards) : null;
        double[]? maj = null, majSe = null;
        MajorityMethod[]? method = null;
        int distinct = 0;
        double entropy = 0;
        if (samples.Answers is { } answers)
        {
            (maj, majSe, method) = MajAtKCurve(answers, samples.Correct, options, samples.PromptId);
            var freq = answers.Where(x => x is not null).GroupBy(x => x!, StringComparer.Ordinal).Select(g => g.Count()).ToList();
            distinct = freq.Count;
            double total = freq.Sum();
            foreach (var f in freq) entropy -= f / total * Math.Log(f / total);
        }
        return new PromptBonMetrics(samples.PromptId, n, c, PassAtKCurve(n, c), bon, maj, majSe, method,
            (double)c / n, distinct, entropy == 0 ? 0 : entropy); // "== 0" turns −0 into 0
    }

    /// <summary>Means over prompts with 95% t-intervals. Every prompt must have the same n.</summary>
    public static DatasetBonMetrics Aggregate(IReadOnlyList<PromptBonMetrics> prompts)
    {
        if (prompts.Count == 0) throw new ArgumentException("no prompts", nameof(prompts));
        int n = prompts[0].N;
        foreach (var p in prompts)
            if (p.N != n) throw new ArgumentException($"prompt '{p.PromptId}' has {p.N} samples but prompt '{prompts[0].PromptId}' has {n}; every prompt needs the same n");

        MeanInterval[] Curve(Func<PromptBonMetrics, double[]> pick) =>
            Enumerable.Range(0, n).Select(i => MeanInterval.Of(prompts.Select(p => pick(p)[i]).ToArray())).ToArray();

        bool allBon = prompts.All(p => p.BonAtK is not null), allMaj = prompts.All(p => p.MajAtK is not null);
        double[]? mcSe = null;
        MajorityMethod[]? method = null;
        if (allMaj)
        {
            mcSe = new double[n];
            method = new MajorityMethod[n];
            for (int i = 0; i < n; i++)
            {
                double v = 0;
                foreach (var p in prompts) v += p.MajAtKStdErr![i] * p.MajAtKStdErr[i];
                mcSe[i] = Math.Sqrt(v) / prompts.Count;
                method[i] = prompts.Any(p => p.MajMethod![i] == MajorityMethod.MonteCarlo) ? MajorityMethod.MonteCarlo : MajorityMethod.Exact;
            }
        }
        return new DatasetBonMetrics(prompts.Count, n,
            Curve(p => p.PassAtK),
            allBon ? Curve(p => p.BonAtK!) : null,
            allMaj ? Curve(p => p.MajAtK!) : null,
            mcSe, method,
            MeanInterval.Of(prompts.Select(p => p.MeanReward).ToArray()),
            MeanInterval.Of(prompts.Select(p => (double)p.DistinctAnswers).ToArray()),
            MeanInterval.Of(prompts.Select(p => p.AnswerEntropy).ToArray()));
    }
}
