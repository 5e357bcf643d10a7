// The job's reporter stores everything a run reports, even when the run ends in the middle of a periodic flush.
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Runtime;
using BonStudio.Web.Jobs;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace BonStudio.Web.Tests;

public class DbRunReporterTests
{
    [Theory]
    [InlineData(1)]        // the flush loop is busy all the time: disposing lands in the middle of a flush
    [InlineData(3_600_000)] // the loop never flushes: everything goes through the final flush
    public async Task EverythingReportedIsStoredExactlyOnceWhateverTheFlushTiming(int flushIntervalMs)
    {
        var dir = TempDirectory.Create("bs-reporter");
        try
        {
            await using var services = new ServiceCollection().AddBonStudioData(DataExtensions.SqliteConnectionString(Path.Combine(dir, "bonstudio.db"))).BuildServiceProvider();
            var factory = services.GetRequiredService<IDbContextFactory<BonStudioDb>>();
            int runId;
            await using (var db = await factory.CreateDbContextAsync())
            {
                await db.MigrateAsync();
                var run = new Run { Kind = "test", Name = "reporter", ConfigJson = "{}", ConfigHash = new string('a', 64), GroupHash = new string('b', 64), Status = RunStatus.Running };
                db.Runs.Add(run);
                await db.SaveChangesAsync();
                runId = run.Id;
            }

            const int Steps = 2000;
            for (int round = 0; round < 5; round++)
            {
                // Act: report a burst, then end the run at once (as a fast run does).
                using var cts = new CancellationTokenSource();
                var reporter = new DbRunReporter(runId, "reporter", "{}", factory, cts, TimeSpan.FromMilliseconds(flushIntervalMs), null, NullLogger.Instance);
                for (int step = 0; step < Steps; step++)
                {
                    reporter.Metric($"train/loss_{round}", step, 1.0 / (step + 1));
                    reporter.Metric($"train/loss_{round}", step, 2.0 / (step + 1)); // re-reported: last value wins, no duplicate
                    reporter.Log($"round {round} step {step}");
                    if (step == Steps / 2) await Task.Delay(20); // let a periodic flush pick up the first half and start writing
                }
                reporter.Checkpoint(new CheckpointInfo(Path.Combine(dir, $"ckpt-{round}.safetensors"), 50, "gpt", "char:ascii", 123, IsFinal: true));
                reporter.Progress(0.5, $"round {round}");
                await reporter.DisposeAsync();

                // Assert
                await using var check = await factory.CreateDbContextAsync();
                var points = await check.MetricPoints.Where(m => m.RunId == runId && m.Name == $"train/loss_{round}").OrderBy(m => m.Step).ToListAsync();
                Assert.Equal(Steps, points.Count);
                Assert.Equal(2.0, points[0].Value);
                Assert.Equal(Steps, await check.RunLogs.CountAsync(l => l.RunId == runId && l.Message.StartsWith($"round {round} ")));
                Assert.Equal(1, await check.Models.CountAsync(m => m.Path.EndsWith($"ckpt-{round}.safetensors") && m.ProducedByRunId == runId));
                Assert.Equal(2.0 / Steps, (await check.RunSummaries.SingleAsync(s => s.RunId == runId && s.Name == $"train/loss_{round}")).Value, 12);
                var run = await check.Runs.SingleAsync(r => r.Id == runId);
                Assert.Equal(0.5, run.Progress);
                Assert.NotNull(run.HeartbeatAt);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TempDirectory.TryDelete(dir);
        }
    }
}
