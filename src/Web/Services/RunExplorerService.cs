// Everything the runs table does beyond listing: seed groups (runs that differ only by seed, GroupHash) with
// mean ± 95% Student-t interval per metric, comparing runs (config differences, final metrics side by side), and
// editing a run's star/archive flags, tags and notes.
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

/// <summary>Mean and 95% confidence half-width (Student t, n-1 degrees of freedom) of a metric over a group's seeds.
/// HalfWidth is null for a single seed.</summary>
public sealed record MetricAggregate(double Mean, double? HalfWidth, int Count, double Min, double Max)
{
    public double? Low => HalfWidth is double h ? Mean - h : null;
    public double? High => HalfWidth is double h ? Mean + h : null;
}

public sealed record RunGroupMember(int Id, string Name, long Seed, RunStatus Status, IReadOnlyDictionary<string, double> Metrics);

public sealed record RunGroup(string GroupHash, string Kind, string Name, int Seeds, JsonObject Config,
    IReadOnlyList<RunGroupMember> Runs, IReadOnlyDictionary<string, MetricAggregate> Metrics);

/// <summary>A seed group's metric at one step: mean over the seeds that logged that step, 95% t-interval (null for one seed).</summary>
public sealed record SeedBandPoint(long Step, double Mean, double? Low, double? High, int Count);

/// <summary>One seed's curve inside a group (drill-down).</summary>
public sealed record SeedCurve(int RunId, string Name, long Seed, RunStatus Status, IReadOnlyList<MetricPointDto> Points);

/// <summary>A metric curve of a seed group: the mean with its band, and each seed's own curve.</summary>
public sealed record GroupCurve(string GroupHash, string Name, int Seeds, IReadOnlyList<SeedBandPoint> Band, IReadOnlyList<SeedCurve> PerSeed);

public sealed record ConfigDifference(string Field, IReadOnlyList<JsonNode?> Values);

public sealed record RunComparison(IReadOnlyList<RunListItem> Runs, IReadOnlyList<ConfigDifference> ConfigDifferences,
    IReadOnlyList<string> SameConfigFields, IReadOnlyList<string> MetricNames);

/// <summary>Partial update of a run's annotations; null members are left unchanged.</summary>
/// <summary>Members left null are unchanged; ExperimentId 0 removes the run from its experiment.</summary>
public sealed record RunAnnotationUpdate(bool? Starred = null, bool? Archived = null, IReadOnlyList<string>? Tags = null, string? Notes = null,
    int? ExperimentId = null);

public static class SeedStatistics
{
    // Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom.
    private static readonly double[] T975 =
    [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
        2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
        2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ];

    /// <summary>t_{0.975, df}; beyond 30 a Cornish-Fisher expansion around 1.95996 (error &lt; 1e-4).</summary>
    public static double TQuantile975(int degreesOfFreedom)
    {
        if (degreesOfFreedom < 1) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom));
        if (degreesOfFreedom <= T975.Length) return T975[degreesOfFreedom - 1];
        const double z = 1.959963984540054;
        double v = degreesOfFreedom;
        return z + (z * z * z + z) / (4 * v) + (5 * Math.Pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v);
    }

    public static MetricAggregate Aggregate(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("No values to aggregate", nameof(values));
        var n = values.Count;
        var mean = values.Average();
        double? half = null;
        if (n > 1)
        {
            var variance = values.Sum(v => (v - mean) * (v - mean)) / (n - 1);
            half = TQuantile975(n - 1) * Math.Sqrt(variance / n);
        }
        return new MetricAggregate(mean, half, n, values.Min(), values.Max());
    }

    /// <summary>Mean ± 95% t-interval over seeds at every step any seed logged (each step uses the seeds that have it,
    /// so a seed that stopped early narrows n, not the mean's meaning).</summary>
    public static IReadOnlyList<SeedBandPoint> Band(IReadOnlyList<IReadOnlyList<MetricPointDto>> seeds)
    {
        var byStep = new SortedDictionary<long, List<double>>();
        foreach (var curve in seeds)
            foreach (var p in curve)
            {
                if (!byStep.TryGetValue(p.Step, out var values)) byStep[p.Step] = values = [];
                values.Add(p.Value);
            }
        return byStep.Select(kv =>
        {
            var a = Aggregate(kv.Value);
            return new SeedBandPoint(kv.Key, a.Mean, a.Low, a.High, a.Count);
        }).ToList();
    }
}

public sealed class RunExplorerService(IDbContextFactory<BonStudioDb> dbFactory)
{
    public const int MaxGroupRuns = 5000;
    public const int MaxCompare = 20;

    /// <summary>Seed groups of the runs matching <paramref name="query"/> (same filters as the list; paging is over groups,
    /// newest group first). Throws <see cref="RunFilterException"/> for a bad filter expression.</summary>
    public async Task<PagedResult<RunGroup>> GroupsAsync(RunQuery query, CancellationToken ct = default)
    {
        var pageSize = Math.Clamp(query.PageSize, 1, RunService.MaxPageSize);
        var page = Math.Max(0, query.Page);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var filtered = RunListQuery.Filtered(db, query);
        var groupKeys = filtered.GroupBy(r => r.GroupHash).Select(g => new { Hash = g.Key, Newest = g.Max(r => r.Id) });
        var total = await groupKeys.CountAsync(ct);
        var hashes = await groupKeys.OrderByDescending(g => g.Newest).Skip(page * pageSize).Take(pageSize).Select(g => g.Hash).ToListAsync(ct);
        var runs = await filtered.Where(r => hashes.Contains(r.GroupHash)).OrderBy(r => r.Seed).ThenBy(r => r.Id).Take(MaxGroupRuns)
            .Select(r => new { r.Id, r.Name, r.Kind, r.Seed, r.Status, r.GroupHash, r.ConfigJson }).ToListAsync(ct);
        var ids = runs.Select(r => r.Id).ToList();
        var summaries = await db.RunSummaries.AsNoTracking().Where(s => ids.Contains(s.RunId)).Select(s => new { s.RunId, s.Name, s.Value }).ToListAsync(ct);
        var metricsByRun = summaries.GroupBy(s => s.RunId).ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, double>)g.ToDictionary(s => s.Name, s => s.Value, StringComparer.Ordinal));
        var groups = new List<RunGroup>();
        foreach (var hash in hashes)
        {
            var members = runs.Where(r => r.GroupHash == hash).ToList();
            if (members.Count == 0) continue;
            var memberRows = members.Select(r => new RunGroupMember(r.Id, r.Name, r.Seed, r.Status,
                metricsByRun.TryGetValue(r.Id, out var m) ? m : new Dictionary<string, double>())).ToList();
            var config = JsonNode.Parse(members[0].ConfigJson)!.AsObject();
            config.Remove("seed");
            // Aggregate over runs that finished successfully (a failed seed would bias the mean); all runs if none did.
            var done = memberRows.Where(m => m.Status == RunStatus.Succeeded).ToList();
            var basis = done.Count > 0 ? done : memberRows;
            var names = basis.SelectMany(m => m.Metrics.Keys).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal);
            var aggregates = names.ToDictionary(n => n,
                n => SeedStatistics.Aggregate(basis.Where(m => m.Metrics.ContainsKey(n)).Select(m => m.Metrics[n]).ToList()), StringComparer.Ordinal);
            groups.Add(new RunGroup(hash, members[0].Kind, GroupName(members.Select(m => m.Name).ToList()), members.Select(m => m.Seed).Distinct().Count(),
                config, memberRows, aggregates));
        }
        return new PagedResult<RunGroup>(groups, total, page, pageSize);
    }

    /// <summary>Common prefix of the members' names (names default to "{kind}__{seed}__…"), else the first name.</summary>
    private static string GroupName(IReadOnlyList<string> names)
    {
        if (names.Count == 1) return names[0];
        var prefix = names.Aggregate((a, b) => new string(a.Zip(b).TakeWhile(p => p.First == p.Second).Select(p => p.First).ToArray()));
        prefix = prefix.TrimEnd('_', '-', ' ', '.');
        return prefix.Length >= 3 ? prefix : names[0];
    }

    /// <summary>Runs side by side: only the config fields that differ (flattened "a.b" paths), plus the union of metric names.
    /// Null when a run does not exist.</summary>
    public async Task<RunComparison?> CompareAsync(IReadOnlyList<int> ids, CancellationToken ct = default)
    {
        if (ids.Count is 0 or > MaxCompare) throw new ArgumentException($"Compare 1 to {MaxCompare} runs.", nameof(ids));
        var distinct = ids.Distinct().ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Runs.AsNoTracking().Where(r => distinct.Contains(r.Id)).ToListAsync(ct);
        if (rows.Count != distinct.Count) return null;
        rows = distinct.Select(id => rows.First(r => r.Id == id)).ToList();
        var summaries = await db.RunSummaries.AsNoTracking().Where(s => distinct.Contains(s.RunId)).ToListAsync(ct);
        var items = rows.Select(r => new RunListItem(r.Id, r.Kind, r.Name, r.Status, r.Progress, r.StatusMessage, r.TagList, r.Seed,
            r.CreatedAt, r.StartedAt, r.FinishedAt, r.Starred, r.Archived, r.GroupHash, r.ExperimentId, r.ParentRunId, r.Notes,
            summaries.Where(s => s.RunId == r.Id).ToDictionary(s => s.Name, s => s.Value, StringComparer.Ordinal))).ToList();

        var flat = rows.Select(r => Flatten(JsonNode.Parse(r.ConfigJson)!.AsObject())).ToList();
        flat = rows.Select((r, i) => { flat[i]["kind"] = JsonValue.Create(r.Kind); return flat[i]; }).ToList();
        var fields = flat.SelectMany(f => f.Keys).Distinct(StringComparer.Ordinal).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var differences = new List<ConfigDifference>();
        var same = new List<string>();
        foreach (var field in fields)
        {
            var values = flat.Select(f => f.TryGetValue(field, out var v) ? v?.DeepClone() : null).ToList();
            var texts = values.Select(v => v?.ToJsonString() ?? "(missing)").Distinct().Count();
            if (texts > 1) differences.Add(new ConfigDifference(field, values)); else same.Add(field);
        }
        var metricNames = summaries.Select(s => s.Name).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
        return new RunComparison(items, differences, same, metricNames);
    }

    /// <summary>Curves of <paramref name="metric"/> for the given runs, grouped by seed group (GroupHash, first appearance
    /// order): mean with a 95% band over seeds, plus each seed's curve. Null when a run does not exist.</summary>
    public async Task<IReadOnlyList<GroupCurve>?> GroupCurvesAsync(IReadOnlyList<int> ids, string metric, CancellationToken ct = default)
    {
        if (ids.Count is 0 or > MaxCompare) throw new ArgumentException($"Compare 1 to {MaxCompare} runs.", nameof(ids));
        var distinct = ids.Distinct().ToList();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var runs = await db.Runs.AsNoTracking().Where(r => distinct.Contains(r.Id))
            .Select(r => new { r.Id, r.Name, r.Seed, r.Status, r.GroupHash }).ToListAsync(ct);
        if (runs.Count != distinct.Count) return null;
        runs = distinct.Select(id => runs.First(r => r.Id == id)).ToList();
        var points = await db.MetricPoints.AsNoTracking().Where(p => distinct.Contains(p.RunId) && p.Name == metric)
            .OrderBy(p => p.Step).Select(p => new { p.RunId, p.Step, p.Value }).ToListAsync(ct);
        var byRun = points.GroupBy(p => p.RunId).ToDictionary(g => g.Key, g => Thin(g.Select(p => new MetricPointDto(p.Step, p.Value)).ToList()));
        var curves = new List<GroupCurve>();
        foreach (var group in runs.GroupBy(r => r.GroupHash))
        {
            var members = group.OrderBy(r => r.Seed).ThenBy(r => r.Id).ToList();
            var perSeed = members.Select(r => new SeedCurve(r.Id, r.Name, r.Seed, r.Status, byRun.GetValueOrDefault(r.Id) ?? [])).ToList();
            // Same rule as the group table: successful seeds only, unless none succeeded.
            var basis = perSeed.Where(c => c.Status == RunStatus.Succeeded).ToList() is { Count: > 0 } done ? done : perSeed;
            curves.Add(new GroupCurve(group.Key, GroupName(members.Select(m => m.Name).ToList()), members.Select(m => m.Seed).Distinct().Count(),
                SeedStatistics.Band(basis.Select(c => c.Points).ToList()), perSeed));
        }
        return curves;
    }

    /// <summary>At most MaxCurvePoints evenly spaced points (first and last kept).</summary>
    private static IReadOnlyList<MetricPointDto> Thin(List<MetricPointDto> points)
    {
        const int MaxCurvePoints = 1000;
        if (points.Count <= MaxCurvePoints) return points;
        var stride = (int)Math.Ceiling(points.Count / (double)MaxCurvePoints);
        return points.Where((_, i) => i % stride == 0 || i == points.Count - 1).ToList();
    }

    private static Dictionary<string, JsonNode?> Flatten(JsonObject obj, string prefix = "", Dictionary<string, JsonNode?>? into = null)
    {
        into ??= new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in obj)
        {
            var path = prefix.Length == 0 ? key : prefix + "." + key;
            if (value is JsonObject child) Flatten(child, path, into);
            else into[path] = value;
        }
        return into;
    }

    /// <summary>Updates star/archive/tags/notes; returns validation errors (field → messages), or null when the run is missing.</summary>
    public async Task<IReadOnlyDictionary<string, string[]>?> AnnotateAsync(int id, RunAnnotationUpdate update, CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string[]>();
        if (update.Tags is { } tags)
        {
            if (tags.Count > RunService.MaxTags) errors["tags"] = [$"The field tags must have at most {RunService.MaxTags} entries."];
            else if (tags.FirstOrDefault(t => string.IsNullOrWhiteSpace(t) || t.Length > RunService.MaxTagLength || t.Contains(',')) is { } bad)
                errors["tags"] = [$"The field tags has an invalid tag '{bad}' (1 to {RunService.MaxTagLength} characters, no commas)."];
        }
        if (update.Notes is { Length: > 100_000 }) errors["notes"] = ["The field notes must be at most 100000 characters."];
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == id, ct);
        if (run is null) return null;
        if (update.ExperimentId is > 0 and var experimentId && !await db.Experiments.AnyAsync(e => e.Id == experimentId, ct))
            errors["experimentId"] = [$"The field experimentId refers to experiment {experimentId}, which does not exist."];
        if (errors.Count > 0) return errors;
        if (update.ExperimentId is int x) run.ExperimentId = x > 0 ? x : null;
        if (update.Starred is bool s) run.Starred = s;
        if (update.Archived is bool a) run.Archived = a;
        if (update.Tags is { } t) run.TagList = t;
        if (update.Notes is { } n) run.Notes = n.Length == 0 ? null : n;
        await db.SaveChangesAsync(ct);
        return errors;
    }
}
