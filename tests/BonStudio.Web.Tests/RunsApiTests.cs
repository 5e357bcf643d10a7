// The REST API and the pages over real Kestrel, with the real Hangfire server executing real (tiny) runs.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Data.Entities;
using BonStudio.Web.RunKinds;
using BonStudio.Web.Services;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Web.Tests;

public class RunsApiTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private static async Task<RunDetails> WaitForStatus(HttpClient http, int id, Func<RunStatus, bool> done, TimeSpan timeout) =>
        await Eventually.Until(async () => (await http.GetFromJsonAsync<RunDetails>($"/api/runs/{id}", Json))!,
            r => done(r.Status), timeout, $"run {id} status");

    private static long HangfireJobCount(BonStudioAppFactory app)
    {
        var s = app.Services.GetRequiredService<JobStorage>().GetMonitoringApi().GetStatistics();
        return s.Enqueued + s.Scheduled + s.Processing + s.Succeeded + s.Failed + s.Deleted;
    }

    [Fact]
    public async Task EstimateCountsTheWorkOfAConfigBeforeLaunchAndQueuesNothing()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());
        var jobsBefore = HangfireJobCount(app);

        // Act: the tiny sft (6 steps × batch 8; 2 greedy evaluations of 8 validation problems, 8 test problems) and rl configs.
        var sft = (await (await http.PostAsJsonAsync("/api/runs/estimate", TinyRuns.Sft(), Json)).Content.ReadFromJsonAsync<WorkEstimate>(Json))!;
        var rl = (await (await http.PostAsJsonAsync("/api/runs/estimate", TinyRuns.Rl(budget: 300), Json)).Content.ReadFromJsonAsync<WorkEstimate>(Json))!;
        var bad = await http.PostAsJsonAsync("/api/runs/estimate", new CreateRunRequest("sft", "x", new JsonObject { ["steps"] = -1 }, []), Json);

        // Assert: counts follow from the config; an invalid config is a 400 naming the field; nothing was queued or stored.
        long Amount(WorkEstimate e, string what) => e.Amounts.Single(a => a.What == what).Amount;
        Assert.Equal(6, Amount(sft, "optimizer steps"));
        Assert.Equal(48, Amount(sft, "training sequences"));
        Assert.Equal(2 * 8 + 8, Amount(sft, "greedy answers (evaluation)"));
        Assert.Equal(300, Amount(rl, "simulator steps"));
        Assert.Equal(3, Amount(rl, "evaluation episodes"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("config.steps", await bad.Content.ReadAsStringAsync());
        Assert.Equal(jobsBefore, HangfireJobCount(app));
        await using (var db = app.Db()) Assert.Equal(0, await db.Runs.CountAsync());

        // Every kind's default preset has a non-empty estimate (the form shows it before launch).
        foreach (var kind in app.Services.GetRequiredService<RunKindRegistry>().All)
            Assert.NotEmpty(kind.Estimate(kind.CreateDefaultConfig()).Amounts);
    }

    [Fact]
    public async Task CreatedRlRunIsExecutedByHangfireAndItsMetricsLogEpisodesAndListFiltersAreServed()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());

        // Act: create a tiny real run through the API.
        var response = await http.PostAsJsonAsync("/api/runs", TinyRuns.Rl("api run", 300, "smoke"), Json);

        // Assert: 201 with the stored canonical config, then the Hangfire worker runs it to success.
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<RunDetails>(Json))!;
        Assert.Equal($"/api/runs/{created.Id}", response.Headers.Location!.OriginalString);
        Assert.Equal(4, created.Config["envSize"]!.GetValue<int>());
        Assert.NotNull(created.HangfireJobId);
        var done = await WaitForStatus(http, created.Id, s => s is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled, TimeSpan.FromSeconds(90));
        Assert.True(done.Status == RunStatus.Succeeded, done.Error);
        Assert.Equal(1.0, done.Progress);
        Assert.Equal("cpu", done.Device);
        Assert.False(string.IsNullOrEmpty(done.Worker));
        Assert.False(string.IsNullOrEmpty(done.CodeVersion));
        Assert.Contains("TorchSharp", done.EnvironmentJson);
        Assert.Contains("eval/return", done.FinalMetrics.Keys);

        var metrics = (await http.GetFromJsonAsync<List<MetricSeries>>($"/api/runs/{created.Id}/metrics", Json))!;
        var evalReturn = Assert.Single(metrics, m => m.Name == "eval/return");
        Assert.True(evalReturn.Points.Count >= 2);
        Assert.Equal(evalReturn.Points.OrderBy(p => p.Step).Select(p => p.Step), evalReturn.Points.Select(p => p.Step));
        var since = (await http.GetFromJsonAsync<List<MetricSeries>>($"/api/runs/{created.Id}/metrics?name=eval/return&afterStep={evalReturn.Points[0].Step}", Json))!;
        Assert.Equal(evalReturn.Points.Count - 1, Assert.Single(since).Points.Count);

        var raw = JsonNode.Parse(await http.GetStringAsync($"/api/runs/{created.Id}"))!;
        Assert.EndsWith("Z", raw["createdAt"]!.GetValue<string>()); // times are UTC and say so
        var log = (await http.GetFromJsonAsync<List<LogLine>>($"/api/runs/{created.Id}/log", Json))!;
        Assert.Contains(log, l => l.Message.Contains("on cpu"));

        // Episodes of the RL run reached the database through the same reporter.
        await using (var db = app.Db())
            Assert.True(await db.Episodes.CountAsync(e => e.RunId == created.Id) > 0);

        // List with filters.
        var byTag = (await http.GetFromJsonAsync<PagedResult<RunListItem>>("/api/runs?tag=smoke", Json))!;
        Assert.Equal(created.Id, Assert.Single(byTag.Items).Id);
        Assert.Empty((await http.GetFromJsonAsync<PagedResult<RunListItem>>("/api/runs?tag=other", Json))!.Items);
        Assert.Single((await http.GetFromJsonAsync<PagedResult<RunListItem>>("/api/runs?text=api%20ru&status=Succeeded&kind=rl", Json))!.Items);
        Assert.Empty((await http.GetFromJsonAsync<PagedResult<RunListItem>>("/api/runs?status=Failed", Json))!.Items);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/runs/999999")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/runs/999999/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync($"/api/runs/{created.Id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task TinySftRunTrainsThroughHangfireAndRegistersItsCheckpointsAsModels()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());

        var response = await http.PostAsJsonAsync("/api/runs", TinyRuns.Sft("api sft", 6), Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<RunDetails>(Json))!;

        var done = await WaitForStatus(http, created.Id, s => s is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled, TimeSpan.FromSeconds(120));
        Assert.True(done.Status == RunStatus.Succeeded, done.Error);
        // The end-of-run evaluation is stored as metrics; the training curve has a point per logged step.
        Assert.Contains("test/accuracy", done.FinalMetrics.Keys);
        Assert.Contains("test/loss", done.FinalMetrics.Keys);
        Assert.InRange(done.FinalMetrics["test/accuracy"], 0.0, 1.0);
        var trainLoss = Assert.Single((await http.GetFromJsonAsync<List<MetricSeries>>($"/api/runs/{created.Id}/metrics?name=train/loss", Json))!);
        Assert.Equal(6, trainLoss.Points.Count);
        Assert.All(trainLoss.Points, p => Assert.True(double.IsFinite(p.Value) && p.Value > 0));

        // Checkpoints (every 3 steps + final) are models produced by the run, files on disk in the run's folder.
        var final = Assert.Single(done.Models, m => m.IsFinal);
        Assert.Equal(6, final.Step);
        Assert.True(File.Exists(final.Path), final.Path);
        Assert.StartsWith(Path.Combine(app.DataDirectory, "runs", created.Id.ToString()), final.Path);
        Assert.True(final.Parameters > 0 && final.SizeBytes > 0);
        var models = (await http.GetFromJsonAsync<PagedResult<ModelItem>>("/api/models", Json))!;
        Assert.Contains(models.Items, m => m.Id == final.Id && m.ProducedByRunId == created.Id);
    }

    public static readonly (string Body, string Field)[] InvalidRequests =
    [
        ("""{"kind": "sft", "config": {"steps": -1}}""", "config.steps"),
        ("""{"kind": "sft", "config": {"embeddingDim": 30, "heads": 4}}""", "config.embeddingDim"),
        ("""{"kind": "nope", "config": {}}""", "kind"),
        ("""{"config": {"steps": 5}}""", "kind"),
        ("""{"kind": "rl"}""", "config"),
        ("""{"kind": "rl", "config": {"budgetSteps": -10}}""", "config.budgetSteps"),
        ("""{"kind": "rl", "config": {"budgetStep": 1000}}""", "config.budgetStep"),
        ("""{"kind": "rl", "config": {"device": null}}""", "config.device"),
        ("""{"kind": "rl", "config": "fast"}""", "config"),
        ("""{"kind": "rl", "config": {}, "priority": "high"}""", "priority"),
        ("""{"kind": "rl", "config": {}, "tags": "a,b"}""", "tags"),
        ("""{"kind": "rl", "config": {""", "body"),
    ];

    [Fact]
    public async Task InvalidRequestsGet400NamingTheFieldAndNothingIsQueued()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());
        var jobsBefore = HangfireJobCount(app);

        foreach (var (body, field) in InvalidRequests)
        {
            var response = await http.PostAsync("/api/runs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body} -> {response.StatusCode}");
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            var messages = problem["errors"]?[field]?.AsArray().Select(m => m!.GetValue<string>()).ToList();
            Assert.True(messages is { Count: > 0 }, $"{body}: no error for '{field}' in {problem.ToJsonString()}");
            var leaf = field.Split('.').Last();
            if (field != "body") Assert.Contains(messages, m => m.Contains(leaf, StringComparison.OrdinalIgnoreCase));
        }

        await using var db = app.Db();
        Assert.Equal(0, await db.Runs.CountAsync());
        Assert.Equal(jobsBefore, HangfireJobCount(app));
    }

    [Fact]
    public async Task CancellingARunningRunReachesItsTokenAndAQueuedOneIsNeverStarted()
    {
        using var app = new BonStudioAppFactory(new() { ["BonStudioOptions:TrainWorkers"] = "1" });
        using var http = app.Client(app.Start());

        // Arrange: a long run (would take minutes) occupies the only train worker; a second one waits in the queue.
        var longRun = (await (await http.PostAsJsonAsync("/api/runs", TinyRuns.Sft("long", 5_000_000), Json)).Content.ReadFromJsonAsync<RunDetails>(Json))!;
        var queued = (await (await http.PostAsJsonAsync("/api/runs", TinyRuns.Sft("waiting", 6), Json)).Content.ReadFromJsonAsync<RunDetails>(Json))!;
        await WaitForStatus(http, longRun.Id, s => s == RunStatus.Running, TimeSpan.FromSeconds(60));

        // Act: cancel the queued one first, then the running one.
        var cancelQueued = await http.PostAsync($"/api/runs/{queued.Id}/cancel", null);
        var started = DateTime.UtcNow;
        var cancelRunning = await http.PostAsync($"/api/runs/{longRun.Id}/cancel", null);

        // Assert
        Assert.Equal(HttpStatusCode.OK, cancelQueued.StatusCode);
        Assert.Equal(RunStatus.Cancelled, (await http.GetFromJsonAsync<RunDetails>($"/api/runs/{queued.Id}", Json))!.Status);
        Assert.Equal(HttpStatusCode.OK, cancelRunning.StatusCode);
        var stopped = await WaitForStatus(http, longRun.Id, s => s != RunStatus.Running, TimeSpan.FromSeconds(30));
        Assert.Equal(RunStatus.Cancelled, stopped.Status);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "cancel should reach the training loop within seconds");
        Assert.True(stopped.Progress < 0.5);
        Assert.Null(stopped.Error);
        // The queued run never started, even after the worker became free.
        await Task.Delay(1500);
        var neverStarted = (await http.GetFromJsonAsync<RunDetails>($"/api/runs/{queued.Id}", Json))!;
        Assert.Equal(RunStatus.Cancelled, neverStarted.Status);
        Assert.Null(neverStarted.StartedAt);
    }

    [Fact]
    public async Task PagesOpenApiAndDashboardAnswerOverKestrel()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());

        var runsPage = await http.GetStringAsync("/runs");
        Assert.Contains("data-page=\"runs\"", runsPage);
        Assert.Contains("_framework/blazor.web.js", runsPage);
        Assert.Contains("data-page=\"new-run\"", await http.GetStringAsync("/runs/new"));
        Assert.Contains("data-page=\"models\"", await http.GetStringAsync("/models"));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/app.css")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/_content/MudBlazor/MudBlazor.min.css")).StatusCode);

        var openApi = JsonNode.Parse(await http.GetStringAsync("/openapi/v1.json"))!;
        var paths = openApi["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/api/runs", paths);
        Assert.Contains("/api/runs/{id}/cancel", paths);
        Assert.Contains("/api/models", paths);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/hangfire")).StatusCode);
        var kinds = JsonNode.Parse(await http.GetStringAsync("/api/kinds"))!.AsArray();
        Assert.Contains(kinds, k => k!["name"]!.GetValue<string>() == "rl");
        var sft = Assert.Single(kinds, k => k!["name"]!.GetValue<string>() == "sft")!;
        var steps = Assert.Single(sft["fields"]!.AsArray(), f => f!["name"]!.GetValue<string>() == "steps")!;
        Assert.Equal(1, steps["minimum"]!.GetValue<double>());
        Assert.False(string.IsNullOrWhiteSpace(steps["help"]!.GetValue<string>()));
    }
}
