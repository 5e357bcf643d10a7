// Scale-out shape: a run submitted to the web app running without workers (RunWorkers=false) is executed by the
// `worker` verb, a Hangfire server with no UI that shares only the data directory (databases) with it.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using BonStudio.Data.Entities;
using BonStudio.Web.Cli;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Web.Tests;

public class WorkerVerbTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public async Task WorkerVerbExecutesARunSubmittedToAWebAppWithoutWorkers()
    {
        var dataDir = TempDirectory.Create("bs-worker");
        try
        {
            // Arrange: the web app with no workers of its own (RunWorkers=false) accepts a run through the API.
            using var web = new BonStudioAppFactory(new() { ["BonStudioOptions:RunWorkers"] = "false" }, dataDirectory: dataDir);
            using var http = web.Client(web.Start());
            var response = await http.PostAsJsonAsync("/api/runs", TinyRuns.Rl("for the worker"), Json);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var id = (await response.Content.ReadFromJsonAsync<RunDetails>(Json))!.Id;
            async Task<RunDetails> Get() => (await http.GetFromJsonAsync<RunDetails>($"/api/runs/{id}", Json))!;
            await Task.Delay(2000);
            Assert.Equal(RunStatus.Queued, (await Get()).Status); // nobody executes it yet

            // Act: start `worker`.
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(150));
            var output = new StringWriter();
            var worker = BonStudioCli.InvokeAsync(["worker", "--data-dir", dataDir], TextWriter.Synchronized(output), TextWriter.Synchronized(output), stop.Token);
            var done = await Eventually.Until(Get, r => r.Status is RunStatus.Succeeded or RunStatus.Failed,
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
