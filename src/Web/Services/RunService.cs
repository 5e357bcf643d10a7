// Creating, listing, reading and cancelling runs: the one service the REST API, the pages and the CLI all call.
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Web.Jobs;
using BonStudio.Web.RunKinds;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

/// <summary>Either a created run's id or validation errors (key = field path, e.g. "config.steps").</summary>
public sealed record CreateRunResult(int? RunId, IReadOnlyDictionary<string, string[]> Errors)
{
    public bool IsValid => Errors.Count == 0;
    public IEnumerable<string> ErrorLines => Errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"));
}

public sealed class RunService(
    IDbContextFactory<BonStudioDb> dbFactory,
    RunConfigBinder binder,
    RunKindRegistry kinds,
    IBackgroundJobClient jobs,
    RunCancellationRegistry cancellations,
    TimeProvider clock,
    ILogger<RunService> logger)
{
    public const int MaxNameLength = 300;
    public const int MaxTagLength = 50;
    public const int MaxTags = 20;
    public const int MaxPageSize = 200;

    /// <summary>Validates a request exactly as the form, the API and `run` do; nothing is written.</summary>
    public (ConfigBinding Binding, IReadOnlyDictionary<string, string[]> Errors) Validate(CreateRunRequest request)
    {
        var binding = binder.Bind(request.Kind, request.Config);
        var errors = binding.Errors.ToDictionary(e => e.Key, e => e.Value.ToList());
        void Add(string key, string message)
        {
            if (!errors.TryGetValue(key, out var list)) errors[key] = list = [];
            list.Add(message);
        }
        if (request.Name is { Length: > MaxNameLength })
            Add("name", $"The field name must be at most {MaxNameLength} characters.");
        if (request.Tags is { } tags)
        {
            if (tags.Count > MaxTags) Add("tags", $"The field tags must have at most {MaxTags} entries.");
            foreach (var t in tags)
                if (string.IsNullOrWhiteSpace(t) || t.Length > MaxTagLength || t.Contains(','))
                    Add("tags", $"The field tags has an invalid tag '{t}' (1 to {MaxTagLength} characters, no commas).");
        }
        return (binding, errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
    }

    /// <summary>Validates, writes a Queued run and (when <paramref name="enqueue"/>) hands it to Hangfire's `train` queue.
    /// An invalid request writes and queues nothing.</summary>
    public async Task<CreateRunResult> CreateAsync(CreateRunRequest request, bool enqueue = true, CancellationToken ct = default)
    {
        var (binding, errors) = Validate(request);
        if (errors.Count > 0) return new CreateRunResult(null, errors);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (request.ExperimentId is int experimentId && !await db.Experiments.AnyAsync(e => e.Id == experimentId, ct))
            return new CreateRunResult(null, new Dictionary<string, string[]> { ["experimentId"] = [$"The field experimentId refers to experiment {experimentId}, which does not exist."] });

        var config = binding.Config!;
        var now = clock.GetUtcNow().UtcDateTime;
        var run = new Run
        {
            Kind = binding.Kind!.Name,
            Name = string.IsNullOrWhiteSpace(request.Name) ? $"{binding.Kind.Name}__{config.Seed}__{now:yyyyMMdd-HHmmss}" : request.Name.Trim(),
            Notes = request.Notes,
            ExperimentId = request.ExperimentId,
            ConfigJson = binding.CanonicalJson!,
            ConfigHash = binding.ConfigHash!,
            GroupHash = binding.ConfigHashWithoutSeed!,
            Seed = config.Seed,
            Device = config.Device,
            Threads = config.Threads,
            Status = RunStatus.Queued,
            CreatedAt = now,
        };
        run.TagList = request.Tags ?? [];
        db.Runs.Add(run);
        await db.SaveChangesAsync(ct);

        if (enqueue) await EnqueueAsync(run.Id, ct);
        return new CreateRunResult(run.Id, new Dictionary<string, string[]>());
    }

    /// <summary>Hands a stored Queued run to Hangfire's `train` queue (sweeps write all children first, then enqueue).</summary>
    public async Task EnqueueAsync(int runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var jobId = jobs.Enqueue<RunJob>(j => j.RunAsync(runId, CancellationToken.None));
        await db.Runs.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.HangfireJobId, jobId), ct);
        logger.LogInformation("Run {RunId} queued as Hangfire job {JobId}", runId, jobId);
    }

    /// <summary>Cancels a queued run at once (its Hangfire job is deleted) or asks a running one to stop:
    /// the in-process token fires immediately, a worker in another process sees the flag within a flush interval.</summary>
    public async Task<CancelOutcome> CancelAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (run is null) return CancelOutcome.NotFound;
        if (run.Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled)
            return CancelOutcome.AlreadyFinished;
        if (run.Status == RunStatus.Interrupted)
        {
            // Waiting to be resumed: cancelling keeps it from being queued again.
            var stopped = await db.Runs.Where(r => r.Id == id && r.Status == RunStatus.Interrupted).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Cancelled)
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.StatusMessage, "cancelled while interrupted (not resumed)"), ct);
            if (stopped == 1) return CancelOutcome.Cancelled;
            run = await db.Runs.AsNoTracking().FirstAsync(r => r.Id == id, ct); // it was just queued again
        }

        var now = clock.GetUtcNow().UtcDateTime;
        if (run.Status == RunStatus.Queued)
        {
            var changed = await db.Runs.Where(r => r.Id == id && r.Status == RunStatus.Queued).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, RunStatus.Cancelled)
                .SetProperty(r => r.CancelRequested, true)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.StatusMessage, "cancelled before it started"), ct);
            if (changed == 1)
            {
                if (run.HangfireJobId is not null) jobs.Delete(run.HangfireJobId);
                return CancelOutcome.Cancelled;
            }
        }
        await db.Runs.Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.CancelRequested, true), ct);
        cancellations.Cancel(id);
        return CancelOutcome.Requested;
    }

    /// <summary>The runs table: filters (incl. a filter expression, see RunFilterExpression), sort and paging;
    /// implemented in RunListQuery.cs. Throws <see cref="RunFilterException"/> for a bad expression.</summary>
    public async Task<PagedResult<RunListItem>> ListAsync(RunQuery query, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await RunListQuery.ListAsync(db, query, MaxPageSize, ct);
    }

    public async Task<RunDetails?> GetAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var r = await db.Runs.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, ct);
        if (r is null) return null;
        var summaries = await db.RunSummaries.AsNoTracking().Where(s => s.RunId == id).ToListAsync(ct);
        var models = await db.Models.AsNoTracking().Where(m => m.ProducedByRunId == id).OrderBy(m => m.Step).ToListAsync(ct);
        return new RunDetails(r.Id, r.Kind, r.Name, r.Status, r.Progress, r.StatusMessage, r.Error, r.CancelRequested,
            r.TagList, r.Notes, r.ExperimentId, JsonNode.Parse(r.ConfigJson)!.AsObject(), r.ConfigHash, r.GroupHash, r.Seed,
            r.Device, r.Threads, r.Worker, r.CodeVersion, r.EnvironmentJson, Utc(r.CreatedAt), Utc(r.StartedAt), Utc(r.FinishedAt),
            Utc(r.HeartbeatAt), r.Attempts, r.ParentRunId, r.HangfireJobId,
            summaries.OrderBy(s => s.Name, MetricNameOrder.Comparer).ToDictionary(s => s.Name, s => s.Value),
            models.Select(ToItem).ToList());
    }

    /// <summary>Metric curves of a run; <paramref name="afterStep"/> returns only newer points (live polling).</summary>
    public async Task<IReadOnlyList<MetricSeries>?> MetricsAsync(int id, string? name = null, long? afterStep = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Runs.AnyAsync(r => r.Id == id, ct)) return null;
        var q = db.MetricPoints.AsNoTracking().Where(m => m.RunId == id);
        if (!string.IsNullOrWhiteSpace(name)) q = q.Where(m => m.Name == name);
        if (afterStep is long s) q = q.Where(m => m.Step > s);
        var points = await q.OrderBy(m => m.Name).ThenBy(m => m.Step).Select(m => new { m.Name, m.Step, m.Value }).ToListAsync(ct);
        return points.GroupBy(p => p.Name, StringComparer.Ordinal)
            .Select(g => new MetricSeries(g.Key, g.Select(p => new MetricPointDto(p.Step, p.Value)).ToList())).ToList();
    }

    /// <summary>Metric points stored after point id <paramref name="afterId"/> (for pages that poll for new points).</summary>
    public async Task<IReadOnlyList<(long Id, string Name, long Step, double Value)>> MetricPointsAfterAsync(int runId, long afterId, int max = 20_000, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.MetricPoints.AsNoTracking().Where(m => m.RunId == runId && m.Id > afterId)
            .OrderBy(m => m.Id).Take(max).Select(m => new { m.Id, m.Name, m.Step, m.Value }).ToListAsync(ct);
        return rows.Select(r => (r.Id, r.Name, r.Step, r.Value)).ToList();
    }

    /// <summary>The last <paramref name="take"/> log lines (after <paramref name="afterId"/> when given), oldest first.</summary>
    public async Task<IReadOnlyList<LogLine>?> LogAsync(int id, long? afterId = null, int take = 200, CancellationToken ct = default)
    {
        take = Math.Clamp(take, 1, 2000);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Runs.AnyAsync(r => r.Id == id, ct)) return null;
        var q = db.RunLogs.AsNoTracking().Where(l => l.RunId == id);
        if (afterId is long a) q = q.Where(l => l.Id > a);
        var lines = await q.OrderByDescending(l => l.Id).Take(take).Select(l => new { l.Id, l.Time, l.Level, l.Message }).ToListAsync(ct);
        lines.Reverse();
        return lines.Select(l => new LogLine(l.Id, Utc(l.Time), l.Level, l.Message)).ToList();
    }

    public async Task<PagedResult<ModelItem>> ModelsAsync(int page = 0, int pageSize = 25, CancellationToken ct = default)
    {
        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        page = Math.Max(0, page);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var total = await db.Models.CountAsync(ct);
        var models = await db.Models.AsNoTracking().OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id)
            .Skip(page * pageSize).Take(pageSize).ToListAsync(ct);
        return new PagedResult<ModelItem>(models.Select(ToItem).ToList(), total, page, pageSize);
    }

    public IReadOnlyList<RunKindInfo> Kinds() => kinds.All.Select(k => new RunKindInfo(
        k.Name, k.Title, k.Description, RunConfigBinder.ToJsonObject(k.CreateDefaultConfig()),
        ConfigSchema.Fields(k.ConfigType).Select(f => new RunKindField(f.JsonName, f.Label, f.Help,
            JsonNamingPolicy.CamelCase.ConvertName(f.Type.ToString()), f.Minimum, f.Maximum, f.Required, f.Choices)).ToList())).ToList();

    private static ModelItem ToItem(Model m) => new(m.Id, m.Name, m.Architecture, m.Tokenizer, m.Path, m.Step, m.Parameters,
        m.SizeBytes, m.Source, m.IsFinal, m.ProducedByRunId, Utc(m.CreatedAt));

    // SQLite returns DateTime without a kind; every time BonStudio stores is UTC, so say so ("...Z" in JSON).
    internal static DateTime Utc(DateTime t) => t.Kind == DateTimeKind.Utc ? t : DateTime.SpecifyKind(t, DateTimeKind.Utc);
    internal static DateTime? Utc(DateTime? t) => t is { } v ? Utc(v) : null;
}
