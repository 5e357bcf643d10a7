// One browser test in Debian's chromium (never a downloaded browser): create a tiny sft run through the generated
// form (after seeing a field-named validation message) and watch its page: the loss chart grows while it trains
// (no reload) until the run has finished.
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace BonStudio.Web.Tests;

public class BrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task CreatingATinySftRunThroughTheFormTrainsItAndTheRunPageShowsItFinish()
    {
        Assert.True(File.Exists(Chromium), "Debian's chromium is required: apt-get install -y chromium");
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();
        var profile = TempDirectory.Create("bs-chromium");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run"],
        });
        try
        {
            var page = browser.Pages.Count > 0 ? browser.Pages[0] : await browser.NewPageAsync();
            page.SetDefaultTimeout(30_000);

            // Arrange: the New run form for sft, once the circuit is interactive (earlier clicks would be lost).
            await page.GotoAsync(new Uri(baseAddress, "runs/new?kind=sft").ToString());
            await page.WaitForSelectorAsync("[data-page='new-run'][data-interactive='true']");
            var preset = new BonStudio.Training.FineTuning.SftConfig();
            Assert.Equal(preset.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.InputValueAsync("#cfg-steps")); // the default preset is prefilled

            // An invalid value shows a message naming the field and blocks the launch.
            await page.FillAsync("#cfg-steps", "-1");
            await Assertions.Expect(page.GetByText(new Regex("steps must be between"))).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#launch-run")).ToBeDisabledAsync();

            // Act: a tiny config, a name with markup (must show as text), launch.
            // Long enough (in logged steps) that the run spans several metric flushes even on an idle machine, where a
            // 60-step run finished inside one flush and the chart had no chance to be seen growing.
            const int steps = 400;
            var config = TinyRuns.SftConfig(steps: steps);
            config["evalEvery"] = 100;
            config["checkpointEvery"] = 100;
            foreach (var (field, value) in config)
            {
                if (value is System.Text.Json.Nodes.JsonArray list) await page.FillAsync($"#cfg-{field}", string.Join(", ", list));
                else if (field != "evalTemperatureOne") await page.FillAsync($"#cfg-{field}", value!.ToString());
            }
            await page.FillAsync("#run-name", "browser <b>run</b>");
            await Assertions.Expect(page.Locator("#launch-run")).ToBeEnabledAsync();
            await page.ClickAsync("#launch-run");

            // Assert: the run page follows the run until it has finished, without a reload.
            await page.WaitForURLAsync(new Regex(@"/runs/\d+$"));
            await page.WaitForSelectorAsync("[data-page='run-detail'][data-interactive='true']");
            // While it trains, the loss chart grows without a reload: record (status, points) until it has finished.
            var seen = new List<(string Status, int Points)>();
            var deadline = DateTime.UtcNow.AddSeconds(240);
            while (DateTime.UtcNow < deadline)
            {
                var status = await page.GetAttributeAsync("[data-page='run-detail']", "data-run-status") ?? "";
                var chart = page.Locator("[data-metric='train/loss']");
                var points = await chart.CountAsync() == 0 ? 0 : int.Parse(await chart.GetAttributeAsync("data-points") ?? "0");
                seen.Add((status, points));
                if (status is "succeeded" or "failed" or "cancelled") break;
                await Task.Delay(150);
            }
            Assert.Equal("succeeded", seen[^1].Status);
            var whileRunning = seen.Where(s => s.Status == "running" && s.Points > 0).Select(s => s.Points).Distinct().ToList();
            Assert.True(whileRunning.Count >= 1, "the chart should show points while the run is still running: " + string.Join(" ", seen));
            Assert.True(seen[^1].Points > whileRunning.Min(), "the chart should keep growing: " + string.Join(" ", seen));
            Assert.Equal(steps, seen[^1].Points);
            await Assertions.Expect(page.Locator("[data-metric='train/loss']")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-metric='train/loss'] svg").First).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-final-metric='test/accuracy']")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-model-id]").First).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByText("browser <b>run</b>")).ToBeVisibleAsync();
            Assert.Equal(0, await page.Locator("h5 b").CountAsync()); // the name was not parsed as HTML

            // The runs list shows it too.
            await page.ClickAsync("a[href='/runs']");
            await page.WaitForSelectorAsync("[data-page='runs'][data-interactive='true']");
            await Assertions.Expect(page.Locator("[data-run-link]").First).ToHaveTextAsync("browser <b>run</b>");
        }
        finally
        {
            await browser.CloseAsync();
            TempDirectory.TryDelete(profile);
        }
    }
}
