// Scale-out shape: a run queued by one process (the web app, here a host without workers) is executed by the
// `worker` verb, a Hangfire server with no UI, sharing only the data directory (databases) with it.
using BonStudio.Data.Entities;
using BonStudio.Web.Cli;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Web.Tests;

public class WorkerVerbTests
{
    [Fact]
    public async Task WorkerVerbExecutesARunQueuedByAnotherHostAndStopsOnRequest()
    {
        var dataDir = TempDirectory.Create("bs-worker");
        try
        {
            // Arrange: queue a run through RunService (as the API does) in a host that runs no workers.
            using var queueHost = BonStudioCli.BuildCliHost(dataDir);
            await queueHost.Services.GetRequiredService<RunMaintenance>().InitializeAsync();
            using var scope = queueHost.Services.CreateScope();
            var runs = scope.ServiceProvider.GetRequiredService<RunService>();
            var created = await runs.CreateAsync(TinyRuns.Rl("for the worker"), enqueue: true);
            Assert.True(created.IsValid);
            var id = created.RunId!.Value;
            await Task.Delay(1500);
            Assert.Equal(RunStatus.Queued, (await runs.GetAsync(id))!.Status); // nobody executes it yet

            // Act: start `worker`.
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(150));
            var output = new StringWriter();
            var worker = BonStudioCli.InvokeAsync(["worker", "--data-dir", dataDir], TextWriter.Synchronized(output), TextWriter.Synchronized(output), stop.Token);
            var done = await Eventually.Until(async () => (await runs.GetAsync(id))!, r => r.Status is RunStatus.Succeeded or RunStatus.Failed,
                TimeSpan.FromSeconds(120), $"run {id} executed by the worker");
            stop.Cancel();
            var exit = await worker;

            // Assert
            Assert.True(done.Status == RunStatus.Succeeded, done.Error);
            Assert.Equal(0, exit);
            Assert.Contains("worker", output.ToString());
            Assert.Contains("eval/return", done.FinalMetrics.Keys);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TempDirectory.TryDelete(dataDir);
        }
    }
}
