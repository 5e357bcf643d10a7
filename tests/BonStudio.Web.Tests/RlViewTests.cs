// The RL views: a tiny UFLP run on Deep Sea N=4 through the real job path → RlRunViews returns a 4×4 visitation
// heatmap whose visits add up, an uncertainty map, every stored snapshot, and the reset timeline; and the run page
// draws both heatmaps (Plotly) in Debian's chromium.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace BonStudio.Web.Tests;

public class RlViewTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private static async Task<int> RunTinyRlAsync(BonStudioAppFactory app, HttpClient http)
    {
        var created = await http.PostAsJsonAsync("/api/runs", TinyRuns.Rl("tiny rl view", budget: 300), Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        int runId = (await created.Content.ReadFromJsonAsync<JsonObject>(Json))!["id"]!.GetValue<int>();
        var run = await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.IsFinished, TimeSpan.FromSeconds(120), "the rl run");
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        return runId;
    }

    [Fact]
    public async Task TheRlViewOfATinyDeepSeaRunHasHeatmapsSnapshotsAndResets()
    {
        using var app = new BonStudioAppFactory();
        using var http = app.Client(app.Start());
        int runId = await RunTinyRlAsync(app, http);
        var views = new RlRunViews(app.Services.GetRequiredService<IDbContextFactory<BonStudioDb>>());

        var latest = await views.GetAsync(runId);

        Assert.NotNull(latest.Grid);
        Assert.Equal((4, 4), (latest.Grid!.Rows, latest.Grid.Cols));
        Assert.True(latest.SnapshotSteps.Count >= 3, $"heatmapEvery 100 over 300 steps: {string.Join(",", latest.SnapshotSteps)}");
        Assert.Equal(latest.SnapshotSteps[^1], latest.Grid.AtStep);
        Assert.Equal(latest.SnapshotSteps.Order().ToList(), latest.SnapshotSteps);
        // Deep Sea: episodes from the initial state start at (0, 0), so the top row is visited.
        Assert.True(latest.Grid.Visits[0].Sum() > 0);
        Assert.All(latest.Grid.Visits.SelectMany(r => r), v => Assert.True(v >= 0));
        Assert.Contains(latest.Grid.Uncertainty.SelectMany(r => r), u => u is not null);
        // An earlier snapshot has fewer visits ("over time").
        var first = await views.GetAsync(runId, latest.SnapshotSteps[0]);
        Assert.Equal(latest.SnapshotSteps[0], first.Grid!.AtStep);
        Assert.True(first.Grid.Visits.Sum(r => r.Sum()) < latest.Grid.Visits.Sum(r => r.Sum()));

        // Resets: what the database holds, in time order, each with its start state inside the grid.
        using var db = app.Db();
        int stored = await db.Episodes.CountAsync(e => e.RunId == runId && !e.IsEvaluation && e.StartKind == "reset");
        Assert.True(stored > 0, "a UFLP run on Deep Sea should restart some episodes from uncertain states");
        Assert.Equal(stored, latest.ResetCount);
        Assert.Equal(Math.Min(stored, 200), latest.Resets.Count);
        Assert.Equal(latest.Resets.Select(r => r.AtStep).Order().ToList(), latest.Resets.Select(r => r.AtStep).ToList());
        Assert.All(latest.Resets, r => Assert.True(RlRunViews.ParseCell(r.State) is { Row: < 4, Col: < 4 }, r.State));
        Assert.Equal(await db.Episodes.CountAsync(e => e.RunId == runId && !e.IsEvaluation), latest.EpisodeCount);
        var bounded = await views.GetAsync(runId, maxResets: 1);
        Assert.Single(bounded.Resets);
        Assert.Equal(latest.Resets[^1], bounded.Resets[0]); // the newest
    }

    [Fact]
    public async Task TheRunPageOfATinyRlRunDrawsTheHeatmaps()
    {
        TestBrowser.RequireChromium();
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();
        using var http = app.Client(baseAddress);
        int runId = await RunTinyRlAsync(app, http);
        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;
        await page.GotoAsync(new Uri(baseAddress, $"runs/{runId}").ToString());
        await page.WaitForSelectorAsync("[data-page='run-detail'][data-interactive='true']");
        var panel = page.Locator("[data-testid='rl-panel']");
        await Assertions.Expect(panel).ToHaveAttributeAsync("data-grid", "4x4");
        // Plotly drew a heatmap in each map (a heatmap trace renders as an image layer inside .hm).
        await Assertions.Expect(page.Locator("[data-testid='rl-visits'] .js-plotly-plot .hm")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-testid='rl-uncertainty'] .js-plotly-plot .hm")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-testid='rl-resets'] tbody tr").First).ToBeVisibleAsync();
    }
}
