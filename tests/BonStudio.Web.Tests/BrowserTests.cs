// One browser test in Debian's chromium (never a downloaded browser): create a tiny sft run through the generated
// form (after seeing a field-named validation message) and watch its page: the loss chart grows while it trains
// (no reload); the Cancel button stops it, and everything written so far stays (curve and checkpoint). Then a clone
// of it, edited down to 30 steps, runs to the end: the page shows it finish with its final metrics and checkpoint.
// The live part uses a long run (100k steps) stopped by the test, so no check depends on how fast the machine is:
// a 400-step run finished inside one page refresh on a fast CI machine.
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace BonStudio.Web.Tests;

public class BrowserTests
{
    [Fact]
    public async Task ATinySftRunFromTheFormTrainsLiveIsCancelledKeepingItsCurveAndItsEditedCloneRunsToTheEnd()
    {
        TestBrowser.RequireChromium();
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();
        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;

        // Arrange: the New run form for sft, once the circuit is interactive (earlier clicks would be lost).
        await page.GotoAsync(new Uri(baseAddress, "runs/new?kind=sft").ToString());
        await page.WaitForSelectorAsync("[data-page='new-run'][data-interactive='true']");
        var preset = new BonStudio.Training.FineTuning.SftConfig();
        Assert.Equal(preset.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.InputValueAsync("#cfg-steps")); // the default preset is prefilled

        // An invalid value shows a message naming the field and blocks the launch.
        await page.FillAsync("#cfg-steps", "-1");
        await Assertions.Expect(page.GetByText(new Regex("steps must be between"))).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#launch-run")).ToBeDisabledAsync();

        // Act: a tiny model with far more steps than the test will wait for; a name with markup (must show as text).
        var config = TinyRuns.SftConfig(steps: 100_000);
        config["evalEvery"] = 1_000;
        config["checkpointEvery"] = 1_000;
        foreach (var (field, value) in config)
        {
            if (value is System.Text.Json.Nodes.JsonArray list) await page.FillAsync($"#cfg-{field}", string.Join(", ", list));
            else if (field != "evalTemperatureOne") await page.FillAsync($"#cfg-{field}", value!.ToString());
        }
        await page.FillAsync("#run-name", "browser <b>run</b>");
        await Assertions.Expect(page.Locator("#launch-run")).ToBeEnabledAsync();
        await Assertions.Expect(page.GetByTestId("work-estimate")).ToContainTextAsync("100,000 optimizer steps · 800,000 training sequences");
        await page.ClickAsync("#launch-run");

        // Assert: the run page follows the run without a reload: the loss chart grows while the status is running.
        await page.WaitForURLAsync(new Regex(@"/runs/\d+$"));
        await page.WaitForSelectorAsync("[data-page='run-detail'][data-interactive='true']");
        var seen = new List<(string Status, int Points)>();
        var deadline = DateTime.UtcNow.AddSeconds(240);
        while (DateTime.UtcNow < deadline)
        {
            var (status, points) = await StatusAndPointsAsync(page);
            seen.Add((status, points));
            if (status is "succeeded" or "failed" or "cancelled") break;
            var growing = seen.Where(s => s.Status == "running" && s.Points > 0).Select(s => s.Points).Distinct().Count();
            if (growing >= 2) break;
            await Task.Delay(150);
        }
        var trace = string.Join(" ", seen);
        Assert.True(seen[^1].Status == "running", "the run should still be running while the chart grows: " + trace);
        Assert.True(seen.Where(s => s.Status == "running" && s.Points > 0).Select(s => s.Points).Distinct().Count() >= 2,
            "the chart should grow while the run is running: " + trace);
        await Assertions.Expect(page.Locator("[data-metric='train/loss'] svg").First).ToBeVisibleAsync();

        // Cancel from the page: the run ends as cancelled, its curve keeps every point seen and its checkpoint is registered.
        var beforeCancel = seen[^1].Points;
        await page.ClickAsync("#cancel-run");
        await Assertions.Expect(page.Locator("[data-page='run-detail']")).ToHaveAttributeAsync("data-run-status", "cancelled",
            new() { Timeout = 120_000 });
        var (_, finalPoints) = await StatusAndPointsAsync(page);
        Assert.True(finalPoints >= beforeCancel, $"the curve lost points on cancel: {finalPoints} < {beforeCancel}");
        await Assertions.Expect(page.Locator("[data-model-id]").First).ToBeVisibleAsync(); // checkpoint written on cancel
        await Assertions.Expect(page.GetByText("browser <b>run</b>")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("h5 b").CountAsync()); // the name was not parsed as HTML

        var cancelledUrl = page.Url;

        // The runs list shows it too.
        await page.ClickAsync("a[href='/runs']");
        await page.WaitForSelectorAsync("[data-page='runs'][data-interactive='true']");
        await Assertions.Expect(page.Locator("[data-run-link]").First).ToHaveTextAsync("browser <b>run</b>");

        // Clone and edit: the form comes back filled with the run's config; 30 steps this time, and it runs to the end.
        await page.GotoAsync(cancelledUrl);
        await page.WaitForSelectorAsync("[data-page='run-detail'][data-interactive='true']");
        await page.GetByText("Clone").ClickAsync();
        await page.WaitForSelectorAsync("[data-page='new-run'][data-interactive='true']");
        Assert.Equal("100000", await page.InputValueAsync("#cfg-steps"));
        await page.FillAsync("#cfg-steps", "30");
        await page.FillAsync("#cfg-evalEvery", "10");
        await page.FillAsync("#cfg-checkpointEvery", "10");
        await Assertions.Expect(page.Locator("#launch-run")).ToBeEnabledAsync();
        await page.ClickAsync("#launch-run");
        await page.WaitForURLAsync(url => new Regex(@"/runs/\d+$").IsMatch(url) && url != cancelledUrl);
        await Assertions.Expect(page.Locator("[data-page='run-detail']")).ToHaveAttributeAsync("data-run-status", "succeeded",
            new() { Timeout = 240_000 });
        Assert.Equal(30, (await StatusAndPointsAsync(page)).Points);
        await Assertions.Expect(page.Locator("[data-final-metric='test/accuracy']")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-model-id]").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("browser <b>run</b> (copy)")).ToBeVisibleAsync();
    }

    private static async Task<(string Status, int Points)> StatusAndPointsAsync(IPage page)
    {
        var status = await page.GetAttributeAsync("[data-page='run-detail']", "data-run-status") ?? "";
        var chart = page.Locator("[data-metric='train/loss']");
        var points = await chart.CountAsync() == 0 ? 0 : int.Parse(await chart.GetAttributeAsync("data-points") ?? "0");
        return (status, points);
    }
}
