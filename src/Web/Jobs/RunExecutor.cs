// Executes one stored run: claims the Queued row, records where and how it runs, calls the kind's executor
// with a DbRunReporter, and writes the final status. Shared by the Hangfire job and the `run` verb.
using System.Text.Json;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Runtime;
using BonStudio.Web.Extensions;
using BonStudio.Web.RunKinds;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Jobs;

public sealed class RunExecutor(
    IDbContextFactory<BonStudioDb> dbFactory,
    RunKindRegistry kinds,
    RunCancellationRegistry cancellations,
    IOptions<BonStudioOptions> options,
    ILogger<RunExecutor> logger)
{
    /// <summary>Runs <paramref name="runId"/> to completion on the calling thread's behalf and returns its final status.
    /// A run that is not Queued (already taken, cancelled, finished) is left alone.</summary>
    public async Task<RunStatus> ExecuteAsync(int runId, CancellationToken hostToken, TextWriter? echo = null)
    {
        var opts = options.Value;
        Run? run;
        await using (var db = await dbFactory.CreateDbContextAsync(hostToken))
            run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, hostToken);
        if (run is null) throw new InvalidOperationException($"run {runId} does not exist");
        if (run.Status != RunStatus.Queued)
        {
            logger.LogInformation("Run {RunId} is {Status}, not Queued: nothing to do", runId, run.Status);
            return run.Status;
        }

        var kind = kinds.Get(run.Kind);
        var config = (IRunConfig)(JsonSerializer.Deserialize(run.ConfigJson, kind.ConfigType, RunConfigBinder.Json)
            ?? throw new InvalidOperationException($"run {runId}: stored config is null"));

        // Claim the row: only one worker moves it from Queued to Running.
        string device;
        try { device = TorchRuntime.ResolveDevice(config.Device).ToString(); }
        catch (Exception e) { return await FinishAsync(runId, RunStatus.Failed, $"device: {e.Message}", null); }
        var now = DateTime.UtcNow;
        await using (var db = await dbFactory.CreateDbContextAsync(hostToken))
        {
            var claimed = await db.Runs.Where(r => r.Id == runId && r.Status == RunStatus.Queued && !r.CancelRequested)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Status, RunStatus.Running)
                    .SetProperty(r => r.StartedAt, now)
                    .SetProperty(r => r.HeartbeatAt, now)
                    .SetProperty(r => r.Worker, RunEnvironment.WorkerName)
                    .SetProperty(r => r.CodeVersion, RunEnvironment.CodeVersion)
                    .SetProperty(r => r.Device, device)
                    .SetProperty(r => r.Threads, config.Threads)
                    .SetProperty(r => r.EnvironmentJson, RunEnvironment.Describe(device, config.Threads))
                    .SetProperty(r => r.Attempts, r => r.Attempts + 1)
                    .SetProperty(r => r.StatusMessage, "starting"), hostToken);
            if (claimed == 0)
            {
                var current = await db.Runs.AsNoTracking().Where(r => r.Id == runId).Select(r => r.Status).FirstAsync(hostToken);
                logger.LogInformation("Run {RunId} was not claimable (now {Status})", runId, current);
                return current;
            }
        }

        var runDirectory = opts.RunDirectory(runId);
        // A first attempt must not find files of another run with the same id (e.g. after the database was deleted
        // but data/runs was kept): trainers resume from checkpoints they find, so move such leftovers aside.
        if (run.Attempts == 0 && Directory.Exists(runDirectory) && Directory.EnumerateFileSystemEntries(runDirectory).Any())
            Directory.Move(runDirectory, $"{runDirectory}.stale-{DateTime.UtcNow:yyyyMMddHHmmss}");
        Directory.CreateDirectory(runDirectory);
        var attempt = run.Attempts + 1;
        // A resumed run continues from the newest checkpoint the database knows: a checkpoint file written just
        // before a crash, whose Model row (committed together with every metric reported before it) never made it,
        // is removed so its steps are recomputed and no metric point between it and the last flush is lost.
        var removed = attempt > 1 ? await RemoveUnrecordedCheckpointsAsync(runId, runDirectory, hostToken) : [];
        var cts = cancellations.Register(runId, hostToken);
        var reporter = new DbRunReporter(runId, run.Name, run.ConfigJson, dbFactory, cts, opts.FlushInterval, echo, logger)
        {
            Attempt = attempt,
        };
        RunStatus final;
        string? error = null, message;
        try
        {
            reporter.Log($"run {runId} ({run.Kind}) attempt {attempt} on {device}, {config.Threads} threads, worker {RunEnvironment.WorkerName}, code {RunEnvironment.CodeVersion}");
            if (attempt > 1) reporter.Log($"resuming run {runId} (attempt {attempt}) from its last recorded checkpoint");
            foreach (var path in removed) reporter.Log($"resume: removed checkpoint {Path.GetFileName(path)} (written but not recorded before the worker stopped)");
            // Training is CPU-bound and synchronous: give it its own thread so flushing keeps going.
            await Task.Factory.StartNew(() => kind.Execute(config, runDirectory, reporter), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
            final = RunStatus.Succeeded;
            message = "finished";
        }
        catch (OperationCanceledException) when (reporter.Superseded)
        {
            // Another worker took the run over (this one lost its heartbeat, e.g. the database was unreachable):
            // leave the row to the new owner.
            logger.LogWarning("Run {RunId}: attempt {Attempt} stopped, the run was taken over by another worker", runId, attempt);
            final = RunStatus.Running;
            message = null;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // A user's cancel (the row's flag) vs the host going away (Hangfire shutdown, Ctrl+C).
            bool byUser;
            await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
                byUser = reporter.CancelRequestedByUser || await db.Runs.AnyAsync(r => r.Id == runId && r.CancelRequested);
            final = byUser ? RunStatus.Cancelled : RunStatus.Interrupted;
            message = byUser ? "cancelled" : "interrupted: the worker shut down";
            reporter.Log(message);
        }
        catch (Exception e) when (TorchRuntime.IsPrematureScalarFree(Unwrap(e)))
        {
            // A TorchSharp bug, not the run's: Interrupted, so the dead-run sweep resumes it from its last checkpoint
            // (resumable kinds, at most MaxAttempts executions in all).
            final = RunStatus.Interrupted;
            message = "interrupted: TorchSharp 0.107 freed a temporary Scalar libtorch was still reading (a known bug); " +
                      "the run resumes from its last recorded checkpoint";
            reporter.Log($"{message}. {Unwrap(e).Message.Split('\n')[0]}");
            logger.LogWarning(Unwrap(e), "Run {RunId}: premature Scalar free, interrupted for resume", runId);
        }
        catch (Exception e)
        {
            var inner = Unwrap(e);
            final = RunStatus.Failed;
            error = $"{inner.GetType().Name}: {inner.Message}\n{inner.StackTrace}";
            message = "failed: " + inner.Message;
            reporter.Log(message);
            logger.LogError(inner, "Run {RunId} failed", runId);
        }
        finally
        {
            cancellations.Unregister(runId, cts);
        }
        await reporter.DisposeAsync(); // final flush: every metric, log line and checkpoint is stored before the status
        cts.Dispose();
        if (reporter.Superseded) return RunStatus.Running; // the row belongs to the attempt that took over
        return await FinishAsync(runId, final, error, message);
    }

    private static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerException! : e;

    /// <summary>Deletes <c>checkpoints/step-*.safetensors</c> files (and their <c>.optim</c>) of the run that have no Model row.</summary>
    private async Task<List<string>> RemoveUnrecordedCheckpointsAsync(int runId, string runDirectory, CancellationToken ct)
    {
        var checkpointDir = Path.Combine(runDirectory, "checkpoints");
        if (!Directory.Exists(checkpointDir)) return [];
        HashSet<string> recorded;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            recorded = (await db.Models.Where(m => m.ProducedByRunId == runId).Select(m => m.Path).ToListAsync(ct))
                .Select(p => Path.GetFullPath(p)).ToHashSet(StringComparer.Ordinal);
        var removed = new List<string>();
        foreach (var file in Directory.EnumerateFiles(checkpointDir, "step-*.safetensors"))
        {
            if (recorded.Contains(Path.GetFullPath(file))) continue;
            File.Delete(file);
            var optimizer = Path.ChangeExtension(file, ".optim");
            if (File.Exists(optimizer)) File.Delete(optimizer);
            removed.Add(file);
        }
        return removed;
    }

    private async Task<RunStatus> FinishAsync(int runId, RunStatus status, string? error, string? message)
    {
        var now = DateTime.UtcNow;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Runs.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Status, status)
            .SetProperty(r => r.FinishedAt, now)
            .SetProperty(r => r.HeartbeatAt, now)
            .SetProperty(r => r.Error, error)
            .SetProperty(r => r.StatusMessage, message ?? error)
            .SetProperty(r => r.Progress, r => status == RunStatus.Succeeded ? 1.0 : r.Progress));
        logger.LogInformation("Run {RunId} finished: {Status}", runId, status);
        return status;
    }
}
