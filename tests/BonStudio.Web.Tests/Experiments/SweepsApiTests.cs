// Sweeps over real Kestrel and Hangfire: preview count, 400 naming the grid field, a 2 × 2-seed sweep whose children
// really run, and its results grouped by config with t-intervals.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Data.Entities;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.Experiments;

public class SweepsApiTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private static object Sweep(JsonNode?[] hidden, long[] seeds) => new
    {
        kind = "rl", name = "sw", config = TinyRuns.RlConfig(200),
        grid = new Dictionary<string, JsonNode?[]> { ["hidden"] = hidden }, seeds,
    };

    [Fact]
    public async Task ATwoByTwoSeedSweepExpandsRunsAndGroupsItsResults()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());

        var preview = (await (await http.PostAsJsonAsync("/api/sweeps/preview", Sweep([4, 8, 16], [1, 2]), Json)).Content.ReadFromJsonAsync<SweepPreview>(Json))!;
        Assert.Equal(6, preview.Count);
        Assert.Equal(3, preview.Combinations);
        Assert.Equal(16, preview.Configs[5]["hidden"]!.GetValue<int>());
        Assert.Equal(2, preview.Configs[5]["seed"]!.GetValue<long>());
        // The work of the whole sweep: six rl runs of the same budget.
        var perRun = preview.Configs[0]["budgetSteps"]!.GetValue<long>();
        Assert.Equal(6 * perRun, preview.Work.Amounts.Single(a => a.What == "simulator steps").Amount);

        var bad = await http.PostAsJsonAsync("/api/sweeps/preview", Sweep([8, -3], [1]), Json);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("\"grid.hidden\"", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/sweeps", new StringContent("{\"kind\": 3", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/sweeps/999999")).StatusCode);
        await using (var db = app.Db()) Assert.Equal(0, await db.Runs.CountAsync()); // previews and bad requests wrote nothing

        var created = await http.PostAsJsonAsync("/api/sweeps", Sweep([4, 8], [1, 2]), Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var sweep = (await created.Content.ReadFromJsonAsync<SweepStatus>(Json))!;
        Assert.Equal(4, sweep.Total);

        var done = await Eventually.Until(async () => (await http.GetFromJsonAsync<SweepStatus>($"/api/sweeps/{sweep.Id}", Json))!,
            s => s.Succeeded + s.Failed + s.Cancelled == 4, TimeSpan.FromSeconds(120), "sweep children");
        Assert.Equal(4, done.Succeeded);

        var groups = (await http.GetFromJsonAsync<PagedResult<RunGroup>>("/api/runs/groups?filter=" + Uri.EscapeDataString($"parent = {sweep.Id}"), Json))!;
        Assert.Equal(2, groups.Items.Count);
        Assert.All(groups.Items, g =>
        {
            Assert.Equal(2, g.Seeds);
            Assert.Equal([1L, 2L], g.Runs.Select(r => r.Seed).Order());
            Assert.NotNull(g.Metrics["eval/return"].HalfWidth);
        });
        Assert.Equal([4, 8], groups.Items.Select(g => g.Config["hidden"]!.GetValue<int>()).Order());
    }
}
