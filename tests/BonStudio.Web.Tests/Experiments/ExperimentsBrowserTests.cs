// Browser (Debian chromium): filter the runs list by a metric expression, then compare two runs and see the
// config difference; a 2 × 2-seed sweep created from the form, run to the end, grouped with intervals (and its
// seed-mean curves, and its clone); notes rendered as markdown with raw HTML shown as text.
// Nothing here depends on the machine's speed: every wait is on a condition the page exposes (data attributes).
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace BonStudio.Web.Tests.Experiments;

public class ExperimentsBrowserTests
{
    [Fact]
    public async Task FilterTheRunsListByAMetricExpressionThenCompareTwoRuns()
    {
        TestBrowser.RequireChromium();
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();
        var a = await ExperimentsApiTests.AddRun(app, "alpha", new JsonObject { ["learningRate"] = 1e-4, ["steps"] = 10 }, 1, new() { ["eval/accuracy"] = 0.2 });
        var b = await ExperimentsApiTests.AddRun(app, "beta", new JsonObject { ["learningRate"] = 5e-3, ["steps"] = 10 }, 1, new() { ["eval/accuracy"] = 0.8 });
        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;
        await page.GotoAsync(new Uri(baseAddress, "runs").ToString());
        await page.WaitForSelectorAsync("[data-page='runs'][data-interactive='true']");
        await Assertions.Expect(page.Locator("[data-run-link]")).ToHaveCountAsync(2);

        // A bad expression shows where it is wrong; a good one leaves only the matching run.
        await page.FillAsync("#filter-expr", "eval/accuracy >");
        await Assertions.Expect(page.Locator("[data-filter-error]")).ToContainTextAsync("position 16");
        await page.FillAsync("#filter-expr", "eval/accuracy > 0.5 and lr > 1e-3");
        await Assertions.Expect(page.Locator("[data-run-link]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-run-link]")).ToHaveTextAsync("beta");
        await Assertions.Expect(page.Locator("[data-filter-error]")).ToHaveCountAsync(0);

        // Select both runs and compare.
        await page.FillAsync("#filter-expr", "");
        await Assertions.Expect(page.Locator("[data-run-link]")).ToHaveCountAsync(2);
        await page.Locator($"[data-select-run='{a}'] input").CheckAsync();
        await page.Locator($"[data-select-run='{b}'] input").CheckAsync();
        await page.ClickAsync("#compare-selected");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex(@"/compare\?ids="));
        await page.WaitForSelectorAsync("[data-page='compare'][data-interactive='true']");
        var diff = page.Locator("[data-config-diff]");
        await Assertions.Expect(diff).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("[data-config-diff='learningRate']")).ToContainTextAsync("0.005");
        await Assertions.Expect(page.Locator("[data-compare-metric='eval/accuracy']")).ToContainTextAsync("0.8");
        await Assertions.Expect(page.Locator("[data-testid='compare-curves']")).ToHaveAttributeAsync("data-traces", "2");
    }

    [Fact]
    public async Task ASweepOfTwoConfigsTimesTwoSeedsFromTheFormRunsAndShowsGroupedResultsWithIntervals()
    {
        TestBrowser.RequireChromium();
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();
        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;

        // Arrange: the sweep form for sft with a tiny base config (no seed: the seeds field sets it).
        await browser.OpenAsync(baseAddress, "sweeps/new?kind=sft", "new-sweep");
        var config = TinyRuns.SftConfig(steps: 6);
        config.Remove("seed");
        await page.FillAsync("#sweep-name", "browser sweep");
        await page.FillAsync("#sweep-config", config.ToJsonString());
        await page.FillAsync("#sweep-grid", "learningRate = 0.001, 0.003");
        await page.FillAsync("#sweep-seeds", "1, 2");

        // Act: preview (4 runs = 2 configurations × 2 seeds), then launch.
        await page.ClickAsync("#sweep-preview");
        await Assertions.Expect(page.Locator("[data-sweep-count]")).ToHaveAttributeAsync("data-sweep-count", "4");
        await Assertions.Expect(page.Locator("[data-sweep-error]")).ToHaveCountAsync(0);
        await page.ClickAsync("#sweep-launch");
        await page.WaitForURLAsync(new Regex(@"/sweeps/\d+$"));
        await browser.WaitInteractiveAsync("sweep");
        var sweepId = int.Parse(Regex.Match(page.Url, @"/sweeps/(\d+)$").Groups[1].Value);
        var sweepPage = page.Locator("[data-page='sweep']");
        await Assertions.Expect(sweepPage).ToHaveAttributeAsync("data-sweep-total", "4");

        // Assert: the page follows the children to the end by itself (however long that takes), all four succeed...
        await Assertions.Expect(sweepPage).ToHaveAttributeAsync("data-sweep-done", "4", new() { Timeout = 600_000 });
        await Assertions.Expect(sweepPage).ToHaveAttributeAsync("data-sweep-succeeded", "4");
        // ...and the results are two groups (one per learning rate) of two seeds, each metric as mean ± 95% interval (n=2).
        var groups = page.Locator("[data-sweep-group]");
        await Assertions.Expect(groups).ToHaveCountAsync(2);
        for (int i = 0; i < 2; i++)
        {
            var group = groups.Nth(i);
            await Assertions.Expect(group.Locator("[data-group-seeds]")).ToHaveAttributeAsync("data-group-seeds", "2");
            await Assertions.Expect(group.Locator("[data-group-member]")).ToHaveCountAsync(2);
            var loss = group.Locator("[data-group-metric='eval/loss']");
            await Assertions.Expect(loss).ToHaveAttributeAsync("data-n", "2");
            await Assertions.Expect(loss).ToHaveAttributeAsync("data-half-width", new Regex(@"^\d"));
            await Assertions.Expect(loss).ToContainTextAsync(new Regex(@"^\d\S* ± \d\S* \(n=2\)$"));
        }
        await Assertions.Expect(groups.Nth(0)).ToContainTextAsync("learningRate=0.001");
        await Assertions.Expect(groups.Nth(1)).ToContainTextAsync("learningRate=0.003");

        // The same groups as curves: one mean line with a 95% band per group; each seed's curve on demand.
        await page.ClickAsync("#sweep-compare");
        await page.WaitForURLAsync(new Regex(@"/compare\?seeds=mean&ids="));
        await browser.WaitInteractiveAsync("compare");
        var curves = page.Locator("[data-testid='compare-curves']");
        await Assertions.Expect(curves).ToHaveAttributeAsync("data-mode", "seed-mean");
        await Assertions.Expect(curves).ToHaveAttributeAsync("data-bands", "2");
        await Assertions.Expect(curves).ToHaveAttributeAsync("data-traces", "6"); // 2 × (band low, band high, mean)
        await Assertions.Expect(page.Locator("[data-compare-group]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-compare-group]").First).ToHaveAttributeAsync("data-seeds", "2");
        await Assertions.Expect(page.Locator("[data-compare-metric='eval/loss'] [data-group-cell]").First).ToContainTextAsync("(n=2)");
        await page.Locator("#show-seeds").Locator("xpath=self::input | .//input").First.CheckAsync();
        await Assertions.Expect(curves).ToHaveAttributeAsync("data-traces", "10"); // + 4 seed curves
        await Assertions.Expect(page.Locator(".js-plotly-plot").First).ToBeVisibleAsync();

        // The sweep's notes (set through the API) show as safe markdown on its page.
        using (var http = app.Client(baseAddress))
        {
            var patched = await http.PatchAsync($"api/runs/{sweepId}", new StringContent("{\"notes\": \"**lr** matters <script>window.__pwned = 1</script>\"}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.NoContent, patched.StatusCode);
        }
        await browser.OpenAsync(baseAddress, $"sweeps/{sweepId}", "sweep");
        await Assertions.Expect(page.Locator("[data-testid='sweep-notes'] strong")).ToHaveTextAsync("lr");
        await Assertions.Expect(page.Locator("[data-testid='sweep-notes']")).ToContainTextAsync("<script>window.__pwned = 1</script>");
        Assert.Equal(0, await page.Locator("[data-testid='sweep-notes'] script").CountAsync());

        // Clone and edit: the form comes back with the sweep's grid and seeds.
        await page.ClickAsync("#sweep-clone");
        await page.WaitForURLAsync(new Regex(@"/sweeps/new\?from=\d+$"));
        await browser.WaitInteractiveAsync("new-sweep");
        Assert.Equal("learningRate = 0.001, 0.003", await page.InputValueAsync("#sweep-grid"));
        Assert.Equal("1, 2", await page.InputValueAsync("#sweep-seeds"));
        Assert.Equal("browser sweep (copy)", await page.InputValueAsync("#sweep-name"));
        await page.ClickAsync("#sweep-preview");
        await Assertions.Expect(page.Locator("[data-sweep-count]")).ToHaveAttributeAsync("data-sweep-count", "4");
    }

    [Fact]
    public async Task NotesRenderAsMarkdownAndRawHtmlOrScriptLinksShowAsText()
    {
        TestBrowser.RequireChromium();
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();
        var runId = await ExperimentsApiTests.AddRun(app, "noted", new JsonObject { ["steps"] = 10 }, 1, new() { ["eval/accuracy"] = 0.5 });
        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;

        // Arrange: the run page; the notes are typed into the page's editor like a user would.
        await browser.OpenAsync(baseAddress, $"runs/{runId}", "run-detail");
        await Assertions.Expect(page.Locator("[data-testid='run-notes']")).ToHaveAttributeAsync("data-empty", "true");
        const string notes = "**bold** idea\n\n<script>window.__pwned = 1</script>\n\n<img src=x onerror=\"window.__pwned = 2\">\n\n"
            + "[bad](javascript:window.__pwned=3) [good](https://example.org/paper)";
        await page.ClickAsync("#edit-notes");
        await page.FillAsync("#notes-input", notes);
        await page.ClickAsync("#save-notes");

        // Assert: markdown is rendered...
        var rendered = page.Locator("[data-testid='run-notes']");
        await Assertions.Expect(rendered.Locator("strong")).ToHaveTextAsync("bold");
        await Assertions.Expect(rendered.Locator("a[href='https://example.org/paper']")).ToHaveTextAsync("good");
        // ...raw HTML is shown as text, never parsed, and the javascript: link keeps its text but loses its address.
        await Assertions.Expect(rendered).ToContainTextAsync("<script>window.__pwned = 1</script>");
        await Assertions.Expect(rendered).ToContainTextAsync("<img src=x onerror=\"window.__pwned = 2\">");
        Assert.Equal(0, await rendered.Locator("script").CountAsync());
        Assert.Equal(0, await rendered.Locator("img").CountAsync());
        Assert.Equal(1, await rendered.Locator("a").CountAsync());
        await Assertions.Expect(rendered).ToContainTextAsync("bad");
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__pwned"));

        // The same after a reload (rendered from the database, not from the editor).
        await browser.OpenAsync(baseAddress, $"runs/{runId}", "run-detail");
        await Assertions.Expect(rendered.Locator("strong")).ToHaveTextAsync("bold");
        await Assertions.Expect(rendered).ToContainTextAsync("<script>window.__pwned = 1</script>");
        Assert.Equal(0, await rendered.Locator("script, img").CountAsync());
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__pwned"));
    }

    [Fact]
    public async Task APresetSavedFromTheRunFormLoadsIntoBothForms()
    {
        TestBrowser.RequireChromium();
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();
        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;

        // Arrange: the run form with one value changed from the default preset.
        await browser.OpenAsync(baseAddress, "runs/new?kind=sft", "new-run");
        await page.FillAsync("#cfg-steps", "2000");
        await page.FillAsync("#cfg-seed", "11");

        // Act: save it under a name.
        await page.FillAsync("#preset-name", "long run");
        await page.ClickAsync("#preset-save");
        await Assertions.Expect(page.Locator("[data-preset-message]")).ToContainTextAsync("Saved preset 'long run'");
        await Assertions.Expect(page.Locator("[data-preset-message]")).ToHaveAttributeAsync("data-preset-message", "saved");
        await Assertions.Expect(page.Locator("[data-preset='long run']")).ToBeVisibleAsync();

        // Assert: back to the default, then the preset restores the value in the run form...
        await page.ClickAsync("[data-preset='(default)']");
        await Assertions.Expect(page.Locator("#cfg-steps")).Not.ToHaveValueAsync("2000");
        await page.ClickAsync("[data-preset='long run']");
        await Assertions.Expect(page.Locator("#cfg-steps")).ToHaveValueAsync("2000");
        await Assertions.Expect(page.Locator("#cfg-seed")).ToHaveValueAsync("11");
        // ...and in the sweep form it becomes the base config, without the seed (the sweep's seeds set it).
        await browser.OpenAsync(baseAddress, "sweeps/new?kind=sft", "new-sweep");
        await page.ClickAsync("[data-preset='long run']");
        await Assertions.Expect(page.Locator("#sweep-config")).ToHaveValueAsync(new Regex("\"steps\": 2000"));
        Assert.DoesNotContain("\"seed\"", await page.InputValueAsync("#sweep-config"));
    }
}
