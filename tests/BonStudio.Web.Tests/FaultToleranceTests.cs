// Fault tolerance on the embedded SQLite default, with the real executable as a child process: a server killed
// with SIGKILL mid-training (or stopped with SIGTERM) is started again and the run resumes from its last
// recorded checkpoint, finishing with every metric step exactly once.
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests;

public class FaultToleranceTests
{
    /// <summary>A tiny sft run long enough (a few seconds here) to be killed between checkpoints.</summary>
    internal static JsonObject ResumableSftConfig(int steps, int checkpointEvery)
    {
        var config = TinyRuns.SftConfig(steps);
        config["checkpointEvery"] = checkpointEvery;
        config["evalEvery"] = checkpointEvery;
        config["logEvery"] = 1;
        config["trainProblems"] = 256;
        config["embeddingDim"] = 32;
        config["batchSize"] = 16;
        return config;
    }

    internal static BonStudioDb SqliteDb(string dataDir) => new(new DbContextOptionsBuilder<BonStudioDb>()
        .UseSqlite($"Data Source={Path.Combine(dataDir, "bonstudio.db")};Pooling=False").Options);

    internal static async Task<int> CreateRunAsync(Uri baseAddress, string name, JsonObject config, HttpClient? client = null)
    {
        var http = client ?? new HttpClient();
        try
        {
            using var response = await http.PostAsJsonAsync(new Uri(baseAddress, "api/runs"), new { kind = "sft", name, config });
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"POST /api/runs: {(int)response.StatusCode} {body}");
            return JsonNode.Parse(body)!["id"]!.GetValue<int>();
        }
        finally { if (client is null) http.Dispose(); }
    }

    /// <summary>Every expected step of every curve present exactly once; checkpoints one row per file.</summary>
    internal static async Task AssertCompleteHistoryAsync(Func<BonStudioDb> db, int runId, int steps, int checkpointEvery)
    {
        await using var ctx = db();
        var points = await ctx.MetricPoints.AsNoTracking().Where(m => m.RunId == runId).Select(m => new { m.Name, m.Step }).ToListAsync();
        var trainLoss = points.Where(p => p.Name == "train/loss").Select(p => p.Step).Order().ToList();
        Assert.Equal(Enumerable.Range(1, steps).Select(i => (long)i), trainLoss);
        var evalLoss = points.Where(p => p.Name == "eval/loss").Select(p => p.Step).Order().ToList();
        var expectedEval = Enumerable.Range(1, steps / checkpointEvery).Select(i => (long)(i * checkpointEvery)).Where(s => s < steps).Append(steps).Distinct();
        Assert.Equal(expectedEval, evalLoss);
        Assert.Equal(points.Count, points.Distinct().Count());
        var models = await ctx.Models.AsNoTracking().Where(m => m.ProducedByRunId == runId).Select(m => m.Path).ToListAsync();
        Assert.Equal(models.Count, models.Distinct().Count());
    }

    [Fact]
    public async Task KilledServerResumesTheRunFromItsLastCheckpointWithACompleteMetricHistory()
    {
        const int steps = 1000, checkpointEvery = 100; // long enough that even a fast machine is still training when the test kills it
        var dataDir = TempDirectory.Create("bs-kill");
        try
        {
            int runId;
            long killedAtStep;
            // Arrange: a server training a run; wait for a recorded checkpoint and some metric points.
            await using (var first = await ChildApp.StartAsync(dataDir))
            {
                runId = await CreateRunAsync(first.BaseAddress, "killed mid-run", ResumableSftConfig(steps, checkpointEvery));
                await Eventually.Until(async () =>
                {
                    await using var db = SqliteDb(dataDir);
                    return await db.Models.CountAsync(m => m.ProducedByRunId == runId);
                }, n => n >= 1, TimeSpan.FromSeconds(90), $"a checkpoint of run {runId}\n{first.Output}");

                // Act 1: kill -9 mid-training.
                await first.KillAsync();
            }
            await using (var db = SqliteDb(dataDir))
            {
                var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId);
                Assert.True(run.Status == RunStatus.Running, $"the run should still be running when killed, was {run.Status}");
                killedAtStep = await db.MetricPoints.Where(m => m.RunId == runId && m.Name == "train/loss").MaxAsync(m => (long?)m.Step) ?? 0;
                Assert.InRange(killedAtStep, checkpointEvery, steps - 1);
                Assert.Equal(1, run.Attempts);
            }

            // Act 2: start again on the same data directory.
            await using (var second = await ChildApp.StartAsync(dataDir))
            {
                var final = await Eventually.Until(async () =>
                {
                    await using var db = SqliteDb(dataDir);
                    return await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId);
                }, r => r.Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled, TimeSpan.FromSeconds(120),
                    $"run {runId} to finish after the restart\n{second.Output}");

                // Assert: resumed (second attempt, from a checkpoint), succeeded, complete duplicate-free history.
                Assert.True(final.Status == RunStatus.Succeeded, $"{final.Status}: {final.Error}\n{second.Output}");
                Assert.Equal(2, final.Attempts);
                await using var db = SqliteDb(dataDir);
                var logs = await db.RunLogs.Where(l => l.RunId == runId).Select(l => l.Message).ToListAsync();
                Assert.Contains(logs, l => l.StartsWith("resuming run", StringComparison.Ordinal));
                Assert.Contains(logs, l => l.StartsWith("resumed from", StringComparison.Ordinal));
                await AssertCompleteHistoryAsync(() => SqliteDb(dataDir), runId, steps, checkpointEvery);
            }
        }
        finally { TempDirectory.TryDelete(dataDir); }
    }

    [Fact]
    public async Task SigtermCheckpointsMarksTheRunInterruptedAndTheNextStartFinishesIt()
    {
        const int steps = 1000, checkpointEvery = 5000; // no periodic checkpoint: only the shutdown writes one; long enough to be mid-run at SIGTERM
        var dataDir = TempDirectory.Create("bs-term");
        try
        {
            int runId;
            await using (var first = await ChildApp.StartAsync(dataDir))
            {
                runId = await CreateRunAsync(first.BaseAddress, "stopped gracefully", ResumableSftConfig(steps, checkpointEvery));
                await Eventually.Until(async () =>
                {
                    await using var db = SqliteDb(dataDir);
                    return await db.MetricPoints.CountAsync(m => m.RunId == runId && m.Name == "train/loss");
                }, n => n >= 20, TimeSpan.FromSeconds(90), $"metric points of run {runId}\n{first.Output}");

                // Act 1: SIGTERM (docker stop).
                await first.TerminateAsync(TimeSpan.FromSeconds(40));
            }
            await using (var db = SqliteDb(dataDir))
            {
                var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId);
                Assert.Equal(RunStatus.Interrupted, run.Status); // not Cancelled: nobody cancelled it
                var checkpoint = await db.Models.AsNoTracking().SingleAsync(m => m.ProducedByRunId == runId);
                Assert.InRange(checkpoint.Step, 20, steps - 1);
                Assert.False(checkpoint.IsFinal);
            }

            // Act 2: the next start queues it again and it finishes from the shutdown checkpoint.
            await using (var second = await ChildApp.StartAsync(dataDir))
            {
                var final = await Eventually.Until(async () =>
                {
                    await using var db = SqliteDb(dataDir);
                    return await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runId);
                }, r => r.Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled, TimeSpan.FromSeconds(120),
                    $"run {runId} to finish after the restart\n{second.Output}");
                Assert.True(final.Status == RunStatus.Succeeded, $"{final.Status}: {final.Error}\n{second.Output}");
                Assert.Equal(2, final.Attempts);
                await AssertCompleteHistoryAsync(() => SqliteDb(dataDir), runId, steps, checkpointEvery);
            }
        }
        finally { TempDirectory.TryDelete(dataDir); }
    }
}
