// Browser (Debian chromium): filter the runs list by a metric expression, then compare two runs and see the
// config difference.
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace BonStudio.Web.Tests.Experiments;

public class ExperimentsBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task FilterTheRunsListByAMetricExpressionThenCompareTwoRuns()
    {
        Assert.True(File.Exists(Chromium), "Debian's chromium is required: apt-get install -y chromium");
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();
        var a = await ExperimentsApiTests.AddRun(app, "alpha", new JsonObject { ["learningRate"] = 1e-4, ["steps"] = 10 }, 1, new() { ["eval/accuracy"] = 0.2 });
        var b = await ExperimentsApiTests.AddRun(app, "beta", new JsonObject { ["learningRate"] = 5e-3, ["steps"] = 10 }, 1, new() { ["eval/accuracy"] = 0.8 });
        var profile = TempDirectory.Create("bs-chromium");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        try
        {
            var page = browser.Pages.Count > 0 ? browser.Pages[0] : await browser.NewPageAsync();
            page.SetDefaultTimeout(30_000);
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
        finally
        {
            await browser.CloseAsync();
            TempDirectory.TryDelete(profile);
        }
    }
}
