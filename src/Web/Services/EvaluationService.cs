// Reads stored evaluations (bon-eval runs and imported samples) for the API, the CLI and the pages: exact metric
// curves with 95% intervals computed on demand by BonMetrics (cached per run × temperature until the evaluation
// changes), the inspector's paged prompt list and prompt detail, per-prompt diffs, and re-scoring (a new score layer;
// samples are never regenerated).
using System.Collections.Concurrent;
using System.Globalization;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Metrics;
using BonStudio.Training.Verifiers;
using BonStudio.Web.RunKinds;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

/// <summary>Thrown for requests that name something that does not exist (→ 404).</summary>
public sealed class EvaluationNotFoundException(string message) : Exception(message);

public sealed class EvaluationService(IDbContextFactory<BonStudioDb> dbFactory)
{
    /// <summary>One prompt's stored outcome, everything rows and diffs need (texts are loaded only for the detail view); Metrics are row
    /// metrics: pass@k and the exactly enumerated maj@k entries (k = n among them), see RowMetricsOptions.</summary>
    private sealed record PromptData(long SetId, string Key, string Preview, int? Difficulty, bool[] Correct, string?[] Answers,
        Dictionary<int, double[]> Scores, PromptBonMetrics Metrics);

    /// <summary>One evaluation at one temperature, with per-layer BoN@k per prompt.</summary>
    private sealed record EvalData(int RunId, double Temperature, List<ScoreLayerInfo> Layers, List<PromptData> Prompts,
        Dictionary<int, double[][]> BonByLayer)
    {
        /// <summary>The aggregate curves, filled on first request (immutable once computed).</summary>
        public EvaluationCurves? Curves { get; set; }
    }

    private readonly ConcurrentDictionary<(int RunId, double Temperature), (string Stamp, EvalData Data)> _cache = new();
    private readonly ConcurrentDictionary<(int RunId, double Temperature), SemaphoreSlim> _loading = new();
    private const int PreviewLength = 300;

    // ------------------------------------------------------------------------------------------------ lists

    public async Task<IReadOnlyList<EvaluationSummary>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await SummariesAsync(db, db.Runs.Where(r => r.Kind == BonEvalKind.KindName), ct);
    }

    public async Task<EvaluationSummary?> GetAsync(int runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var list = await SummariesAsync(db, db.Runs.Where(r => r.Id == runId && r.Kind == BonEvalKind.KindName), ct);
        return list.Count == 0 ? null : list[0];
    }

    /// <summary>Summaries of the evaluations <paramref name="runs"/> selects, newest first: three queries in all, however many
    /// evaluations there are (one per table, grouped by run), never a query per evaluation.</summary>
    private static async Task<IReadOnlyList<EvaluationSummary>> SummariesAsync(BonStudioDb db, IQueryable<Run> runs, CancellationToken ct)
    {
        var rows = await runs.AsNoTracking().OrderByDescending(r => r.Id)
            .Select(r => new { r.Id, r.Name, r.Status, r.Tags, r.ModelId, r.CreatedAt }).ToListAsync(ct);
        if (rows.Count == 0) return [];
        var ids = runs.Select(r => r.Id);
        // Per (run, temperature): prompt count and n, read from the SampleSets index alone for the grouping.
        var sets = await db.SampleSets.Where(s => ids.Contains(s.RunId)).GroupBy(s => new { s.RunId, s.Temperature })
            .Select(g => new { g.Key.RunId, g.Key.Temperature, Prompts = g.Count(), N = g.Max(s => s.N) }).ToListAsync(ct);
        var layers = await db.ScoreLayers.AsNoTracking().Where(l => ids.Contains(l.RunId)).OrderBy(l => l.Id)
            .Select(l => new { l.RunId, Info = new ScoreLayerInfo(l.Id, l.Verifier, l.VerifierRunId, l.CreatedAt) }).ToListAsync(ct);
        var setsByRun = sets.GroupBy(s => s.RunId).ToDictionary(g => g.Key, g => g.OrderBy(s => s.Temperature).ToList());
        var layersByRun = layers.GroupBy(l => l.RunId).ToDictionary(g => g.Key, g => g.Select(l => l.Info).ToList());
        return rows.Select(r =>
        {
            var temps = setsByRun.TryGetValue(r.Id, out var t) ? t : [];
            return new EvaluationSummary(r.Id, r.Name, r.Status.ToString(), r.Tags.Contains(",import,"), r.ModelId,
                temps.Select(x => x.Temperature).ToList(), layersByRun.TryGetValue(r.Id, out var l) ? l : [],
                temps.Count == 0 ? 0 : temps[0].Prompts, temps.Count == 0 ? 0 : temps.Max(x => x.N), r.CreatedAt);
        }).ToList();
    }

    // ----------------------------------------------------------------------------------------------- loading

    private async Task<EvalData> LoadAsync(int runId, double? temperature, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Runs.AnyAsync(r => r.Id == runId && r.Kind == BonEvalKind.KindName, ct))
            throw new EvaluationNotFoundException($"evaluation {runId} does not exist");
        var temps = await db.SampleSets.Where(s => s.RunId == runId).Select(s => s.Temperature).Distinct().OrderBy(t => t).ToListAsync(ct);
        if (temps.Count == 0) throw new EvaluationNotFoundException($"evaluation {runId} has no stored samples yet");
        double t = temperature ?? temps[0];
        if (!temps.Contains(t))
            throw new EvaluationNotFoundException($"evaluation {runId} has no samples at temperature {t.ToString(CultureInfo.InvariantCulture)} (it has {string.Join(", ", temps.Select(x => x.ToString(CultureInfo.InvariantCulture)))})");

        // The stamp changes whenever sets or layers are added, so the cache never serves stale metrics.
        int sets = await db.SampleSets.CountAsync(s => s.RunId == runId && s.Temperature == t, ct);
        var layerIds = await db.ScoreLayers.Where(l => l.RunId == runId).Select(l => l.Id).ToListAsync(ct);
        var stamp = $"{sets}|{string.Join(",", layerIds)}";
        if (_cache.TryGetValue((runId, t), out var hit) && hit.Stamp == stamp) return hit.Data;

        // One load per evaluation at a time: concurrent first visits wait for it instead of each loading every sample.
        var gate = _loading.GetOrAdd((runId, t), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (_cache.TryGetValue((runId, t), out hit) && hit.Stamp == stamp) return hit.Data;
            var data = Load(db, runId, t);
            _cache[(runId, t)] = (stamp, data);
            return data;
        }
        finally { gate.Release(); }
    }

    private static EvalData Load(BonStudioDb db, int runId, double t)
    {
        var layers = db.ScoreLayers.AsNoTracking().Where(l => l.RunId == runId).OrderBy(l => l.Id)
            .Select(l => new ScoreLayerInfo(l.Id, l.Verifier, l.VerifierRunId, l.CreatedAt)).ToList();
        var sets = db.SampleSets.AsNoTracking().Where(s => s.RunId == runId && s.Temperature == t).OrderBy(s => s.PromptKey)
            .Select(s => new { s.Id, s.PromptKey, Preview = s.PromptText.Substring(0, PreviewLength), s.Difficulty, s.N }).ToList();
        var samples = (from x in db.Samples
                       join s in db.SampleSets on x.SampleSetId equals s.Id
                       where s.RunId == runId && s.Temperature == t
                       select new { x.SampleSetId, x.Index, x.Correct, x.ExtractedAnswer }).AsNoTracking().ToList();
        var scores = (from sc in db.Scores
                      join x in db.Samples on sc.SampleId equals x.Id
                      join s in db.SampleSets on x.SampleSetId equals s.Id
                      where s.RunId == runId && s.Temperature == t
                      select new { sc.ScoreLayerId, x.SampleSetId, x.Index, sc.Value }).AsNoTracking().ToList();

        var bySet = sets.ToDictionary(s => s.Id, s => (Correct: new bool[s.N], Answers: new string?[s.N], Scores: new Dictionary<int, double[]>()));
        foreach (var x in samples)
        {
            if (!bySet.TryGetValue(x.SampleSetId, out var e) || x.Index >= e.Correct.Length) continue;
            e.Correct[x.Index] = x.Correct == true; // an unknown verdict counts as not correct
            e.Answers[x.Index] = x.ExtractedAnswer;
        }
        foreach (var sc in scores)
        {
            if (!bySet.TryGetValue(sc.SampleSetId, out var e) || sc.Index >= e.Correct.Length) continue;
            if (!e.Scores.TryGetValue(sc.ScoreLayerId, out var arr)) e.Scores[sc.ScoreLayerId] = arr = Enumerable.Repeat(double.NaN, e.Correct.Length).ToArray();
            arr[sc.Index] = sc.Value;
        }

        // Row metrics, in parallel (each prompt is independent and seeded by its key). Rows, filters and diffs read only
        // pass@k (closed form), maj@n (always enumerated exactly: C(n, n) = 1) and the answer counts, so maj@k's Monte
        // Carlo, which dominates the cost, runs with the minimum of draws here; the curves recompute it in full.
        var promptArray = new PromptData[sets.Count];
        var options = RowMetricsOptions;
        Parallel.For(0, sets.Count, i =>
        {
            var s = sets[i];
            var e = bySet[s.Id];
            var metrics = BonMetrics.ForPrompt(new PromptSamples(s.PromptKey, e.Correct, null, e.Answers), options);
            promptArray[i] = new PromptData(s.Id, s.PromptKey, s.Preview, s.Difficulty, e.Correct, e.Answers, e.Scores, metrics);
        });
        var prompts = promptArray.ToList();
        var bon = new Dictionary<int, double[][]>();
        foreach (var layer in layers)
        {
            // A layer that does not cover every sample (e.g. re-scoring still running) has no curve.
            if (prompts.Any(p => !p.Scores.TryGetValue(layer.Id, out var sc) || sc.Any(double.IsNaN))) continue;
            var curves = new double[prompts.Count][];
            Parallel.For(0, prompts.Count, i =>
                curves[i] = BonMetrics.BonAtKCurve(prompts[i].Scores[layer.Id], prompts[i].Correct.Select(c => c ? 1.0 : 0.0).ToArray()));
            bon[layer.Id] = curves;
        }
        return new EvalData(runId, t, layers, prompts, bon);
    }

    // ----------------------------------------------------------------------------------------------- metrics

    public async Task<EvaluationCurves> CurvesAsync(int runId, double? temperature, CancellationToken ct = default)
    {
        var d = await LoadAsync(runId, temperature, ct);
        return d.Curves ??= Curves(d); // computed once per loaded evaluation (the cache entry is replaced when it changes)
    }

    /// <summary>Options of the per-prompt row metrics: only exactly enumerated maj@k entries (k = n among them) are used.</summary>
    private static readonly BonMetricsOptions RowMetricsOptions = new() { MajorityMonteCarloDraws = 2 };

    private static EvaluationCurves Curves(EvalData d)
    {
        if (d.Prompts.Count == 0) throw new EvaluationNotFoundException($"evaluation {d.RunId} has no prompts");
        // Full per-prompt metrics (maj@k's Monte Carlo with the default draws), computed here, once per loaded evaluation.
        var full = new PromptBonMetrics[d.Prompts.Count];
        var options = new BonMetricsOptions();
        Parallel.For(0, full.Length, i =>
        {
            var p = d.Prompts[i];
            full[i] = BonMetrics.ForPrompt(new PromptSamples(p.Key, p.Correct, null, p.Answers), options);
        });
        var agg = BonMetrics.Aggregate(full);
        int n = agg.N;
        var bon = d.Layers.Where(l => d.BonByLayer.ContainsKey(l.Id)).Select(l =>
        {
            var per = d.BonByLayer[l.Id];
            var curve = Enumerable.Range(0, n).Select(i => MeanInterval.Of(per.Select(p => p[i]).ToArray())).ToArray();
            return new VerifierCurve(l.Verifier, l.Id, Curve.From(curve));
        }).ToList();
        string method = agg.MajMethod is { } m && m.Any(x => x == MajorityMethod.MonteCarlo) ? "exact where C(n,k) ≤ 100000, seeded Monte Carlo elsewhere" : "exact";
        return new EvaluationCurves(d.RunId, d.Temperature, agg.NPrompts, n, Enumerable.Range(1, n).ToArray(),
            Curve.From(agg.PassAtK), Curve.From(agg.MajAtK!), method, agg.MajAtKMonteCarloStdErr ?? new double[n], bon,
            agg.MeanReward, agg.DistinctAnswers, agg.AnswerEntropy);
    }

    /// <summary>The run-list summary of a finished evaluation: bon/pass_at_{k}, bon/bon_at_{k}@{verifier}, bon/maj_at_{k}
    /// for k = 1, 2, 4, ..., n (and n), with "@T{t}" appended when the run has several temperatures. Step = k.</summary>
    public List<(string Name, long Step, double Value)> SummaryMetrics(int runId)
    {
        using var db = dbFactory.CreateDbContext();
        var temps = db.SampleSets.Where(s => s.RunId == runId).Select(s => s.Temperature).Distinct().OrderBy(t => t).ToList();
        var result = new List<(string, long, double)>();
        foreach (var t in temps)
        {
            var c = Curves(Load(db, runId, t));
            string suffix = temps.Count > 1 ? "@T" + t.ToString(CultureInfo.InvariantCulture) : "";
            foreach (int k in SummaryKs(c.N))
            {
                result.Add(($"bon/pass_at_{k}{suffix}", k, c.PassAtK.Mean[k - 1]));
                result.Add(($"bon/maj_at_{k}{suffix}", k, c.MajAtK.Mean[k - 1]));
                foreach (var v in c.BonAtK) result.Add(($"bon/bon_at_{k}@{v.Verifier}{suffix}", k, v.BonAtK.Mean[k - 1]));
            }
        }
        return result;
    }

    /// <summary>1, 2, 4, ... up to n, and n itself.</summary>
    public static IEnumerable<int> SummaryKs(int n)
    {
        int k = 1;
        for (; k <= n; k *= 2) yield return k;
        if (k / 2 != n) yield return n;
    }

    // ------------------------------------------------------------------------------------------------ prompts

    public async Task<PromptPage> PromptsAsync(int runId, PromptQuery q, CancellationToken ct = default)
    {
        var d = await LoadAsync(runId, q.Temperature, ct);
        var layer = ResolveLayer(d, q.Verifier);
        int pageSize = Math.Clamp(q.PageSize, 1, 500), page = Math.Max(0, q.Page);
        var rows = d.Prompts.Select((p, i) => Row(d, p, i, layer));
        if (!string.IsNullOrWhiteSpace(q.Search))
        {
            var s = q.Search.Trim();
            rows = rows.Where(r => r.PromptKey.Contains(s, StringComparison.OrdinalIgnoreCase) || r.Preview.Contains(s, StringComparison.OrdinalIgnoreCase));
        }
        if (q.Difficulty is int level) rows = rows.Where(r => r.Difficulty == level);
        rows = (q.Filter ?? "all").ToLowerInvariant() switch
        {
            "all" or "" => rows,
            "solved" => rows.Where(r => r.CorrectCount > 0),
            "unsolved" => rows.Where(r => r.CorrectCount == 0),
            "missed" => rows.Where(r => r.Missed),
            var f => throw new ArgumentException($"filter: unknown value '{f}' (all, solved, unsolved, missed)"),
        };
        var list = rows.ToList();
        var difficulties = d.Prompts.Where(p => p.Difficulty is not null).Select(p => p.Difficulty!.Value).Distinct().Order().ToList();
        return new PromptPage(list.Skip(page * pageSize).Take(pageSize).ToList(), list.Count, page, pageSize, d.Temperature, difficulties);
    }

    private static PromptRow Row(EvalData d, PromptData p, int index, ScoreLayerInfo? layer)
    {
        int n = p.Correct.Length, c = p.Metrics.NumCorrect;
        double? bonN = layer is not null && d.BonByLayer.TryGetValue(layer.Id, out var bon) ? bon[index][n - 1] : null;
        // "Verifier missed": a correct sample existed, but the pick among all n (ties broken at random) is not surely correct.
        bool missed = c > 0 && bonN is double b && b < 1 - 1e-12;
        return new PromptRow(p.SetId, p.Key, p.Preview, p.Difficulty, n, c, (double)c / n, bonN, missed,
            p.Metrics.MajAtK![n - 1], p.Metrics.DistinctAnswers);
    }

    private static ScoreLayerInfo? ResolveLayer(EvalData d, string? verifier)
    {
        if (string.IsNullOrEmpty(verifier)) return d.Layers.FirstOrDefault(l => d.BonByLayer.ContainsKey(l.Id));
        return d.Layers.FirstOrDefault(l => l.Verifier == verifier)
            ?? throw new ArgumentException($"verifier: evaluation {d.RunId} has no score layer '{verifier}' (it has {string.Join(", ", d.Layers.Select(l => l.Verifier))})");
    }

    /// <summary>One prompt's N samples with verdicts, scores, answer clusters and the Best-of-k pick probabilities.</summary>
    public async Task<PromptDetail> PromptAsync(int runId, long setId, string? verifier, int? k, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var set = await db.SampleSets.AsNoTracking().FirstOrDefaultAsync(s => s.Id == setId && s.RunId == runId, ct)
            ?? throw new EvaluationNotFoundException($"evaluation {runId} has no prompt (sample set) {setId}");
        var samples = await db.Samples.AsNoTracking().Where(x => x.SampleSetId == setId).OrderBy(x => x.Index).ToListAsync(ct);
        var layers = await db.ScoreLayers.AsNoTracking().Where(l => l.RunId == runId).OrderBy(l => l.Id).ToListAsync(ct);
        var ids = samples.Select(x => x.Id).ToList();
        var scores = await db.Scores.AsNoTracking().Where(sc => ids.Contains(sc.SampleId)).ToListAsync(ct);
        var layerName = layers.ToDictionary(l => l.Id, l => l.Verifier);
        var scoreMap = scores.GroupBy(sc => sc.SampleId).ToDictionary(g => g.Key,
            g => (IReadOnlyDictionary<string, double>)g.Where(sc => layerName.ContainsKey(sc.ScoreLayerId)).ToDictionary(sc => layerName[sc.ScoreLayerId], sc => sc.Value));

        int n = samples.Count;
        int kk = Math.Clamp(k ?? n, 1, Math.Max(1, n));
        var layer = string.IsNullOrEmpty(verifier) ? layers.FirstOrDefault() : layers.FirstOrDefault(l => l.Verifier == verifier)
            ?? throw new ArgumentException($"verifier: evaluation {runId} has no score layer '{verifier}'");
        double[]? layerScores = null;
        if (layer is not null && n > 0)
        {
            layerScores = samples.Select(x => scoreMap.TryGetValue(x.Id, out var m) && m.TryGetValue(layer.Verifier, out var v) ? v : double.NaN).ToArray();
            if (layerScores.Any(double.IsNaN)) layerScores = null;
        }
        var pick = layerScores is null ? new double[n] : PickProbabilities(layerScores, kk);
        double maxScore = layerScores?.Max() ?? double.NaN;

        // Answer clusters: group by extracted answer; the majority is the most frequent non-null answer(s).
        var clusters = samples.GroupBy(x => x.ExtractedAnswer)
            .Select(g => (Answer: g.Key, Count: g.Count(), Correct: g.Count(x => x.Correct == true)))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Answer, StringComparer.Ordinal).ToList();
        int top = clusters.Where(c => c.Answer is not null).Select(c => c.Count).DefaultIfEmpty(0).Max();
        var majority = clusters.Where(c => c.Answer is not null && c.Count == top && top > 0).Select(c => c.Answer).ToHashSet();

        var views = samples.Select((x, i) => new SampleView(x.Id, x.Index, x.Text, x.ExtractedAnswer, x.Correct, x.TokenCount, x.LogProb,
            x.Text.Length, scoreMap.TryGetValue(x.Id, out var m) ? m : new Dictionary<string, double>(),
            pick[i], layerScores is not null && layerScores[i] == maxScore, x.ExtractedAnswer is not null && majority.Contains(x.ExtractedAnswer))).ToList();
        double? bonAtK = layerScores is null ? null : BonMetrics.BonAtKCurve(layerScores, samples.Select(x => x.Correct == true ? 1.0 : 0.0).ToArray())[kk - 1];
        int c = samples.Count(x => x.Correct == true);
        return new PromptDetail(set.Id, runId, set.Temperature, set.PromptKey, set.PromptText, set.ReferenceAnswer, set.Difficulty, n, c,
            layers.Select(l => l.Verifier).ToList(), layer?.Verifier, kk, bonAtK, n == 0 ? 0 : BonMetrics.PassAtK(n, c, kk),
            clusters.Select(g => new AnswerCluster(g.Answer, g.Count, g.Correct, g.Answer is not null && majority.Contains(g.Answer))).ToList(), views);
    }

    /// <summary>
    /// P(sample i is the Best-of-k pick) when k of the n samples are drawn at random and ties are broken at random:
    /// the rank-r sample (ascending) is the maximum of a random k-subset with probability C(r−1, k−1)/C(n, k); a tie group
    /// shares its ranks' total equally. Sums to 1; at k = n it is 1/m for each of the m top-scoring samples.
    /// </summary>
    public static double[] PickProbabilities(IReadOnlyList<double> scores, int k)
    {
        int n = scores.Count;
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) => scores[a].CompareTo(scores[b]));
        var weight = new double[n + 1]; // weight[r] = C(r−1, k−1)/C(n, k), r = 1..n
        double w = (double)k / n;
        for (int r = n; r >= k; r--) { weight[r] = w; if (r > k) w *= (double)(r - k) / (r - 1); }
        var p = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start;
            double sum = 0;
            while (end < n && scores[order[end]] == scores[order[start]]) sum += weight[++end];
            for (int j = start; j < end; j++) p[order[j]] = sum / (end - start);
            start = end;
        }
        return p;
    }

    // --------------------------------------------------------------------------------------------------- diff

    public async Task<DiffResult> DiffAsync(DiffQuery q, CancellationToken ct = default)
    {
        var a = await LoadAsync(q.A, q.TemperatureA, ct);
        var b = await LoadAsync(q.B, q.TemperatureB, ct);
        var by = (q.By ?? "passn").ToLowerInvariant();
        if (by is not ("pass1" or "passn" or "bon" or "maj")) throw new ArgumentException($"by: unknown value '{q.By}' (pass1, passn, bon, maj)");
        Func<PromptData, int, double> value(EvalData d)
        {
            if (by != "bon") return (p, _) => by switch
            {
                "pass1" => p.Metrics.PassAtK[0],
                "passn" => p.Metrics.PassAtK[^1],
                _ => p.Metrics.MajAtK![^1],
            };
            var layer = ResolveLayer(d, q.Verifier) ?? throw new ArgumentException($"verifier: evaluation {d.RunId} has no complete score layer");
            if (!d.BonByLayer.TryGetValue(layer.Id, out var bon)) throw new ArgumentException($"verifier: layer '{layer.Verifier}' of evaluation {d.RunId} does not cover every sample");
            return (p, i) => bon[i][^1];
        }
        var va = value(a); var vb = value(b);
        var mapA = a.Prompts.Select((p, i) => (p, v: va(p, i))).ToDictionary(x => x.p.Key);
        var mapB = b.Prompts.Select((p, i) => (p, v: vb(p, i))).ToDictionary(x => x.p.Key);
        static bool Solved(double v) => v >= 0.5 - 1e-12;
        var rows = new List<PromptDiffRow>();
        int gained = 0, lost = 0, same1 = 0, same0 = 0, onlyA = 0, onlyB = 0;
        foreach (var key in mapA.Keys.Union(mapB.Keys).Order(StringComparer.Ordinal))
        {
            bool inA = mapA.TryGetValue(key, out var xa), inB = mapB.TryGetValue(key, out var xb);
            string change;
            if (inA && inB)
            {
                bool sa = Solved(xa.v), sb = Solved(xb.v);
                change = sa == sb ? (sa ? "unchanged-solved" : "unchanged-unsolved") : (sb ? "gained" : "lost");
                _ = change switch { "gained" => gained++, "lost" => lost++, "unchanged-solved" => same1++, _ => same0++ };
            }
            else if (inA) { change = "only-a"; onlyA++; }
            else { change = "only-b"; onlyB++; }
            rows.Add(new PromptDiffRow(key, (inA ? xa.p.Preview : xb.p.Preview), inA ? xa.p.SetId : null, inB ? xb.p.SetId : null,
                inA ? xa.v : null, inB ? xb.v : null, change));
        }
        return new DiffResult(q.A, q.B, a.Temperature, b.Temperature, by, by == "bon" ? (q.Verifier ?? ResolveLayer(a, null)?.Verifier) : null,
            gained, lost, same1, same0, onlyA, onlyB, rows);
    }

    // ----------------------------------------------------------------------------------------------- re-score

    /// <summary>One reward model, or the mean-logit ensemble of modelId and ensembleModelIds ("reward-model#4+6").</summary>
    private static IVerifier LearnedVerifier(RescoreRequest request, Func<int, IVerifier> load)
    {
        var ids = new[] { request.ModelId }.Concat(request.EnsembleModelIds ?? []).ToList();
        if (ids.Count == 1) return load(request.ModelId);
        if (ids.Any(id => id <= 0) || ids.Distinct().Count() != ids.Count)
            throw new ArgumentException($"ensembleModelIds: model ids must be positive and distinct, got {string.Join(", ", ids)}");
        var members = new List<IVerifier>();
        try
        {
            foreach (var id in ids) members.Add(load(id));
            return new EnsembleVerifier("reward-model#" + string.Join("+", ids), members);
        }
        catch
        {
            foreach (var m in members) (m as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>Adds a score layer for another verifier to every stored sample of an evaluation. All-or-nothing: every
    /// sample is scored first, with no write lock held (a learned verifier can take minutes, and SQLite has one writer:
    /// holding its lock that long made concurrently starting runs fail with "database is locked"), then the layer and
    /// its scores are written in one short transaction, so a failure before or during the write leaves no layer.
    /// Oracle verifiers need only the stored verdicts; samples are never regenerated.</summary>
    public async Task<RescoreResult> RescoreAsync(int runId, RescoreRequest request, Func<int, IVerifier>? learned = null, CancellationToken ct = default)
    {
        IVerifier verifier = (request.Verifier ?? "").ToLowerInvariant() switch
        {
            "oracle" => new OracleVerifier(),
            "noisy-oracle" => request.Epsilon is >= 0 and <= 1 ? new NoisyOracleVerifier(request.Epsilon, request.Seed)
                : throw new ArgumentException($"epsilon: {request.Epsilon} is not a flip probability in [0, 1]"),
            "reward-model" => request.ModelId > 0
                ? LearnedVerifier(request, learned ?? (id => EvaluationVerifiers.LoadRewardModel(new EvaluationStore(dbFactory), id, Training.Runtime.TorchRuntime.ResolveDevice("auto"))))
                : throw new ArgumentException("reward-model re-scoring needs modelId (a learned verifier's model id)"),
            var v => throw new ArgumentException($"verifier: unknown value '{v}' (oracle, noisy-oracle, reward-model)"),
        };
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            if (!await db.Runs.AnyAsync(r => r.Id == runId && r.Kind == BonEvalKind.KindName, ct))
                throw new EvaluationNotFoundException($"evaluation {runId} does not exist");
            if (await db.ScoreLayers.AnyAsync(l => l.RunId == runId && l.Verifier == verifier.Name, ct))
                throw new ArgumentException($"verifier: evaluation {runId} already has a '{verifier.Name}' layer");
            var sets = await db.SampleSets.AsNoTracking().Where(s => s.RunId == runId).OrderBy(s => s.Id)
                .Select(s => new { s.Id, s.PromptKey, s.PromptText }).ToListAsync(ct);
            bool needsText = verifier is not (OracleVerifier or NoisyOracleVerifier);

            // 1. Score (reads only).
            var scores = new List<(long SampleId, double Value)>();
            int scored = 0;
            foreach (var set in sets)
            {
                ct.ThrowIfCancellationRequested();
                var samples = await db.Samples.AsNoTracking().Where(x => x.SampleSetId == set.Id).OrderBy(x => x.Index)
                    .Select(x => new { x.Id, x.Index, x.Correct, Text = needsText ? x.Text : "" }).ToListAsync(ct);
                var inputs = samples.Select(x => new VerifierInput(set.PromptKey, set.PromptText, x.Index, x.Text, x.Correct == true)).ToList();
                var values = verifier.Score(inputs);
                for (int i = 0; i < samples.Count; i++)
                    if (double.IsFinite(values[i])) scores.Add((samples[i].Id, values[i]));
                scored += samples.Count;
            }

            // 2. Write the layer and its scores: one transaction, held only for the inserts.
            int? verifierRunId = request.ModelId > 0 && request.EnsembleModelIds is not { Count: > 0 } ? await db.Models.Where(m => m.Id == request.ModelId).Select(m => m.ProducedByRunId).FirstOrDefaultAsync(ct) : null;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            if (await db.ScoreLayers.AnyAsync(l => l.RunId == runId && l.Verifier == verifier.Name, ct))
                throw new ArgumentException($"verifier: evaluation {runId} already has a '{verifier.Name}' layer (added while scoring)");
            var layer = new ScoreLayer
            {
                RunId = runId, Verifier = verifier.Name, VerifierRunId = verifierRunId,
                ConfigJson = System.Text.Json.JsonSerializer.Serialize(request),
            };
            db.ScoreLayers.Add(layer);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            foreach (var chunk in scores.Chunk(5000))
            {
                ct.ThrowIfCancellationRequested();
                db.Scores.AddRange(chunk.Select(x => new Score { SampleId = x.SampleId, ScoreLayerId = layer.Id, Value = x.Value }));
                db.ChangeTracker.DetectChanges();
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
            }
            await tx.CommitAsync(ct);
            return new RescoreResult(runId, layer.Id, verifier.Name, scored);
        }
        finally
        {
            (verifier as IDisposable)?.Dispose();
        }
    }
}
