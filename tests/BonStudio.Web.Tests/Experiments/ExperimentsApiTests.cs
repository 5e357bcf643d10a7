// The runs-table endpoints over real Kestrel: filter expressions (400 naming the field and position), sort,
// seed groups, compare, annotations (400/404), and the endpoints' presence in the OpenAPI document.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Data.Entities;
using BonStudio.Web.Services;

namespace BonStudio.Web.Tests.Experiments;

public class ExperimentsApiTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Seeds finished runs straight into the app's database (no training needed for table features).</summary>
    public static async Task<int> AddRun(BonStudioAppFactory app, string name, JsonObject config, long seed, Dictionary<string, double> metrics, string? group = null)
    {
        await using var db = app.Db();
        var full = (JsonObject)config.DeepClone();
        full["seed"] = seed;
        var run = new Run { Name = name, Kind = "sft", ConfigJson = full.ToJsonString(), ConfigHash = name, GroupHash = group ?? name, Seed = seed, Status = RunStatus.Succeeded };
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        foreach (var (metric, value) in metrics)
        {
            db.RunSummaries.Add(new RunSummary { RunId = run.Id, Name = metric, Value = value, Step = 5 });
            db.MetricPoints.Add(new MetricPoint { RunId = run.Id, Name = metric, Step = 1, Value = value / 2 });
            db.MetricPoints.Add(new MetricPoint { RunId = run.Id, Name = metric, Step = 5, Value = value });
        }
        await db.SaveChangesAsync();
        return run.Id;
    }

    [Fact]
    public async Task ExperimentsAreCreatedListedRenamedAndFilterTheRunsTheyHold()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());
        var a = await AddRun(app, "in study", new JsonObject { ["learningRate"] = 1e-3 }, 1, new() { ["eval/accuracy"] = 0.5 });
        var b = await AddRun(app, "elsewhere", new JsonObject { ["learningRate"] = 1e-3 }, 2, new() { ["eval/accuracy"] = 0.4 });

        // Act: create an experiment, put run a in it, rename it.
        var created = await http.PostAsJsonAsync("/api/experiments", new ExperimentRequest("BoN study", "**markdown** description"), Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var experiment = (await created.Content.ReadFromJsonAsync<ExperimentItem>(Json))!;
        Assert.Equal(HttpStatusCode.NoContent, (await http.PatchAsJsonAsync($"/api/runs/{a}", new RunAnnotationUpdate(ExperimentId: experiment.Id), Json)).StatusCode);
        var renamed = await http.PatchAsJsonAsync($"/api/experiments/{experiment.Id}", new ExperimentRequest(Name: "BoN study v2"), Json);

        // Assert: the list counts its run, the runs list filters by it, the rename stuck.
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        var listed = (await http.GetFromJsonAsync<List<ExperimentItem>>("/api/experiments", Json))!.Single(e => e.Id == experiment.Id);
        Assert.Equal(("BoN study v2", 1), (listed.Name, listed.RunCount));
        var runs = (await http.GetFromJsonAsync<JsonObject>($"/api/runs?experimentId={experiment.Id}", Json))!;
        Assert.Equal([a], runs["items"]!.AsArray().Select(r => r!["id"]!.GetValue<int>()).ToArray());

        // Bad input: 400 naming the field (missing name, duplicate name, unknown experiment on a run); unknown ids: 404.
        var missing = await http.PostAsJsonAsync("/api/experiments", new ExperimentRequest(Description: "no name"), Json);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("\"name\"", await missing.Content.ReadAsStringAsync());
        var duplicate = await http.PostAsJsonAsync("/api/experiments", new ExperimentRequest("BoN study v2"), Json);
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Contains("already exists", await duplicate.Content.ReadAsStringAsync());
        var unknown = await http.PatchAsJsonAsync($"/api/runs/{b}", new RunAnnotationUpdate(ExperimentId: 9999), Json);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("experimentId", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/experiments/9999")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PatchAsJsonAsync("/api/experiments/9999", new ExperimentRequest(Name: "x"), Json)).StatusCode);

        // Removing the run from the experiment (0 = none).
        await http.PatchAsJsonAsync($"/api/runs/{a}", new RunAnnotationUpdate(ExperimentId: 0), Json);
        Assert.Equal(0, (await http.GetFromJsonAsync<ExperimentItem>($"/api/experiments/{experiment.Id}", Json))!.RunCount);
    }

    [Fact]
    public async Task FilterSortGroupsCompareAndAnnotateOverHttp()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());
        var a = await AddRun(app, "low-lr", new JsonObject { ["learningRate"] = 1e-4, ["steps"] = 10 }, 1, new() { ["eval/accuracy"] = 0.5 }, "g");
        var b = await AddRun(app, "low-lr-2", new JsonObject { ["learningRate"] = 1e-4, ["steps"] = 10 }, 2, new() { ["eval/accuracy"] = 0.7 }, "g");
        var c = await AddRun(app, "high-lr", new JsonObject { ["learningRate"] = 1e-2, ["steps"] = 10 }, 1, new() { ["eval/accuracy"] = 0.9 });

        var filtered = (await http.GetFromJsonAsync<PagedResult<RunListItem>>(
            "/api/runs?filter=" + Uri.EscapeDataString("lr < 1e-3 and eval/accuracy > 0.6"), Json))!;
        Assert.Equal(b, Assert.Single(filtered.Items).Id);
        Assert.Equal(0.7, filtered.Items[0].Metrics!["eval/accuracy"]);

        var sorted = (await http.GetFromJsonAsync<PagedResult<RunListItem>>("/api/runs?sort=-metric:eval/accuracy", Json))!;
        Assert.Equal([c, b, a], sorted.Items.Select(r => r.Id));

        var bad = await http.GetAsync("/api/runs?filter=" + Uri.EscapeDataString("lr < and x"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = JsonNode.Parse(await bad.Content.ReadAsStringAsync())!;
        Assert.Contains("position 6", problem["errors"]!["filter"]![0]!.GetValue<string>());
        Assert.Equal(5, problem["position"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/api/runs?sort=colour")).StatusCode);

        var groups = (await http.GetFromJsonAsync<PagedResult<RunGroup>>("/api/runs/groups", Json))!;
        var g = Assert.Single(groups.Items, x => x.GroupHash == "g");
        Assert.Equal(2, g.Seeds);
        Assert.Equal(0.6, g.Metrics["eval/accuracy"].Mean, 9);
        Assert.Equal(12.7062 * 0.1 / Math.Sqrt(2) * Math.Sqrt(2), g.Metrics["eval/accuracy"].HalfWidth!.Value, 3); // sd = 0.1414, n = 2

        var cmp = (await http.GetFromJsonAsync<RunComparison>($"/api/runs/compare?ids={a},{c}", Json))!;
        Assert.Equal("learningRate", Assert.Single(cmp.ConfigDifferences).Field);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/runs/compare?ids={a},999999")).StatusCode);
        var badIds = await http.GetAsync("/api/runs/compare?ids=1,x");
        Assert.Equal(HttpStatusCode.BadRequest, badIds.StatusCode);
        Assert.Contains("\"ids\"", await badIds.Content.ReadAsStringAsync());

        var patch = await http.PatchAsJsonAsync($"/api/runs/{a}", new { starred = true, tags = new[] { "keep" }, notes = "# best so far" });
        Assert.Equal(HttpStatusCode.NoContent, patch.StatusCode);
        var starred = (await http.GetFromJsonAsync<PagedResult<RunListItem>>("/api/runs?starred=true", Json))!;
        Assert.Equal(a, Assert.Single(starred.Items).Id);
        Assert.Equal(["keep"], starred.Items[0].Tags);
        var badPatch = await http.PatchAsJsonAsync($"/api/runs/{a}", new { tags = new[] { "a,b" } });
        Assert.Equal(HttpStatusCode.BadRequest, badPatch.StatusCode);
        Assert.Contains("\"tags\"", await badPatch.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.PatchAsJsonAsync("/api/runs/999999", new { starred = true })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.PatchAsJsonAsync($"/api/runs/{c}", new { archived = true })).StatusCode);
        Assert.DoesNotContain(c, (await http.GetFromJsonAsync<PagedResult<RunListItem>>("/api/runs", Json))!.Items.Select(r => r.Id));

        // Streamed export over HTTP, same filter; 400 for a bad format, 404 for a missing run.
        var csv = await http.GetStringAsync("/api/export/runs?format=csv&filter=" + Uri.EscapeDataString("eval/accuracy >= 0.5"));
        Assert.Equal(3, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header + a, b (c is archived)
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/api/export/runs?format=xml")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/runs/999999/export/metrics")).StatusCode);
        var metricsJson = JsonNode.Parse(await http.GetStringAsync($"/api/runs/{a}/export/metrics?format=json"))!.AsArray();
        Assert.Equal(2, metricsJson.Count);
        var bundle = JsonNode.Parse(await http.GetStringAsync($"/api/runs/{a}/bundle"))!;
        Assert.Equal(1e-4, bundle["config"]!["learningRate"]!.GetValue<double>());

        var openApi = await http.GetStringAsync("/openapi/v1.json");
        foreach (var op in new[] { "ListRuns", "ListRunGroups", "CompareRuns", "AnnotateRun", "PreviewSweep", "CreateSweep", "GetSweep", "ExportRuns", "ExportRunMetrics", "ExportRunSamples", "ExportRunCalibration", "GetRunBundle" }) Assert.Contains($"\"{op}\"", openApi);
    }
}
