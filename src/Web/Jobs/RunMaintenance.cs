// Start-up and periodic housekeeping: apply migrations, mark runs whose worker died as Interrupted
// (never left dangling as "running"), seed the example experiment on an empty database.
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Web.Extensions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Jobs;

public sealed class RunMaintenance(IDbContextFactory<BonStudioDb> dbFactory, IOptions<BonStudioOptions> options,
    RunCancellationRegistry cancellations, ILogger<RunMaintenance> logger)
{
    public const string ExampleExperimentName = "MiniMath examples";

    /// <summary>Migrations, dead-run sweep and example seeding, in that order. Called once before the host starts.</summary>
    public async Task InitializeAsync(CancellationToken ct = default)
    {
        Directory.CreateDirectory(options.Value.DataDirectoryFullPath);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.MigrateAsync(ct);
        await MarkDeadRunsInterruptedAsync(ct);
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

/// <summary>Repeats the dead-run sweep while the host runs (a worker killed after start-up is noticed too).</summary>
public sealed class DeadRunSweeper(RunMaintenance maintenance, IOptions<BonStudioOptions> options, ILogger<DeadRunSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(5).Ticks, options.Value.HeartbeatTimeout.Ticks / 2));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await maintenance.MarkDeadRunsInterruptedAsync(stoppingToken); }
                catch (Exception e) when (e is not OperationCanceledException) { logger.LogWarning(e, "dead-run sweep failed"); }
            }
        }
        catch (OperationCanceledException) { }
    }
}
