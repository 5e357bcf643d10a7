// Scale-out on PostgreSQL: a web process without workers and TWO `worker` processes share one database. Runs are
// spread across both workers; one worker is killed (SIGKILL) mid-training and its run resumes on the other from
// its last recorded checkpoint, finishing with a complete, duplicate-free metric history.
using BonStudio.Data;
using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests;

public class ScaleOutTests
{
    [Fact]
    public async Task TwoWorkersShareTheQueueAndAKilledWorkersRunResumesOnTheOther()
    {
        const int steps = 1000, checkpointEvery = 100; // long enough that even a fast machine is still training when the test kills it
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.CreateDatabaseAsync("bonstudio");
        var connectionString = postgres.ConnectionString("bonstudio");
        var dataDir = TempDirectory.Create("bs-scale"); // the shared volume (run directories, checkpoints)
        var common = new Dictionary<string, string>
        {
            ["BonStudioOptions:DatabaseProvider"] = "postgres",
            ["BonStudioOptions:DatabaseConnectionString"] = connectionString,
            ["BonStudioOptions:TrainWorkers"] = "1",
        };
        BonStudioDb Db()
        {
            var options = new DbContextOptionsBuilder<BonStudioPostgresDb>();
            DataExtensions.ConfigurePostgres(options, connectionString);
            return new BonStudioPostgresDb(options.Options);
        }
        try
        {
            await using var web = await ChildApp.StartAsync(dataDir, new Dictionary<string, string>(common) { ["BonStudioOptions:RunWorkers"] = "false" });
            await using var workerA = await ChildApp.StartAsync(dataDir, common, verb: "worker");
            await using var workerB = await ChildApp.StartAsync(dataDir, common, verb: "worker");
            var workers = new[] { workerA, workerB };
            string Diagnostics() => $"--- web\n{web.Output}\n--- worker A\n{workerA.Output}\n--- worker B\n{workerB.Output}";

            var first = await FaultToleranceTests.CreateRunAsync(web.BaseAddress, "scale-out 1", FaultToleranceTests.ResumableSftConfig(steps, checkpointEvery));
            var second = await FaultToleranceTests.CreateRunAsync(web.BaseAddress, "scale-out 2", FaultToleranceTests.ResumableSftConfig(steps, checkpointEvery));

            // Spread: both run at once, one per worker.
            var running = await Eventually.Until(async () =>
            {
                await using var db = Db();
                return await db.Runs.AsNoTracking().Where(r => r.Status == RunStatus.Running).Select(r => new { r.Id, r.Worker }).ToListAsync();
            }, rs => rs.Count == 2, TimeSpan.FromSeconds(90), "both runs running\n" + Diagnostics());
            Assert.Equal(2, running.Select(r => r.Worker).Distinct().Count());
            var expectedWorkers = workers.Select(w => w.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
            Assert.All(running, r => Assert.Contains(r.Worker!.Split(':').Last(), expectedWorkers));

            // Kill the worker of `first` once it has a recorded checkpoint.
            await Eventually.Until(async () =>
            {
                await using var db = Db();
                return await db.Models.CountAsync(m => m.ProducedByRunId == first);
            }, n => n >= 1, TimeSpan.FromSeconds(90), "a checkpoint of the first run\n" + Diagnostics());
            var victimName = running.Single(r => r.Id == first).Worker!;
            var victim = workers.Single(w => victimName.EndsWith(":" + w.ProcessId, StringComparison.Ordinal));
            var survivor = workers.Single(w => w != victim);
            await victim.KillAsync();
            await using (var db = Db())
                Assert.Equal(RunStatus.Running, (await db.Runs.AsNoTracking().SingleAsync(r => r.Id == first)).Status);

            // The survivor (its sweeper sees the stale heartbeat) queues the run again and resumes it.
            var runs = await Eventually.Until(async () =>
            {
                await using var db = Db();
                return await db.Runs.AsNoTracking().Where(r => r.Id == first || r.Id == second).OrderBy(r => r.Id).ToListAsync();
            }, rs => rs.All(r => r.Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled), TimeSpan.FromSeconds(180),
                "both runs to finish\n" + Diagnostics());
            Assert.All(runs, r => Assert.True(r.Status == RunStatus.Succeeded, $"run {r.Id}: {r.Status} {r.Error}\n{Diagnostics()}"));
            var resumed = runs.Single(r => r.Id == first);
            Assert.Equal(2, resumed.Attempts);
            Assert.EndsWith(":" + survivor.ProcessId, resumed.Worker);
            await using (var db = Db())
            {
                var logs = await db.RunLogs.Where(l => l.RunId == first).Select(l => l.Message).ToListAsync();
                Assert.Contains(logs, l => l.StartsWith("resumed from", StringComparison.Ordinal));
            }
            await FaultToleranceTests.AssertCompleteHistoryAsync(Db, first, steps, checkpointEvery);
            await FaultToleranceTests.AssertCompleteHistoryAsync(Db, second, steps, checkpointEvery);
        }
        finally { TempDirectory.TryDelete(dataDir); }
    }
}
