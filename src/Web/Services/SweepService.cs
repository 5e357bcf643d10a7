// Sweeps: a grid over any parameters of a base kind × a list of seeds expands into child runs (ParentRunId = the
// sweep's own Run row, kind "sweep"). Every child is validated exactly like a single run before anything is written;
// the children then queue and run as ordinary runs. Results are read through the seed groups (RunExplorerService).
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Web.RunKinds;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

/// <summary>A sweep: base kind and config, a grid (config field → values; dotted paths reach nested fields) and seeds.</summary>
public sealed record SweepRequest(
    string? Kind,
    string? Name = null,
    JsonObject? Config = null,
    Dictionary<string, List<JsonNode?>>? Grid = null,
    List<long>? Seeds = null,
    IReadOnlyList<string>? Tags = null);

/// <summary>How many runs a sweep expands into and the config of each (nothing is written).</summary>
public sealed record SweepPreview(int Count, int Combinations, int Seeds, IReadOnlyList<JsonObject> Configs, WorkEstimate Work);

public sealed record SweepResult(int? SweepId, IReadOnlyList<int> ChildRunIds, IReadOnlyDictionary<string, string[]> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

public sealed record SweepStatus(int Id, string Name, string BaseKind, int Total, int Queued, int Running, int Succeeded, int Failed, int Cancelled, JsonObject Definition);

public sealed class SweepService(IDbContextFactory<BonStudioDb> dbFactory, RunService runs, TimeProvider clock)
{
    public const string Kind = "sweep";
    public const int MaxChildren = 500;

    /// <summary>Expands and validates; errors are keyed like "grid.learningRate" or "config.steps".</summary>
    public (SweepPreview? Preview, IReadOnlyDictionary<string, string[]> Errors) Preview(SweepRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var grid = request.Grid ?? [];
        var seeds = request.Seeds is { Count: > 0 } s ? s.Distinct().ToList() : null;
        foreach (var (param, values) in grid)
        {
            if (param is "seed") errors["grid.seed"] = ["Put seeds in the field seeds, not in the grid."];
            else if (values is null || values.Count == 0) errors[$"grid.{param}"] = [$"The grid field {param} needs at least one value."];
            else if (!param.Split('.').All(p => p.Length > 0 && p.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_')))
                errors[$"grid.{param}"] = [$"'{param}' is not a config field name."];
        }
        if (request.Seeds is { Count: 0 }) errors["seeds"] = ["The field seeds needs at least one seed (or leave it out to use the config's seed)."];
        if (errors.Count > 0) return (null, errors);

        var combinations = grid.Aggregate(1L, (n, kv) => n * kv.Value.Count);
        var total = combinations * (seeds?.Count ?? 1);
        if (total > MaxChildren) return (null, new Dictionary<string, string[]> { ["grid"] = [$"The sweep expands into {total} runs; at most {MaxChildren}."] });

        var configs = new List<JsonObject>();
        var work = new List<WorkEstimate>();
        var keys = grid.Keys.ToList();
        foreach (var combo in Cartesian(keys.Select(k => grid[k]).ToList()))
            foreach (var seed in seeds ?? [long.MinValue])
            {
                var config = (JsonObject?)request.Config?.DeepClone() ?? new JsonObject();
                for (int i = 0; i < keys.Count; i++) SetPath(config, keys[i], combo[i]?.DeepClone());
                if (seed != long.MinValue) config["seed"] = seed;
                var (binding, childErrors) = runs.Validate(new CreateRunRequest(request.Kind, request.Name, config, request.Tags));
                if (childErrors.Count == 0) work.Add(binding.Kind!.Estimate(binding.Config!));
                foreach (var (key, messages) in childErrors)
                {
                    var gridKey = key.StartsWith("config.", StringComparison.Ordinal) && grid.ContainsKey(key[7..]) ? "grid." + key[7..] : key;
                    errors.TryAdd(gridKey, messages.Select(m => configs.Count == 0 && gridKey == key ? m : $"{m} (run {configs.Count + 1}: {Describe(keys, combo)})").ToArray());
                }
                configs.Add(config);
            }
        if (errors.Count > 0) return (null, errors);
        return (new SweepPreview(configs.Count, (int)combinations, seeds?.Count ?? 1, configs, WorkEstimate.Sum(work)), errors);
    }

    private static string Describe(List<string> keys, IReadOnlyList<JsonNode?> combo) =>
        string.Join(", ", keys.Select((k, i) => $"{k}={combo[i]?.ToJsonString() ?? "null"}"));

    private static IEnumerable<IReadOnlyList<JsonNode?>> Cartesian(List<List<JsonNode?>> lists)
    {
        IEnumerable<IReadOnlyList<JsonNode?>> acc = [[]];
        foreach (var list in lists)
            acc = acc.SelectMany(prefix => list.Select(v => (IReadOnlyList<JsonNode?>)[.. prefix, v]));
        return acc;
    }

    private static void SetPath(JsonObject config, string path, JsonNode? value)
    {
        var parts = path.Split('.');
        var node = config;
        foreach (var part in parts[..^1])
        {
            if (node[part] is not JsonObject child) node[part] = child = new JsonObject();
            node = child;
        }
        node[parts[^1]] = value;
    }

    /// <summary>Validates every child, writes the sweep row and the children (queued when <paramref name="enqueue"/>).</summary>
    public async Task<SweepResult> CreateAsync(SweepRequest request, bool enqueue = true, CancellationToken ct = default)
    {
        var (preview, errors) = Preview(request);
        if (preview is null) return new SweepResult(null, [], errors);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var definition = new JsonObject
        {
            ["baseKind"] = request.Kind,
            ["config"] = request.Config?.DeepClone(),
            ["grid"] = new JsonObject((request.Grid ?? []).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonArray(kv.Value.Select(v => v?.DeepClone()).ToArray())))),
            ["seeds"] = request.Seeds is null ? null : new JsonArray(request.Seeds.Select(s => (JsonNode?)s).ToArray()),
        };
        var json = definition.ToJsonString();
        var sweep = new Run
        {
            Kind = Kind,
            Name = string.IsNullOrWhiteSpace(request.Name) ? $"sweep__{request.Kind}__{now:yyyyMMdd-HHmmss}" : request.Name.Trim(),
            ConfigJson = json,
            ConfigHash = RunConfigBinder.Sha256(json),
            GroupHash = RunConfigBinder.Sha256(json),
            // The sweep row itself does no work: it is "succeeded" once expanded; progress is read from its children.
            Status = RunStatus.Succeeded,
            Progress = 1,
            StatusMessage = $"expanded into {preview.Count} runs",
            CreatedAt = now,
            StartedAt = now,
            FinishedAt = now,
        };
        sweep.TagList = request.Tags ?? [];
        db.Runs.Add(sweep);
        await db.SaveChangesAsync(ct);

        var children = new List<int>();
        var baseName = sweep.Name;
        foreach (var config in preview.Configs)
        {
            var created = await runs.CreateAsync(new CreateRunRequest(request.Kind, $"{baseName}__{children.Count + 1}__s{config["seed"]}", config, request.Tags),
                enqueue: false, ct);
            if (!created.IsValid) throw new InvalidOperationException("A sweep child failed validation after the preview passed: " + string.Join("; ", created.ErrorLines));
            children.Add(created.RunId!.Value);
        }
        await db.Runs.Where(r => children.Contains(r.Id)).ExecuteUpdateAsync(s => s.SetProperty(r => r.ParentRunId, sweep.Id), ct);
        if (enqueue)
            foreach (var id in children) await runs.EnqueueAsync(id, ct);
        return new SweepResult(sweep.Id, children, errors);
    }

    public async Task<SweepStatus?> StatusAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var sweep = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id && r.Kind == Kind, ct);
        if (sweep is null) return null;
        var counts = await db.Runs.Where(r => r.ParentRunId == id).GroupBy(r => r.Status).Select(g => new { g.Key, N = g.Count() }).ToListAsync(ct);
        int N(RunStatus s) => counts.FirstOrDefault(c => c.Key == s)?.N ?? 0;
        var definition = JsonNode.Parse(sweep.ConfigJson)!.AsObject();
        return new SweepStatus(sweep.Id, sweep.Name, definition["baseKind"]?.GetValue<string>() ?? "", counts.Sum(c => c.N),
            N(RunStatus.Queued), N(RunStatus.Running), N(RunStatus.Succeeded), N(RunStatus.Failed) + N(RunStatus.Interrupted), N(RunStatus.Cancelled), definition);
    }
}
