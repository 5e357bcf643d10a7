// Start-up and periodic housekeeping: apply migrations, mark runs whose worker died as Interrupted
// (never left dangling as "running"), re-queue interrupted runs of resumable kinds (they continue from their
// last recorded checkpoint, a bounded number of times), seed the example experiment on an empty database.
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Web.Extensions;
using BonStudio.Web.Services;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Jobs;

public sealed class RunMaintenance(IDbContextFactory<BonStudioDb> dbFactory, IOptions<BonStudioOptions> options,
    RunCancellationRegistry cancellations, IBackgroundJobClient jobs, ILogger<RunMaintenance> logger)
{
    public const string ExampleExperimentName = "MiniMath examples";

    /// <summary>Migrations, dead-run sweep and example seeding, in that order. Called once before the host starts.</summary>
    public async Task InitializeAsync(CancellationToken ct = default)
    {
        Directory.CreateDirectory(options.Value.DataDirectoryFullPath);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.MigrateAsync(ct);
        await SweepAsync(ct);
        if (options.Value.SeedExamples && !await db.Experiments.AnyAsync(ct))
        {
            db.Experiments.Add(new Experiment
            {
                Name = ExampleExperimentName,
                Description = "Character-level GPT trained on MiniMath word problems (the `sft` preset; see examples/sft-minimath.json).",
            });
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>One sweep: dead runs become Interrupted, then interrupted resumable runs are queued again.</summary>
    public async Task SweepAsync(CancellationToken ct = default)
    {
        await MarkDeadRunsInterruptedAsync(ct);
        await RequeueInterruptedRunsAsync(ct);
    }

    /// <summary>Interrupted runs (worker killed, or shut down gracefully) of a resumable kind go back to Queued with a new
    /// Hangfire job, while Attempts &lt; MaxAttempts; the trainer resumes from its last recorded checkpoint. Several
    /// processes may sweep at once: the conditional update lets exactly one of them queue a run.</summary>
    public async Task<int> RequeueInterruptedRunsAsync(CancellationToken ct = default)
    {
        var opts = options.Value;
        if (!opts.ResumeInterruptedRuns) return 0;
        var resumable = opts.ResumableKindList;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var candidates = await db.Runs
            .Where(r => r.Status == RunStatus.Interrupted && !r.CancelRequested && resumable.Contains(r.Kind))
            .Select(r => new { r.Id, r.Attempts, r.Worker }).ToListAsync(ct);
        var count = 0;
        foreach (var r in candidates)
        {
            if (r.Attempts >= opts.MaxAttempts)
            {
                await db.Runs.Where(x => x.Id == r.Id && x.Status == RunStatus.Interrupted && (x.StatusMessage == null || !x.StatusMessage.StartsWith("not resumed")))
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.StatusMessage,
                        $"not resumed: {r.Attempts} attempts already (MaxAttempts {opts.MaxAttempts})"), ct);
                continue;
            }
            var message = $"queued to resume (attempt {r.Attempts + 1} of {opts.MaxAttempts}) after worker {r.Worker ?? "?"} stopped";
            var taken = await db.Runs.Where(x => x.Id == r.Id && x.Status == RunStatus.Interrupted && !x.CancelRequested)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.Status, RunStatus.Queued)
                    .SetProperty(x => x.StatusMessage, message)
                    .SetProperty(x => x.FinishedAt, (DateTime?)null), ct);
            if (taken == 0) continue; // another process queued it
            var jobId = jobs.Enqueue<RunJob>(j => j.RunAsync(r.Id, CancellationToken.None));
            await db.Runs.Where(x => x.Id == r.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.HangfireJobId, jobId), ct);
            db.RunLogs.Add(new RunLog { RunId = r.Id, Message = $"{message} (Hangfire job {jobId}, queued by {RunEnvironment.WorkerName})", Time = DateTime.UtcNow });
            await db.SaveChangesAsync(ct);
            logger.LogWarning("Run {RunId}: {Message}", r.Id, message);
            count++;
        }
        return count;
    }

    /// <summary>Running runs with no heartbeat for longer than HeartbeatTimeout belong to a dead process:
    /// they become Interrupted with a message saying so. Runs executing in this process are never touched.</summary>
    public async Task<int> MarkDeadRunsInterruptedAsync(CancellationToken ct = default)
    {
        var cutoff = DateTime.UtcNow - options.Value.HeartbeatTimeout;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var dead = await db.Runs.Where(r => r.Status == RunStatus.Running && (r.HeartbeatAt == null || r.HeartbeatAt < cutoff))
            .Select(r => new { r.Id, r.HeartbeatAt, r.Worker }).ToListAsync(ct);
        var count = 0;
        foreach (var r in dead.Where(r => !cancellations.IsRunningHere(r.Id)))
        {
            var message = $"interrupted: worker {r.Worker ?? "?"} stopped (last heartbeat {r.HeartbeatAt?.ToString("u") ?? "never"})";
            count += await db.Runs.Where(x => x.Id == r.Id && x.Status == RunStatus.Running).ExecuteUpdateAsync(s => s
                .SetProperty(x => x.Status, RunStatus.Interrupted)
                .SetProperty(x => x.StatusMessage, message)
                .SetProperty(x => x.FinishedAt, DateTime.UtcNow), ct);
            logger.LogWarning("Run {RunId}: {Message}", r.Id, message);
        }
        return count;
    }
}

/// <summary>Repeats the sweep while the host runs: a worker killed after start-up is noticed by any other process
/// (web or worker) sharing the database, and its resumable run is queued again for whichever worker is free.</summary>
public sealed class DeadRunSweeper(RunMaintenance maintenance, IOptions<BonStudioOptions> options, ILogger<DeadRunSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, options.Value.HeartbeatTimeout.Ticks / 2));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await maintenance.SweepAsync(stoppingToken); }
                catch (Exception e) when (e is not OperationCanceledException) { logger.LogWarning(e, "dead-run sweep failed"); }
            }
        }
        catch (OperationCanceledException) { }
    }
}
