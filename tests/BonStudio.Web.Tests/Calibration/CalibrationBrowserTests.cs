// One browser test in Debian's chromium: import two calibration files (written here) through `import calibration`'s
// REST endpoint, build the comparison on /calibration by ticking both curves, read the ECE table (equal to
// CalibrationMetrics on the same pairs), then switch to equal-mass bins and see the table change without a reload.
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using BonStudio.Training.Metrics;
using BonStudio.Web.Services;
using BonStudio.Web.Tests.Evaluation;
using Microsoft.Playwright;

namespace BonStudio.Web.Tests.Calibration;

public class CalibrationBrowserTests
{
    /// <summary>40 pairs of an over-confident model: confidence 0.5..0.99, right on every third question and on the six most confident ones.</summary>
    private static string ModelA() => string.Join('\n', Enumerable.Range(0, 40).Select(i =>
        $"{{\"confidence\": {(0.5 + 0.49 * i / 39).ToString("R", CultureInfo.InvariantCulture)}, \"correct\": {(i % 3 == 0 || i >= 34 ? "true" : "false")}, \"model\": \"A\", \"source\": \"likelihood\", \"question_id\": \"q{i}\"}}"));

    /// <summary>30 pairs of a better-calibrated model: right when its confidence is high.</summary>
    private static string ModelB() => string.Join('\n', Enumerable.Range(0, 30).Select(i =>
        $"{{\"confidence\": {(i / 29.0).ToString("R", CultureInfo.InvariantCulture)}, \"correct\": {(i * 7 % 30 < i ? "true" : "false")}, \"model\": \"B\", \"source\": \"phrase\", \"question_id\": \"q{i}\"}}"));

    private static List<CalibrationPair> Pairs(string jsonl) =>
        CalibrationJsonl.Read(new StringReader(jsonl)).Select(r => new CalibrationPair(r.Confidence, r.Correct)).ToList();

    [Fact]
    public async Task ComparisonOfTwoImportedFilesShowsTheEceTableAndRecomputesOnABinningSwitchWithoutReload()
    {
        TestBrowser.RequireChromium();
        using var app = new EvalApp();
        var baseAddress = app.Start();
        using var http = app.Client(baseAddress);
        var runs = new List<(int RunId, string Source, List<CalibrationPair> Pairs)>();
        foreach (var (text, source, name) in new[] { (ModelA(), "likelihood", "model A"), (ModelB(), "phrase", "model B") })
        {
            var response = await http.PostAsync($"/api/imports/calibration?name={Uri.EscapeDataString(name)}", new StringContent(text, Encoding.UTF8, "application/x-ndjson"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            runs.Add(((await response.Content.ReadFromJsonAsync<ImportCalibrationResult>())!.RunId, source, Pairs(text)));
        }

        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;
        await page.GotoAsync(new Uri(baseAddress, "calibration").ToString());
        await page.Locator("[data-page='calibration'][data-interactive='true']").WaitForAsync();
        await page.EvaluateAsync("() => { window.__sameDocument = 'yes'; }");

        // Build the comparison: tick both curves.
        foreach (var (runId, source, _) in runs)
            await page.Locator($"[data-testid='curve-option'][data-curve='{runId}:{source}'] input[type='checkbox']").ClickAsync();
        var rows = page.Locator("[data-testid='calibration-row']");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(page.GetByTestId("ece-header")).ToHaveTextAsync("ECE (15 equal-width bins)");
        await Assertions.Expect(page.Locator("[data-testid='reliability'] .main-svg").First).ToBeVisibleAsync();

        async Task ExpectTable(int bins, Binning binning)
        {
            foreach (var (runId, source, pairs) in runs)
            {
                var expected = CalibrationMetrics.Report(pairs, bins, binning);
                var ece = page.Locator($"[data-testid='calibration-row'][data-curve='{runId}:{source}'] [data-metric='ece']");
                await Assertions.Expect(ece).ToHaveAttributeAsync("data-value", expected.Ece.ToString("R", CultureInfo.InvariantCulture));
                Assert.StartsWith(expected.Ece.ToString("F4", CultureInfo.InvariantCulture), (await ece.InnerTextAsync()).Trim());
                var brier = page.Locator($"[data-testid='calibration-row'][data-curve='{runId}:{source}'] [data-metric='brier']");
                Assert.Equal(expected.Brier, double.Parse((await brier.GetAttributeAsync("data-value"))!, CultureInfo.InvariantCulture), 12);
            }
        }
        await ExpectTable(15, Binning.Width);

        // Switch to equal-mass bins, then 10 bins: the table and estimator change in place.
        var widthEce = CalibrationMetrics.Ece(runs[0].Pairs, 15, Binning.Width);
        var massEce = CalibrationMetrics.Ece(runs[0].Pairs, 15, Binning.Mass);
        Assert.NotEqual(widthEce, massEce); // the switch must be visible in the table
        await page.GetByTestId("binning-mass").ClickAsync();
        await Assertions.Expect(page.GetByTestId("ece-header")).ToHaveTextAsync("ECE (15 equal-mass bins)");
        await ExpectTable(15, Binning.Mass);
        await page.GetByTestId("bins-10").ClickAsync();
        await Assertions.Expect(page.GetByTestId("ece-header")).ToHaveTextAsync("ECE (10 equal-mass bins)");
        await ExpectTable(10, Binning.Mass);
        Assert.Equal("yes", await page.EvaluateAsync<string>("() => window.__sameDocument"));

        // Both run kinds have their generated form, prefilled with the Training defaults.
        await page.GotoAsync(new Uri(baseAddress, "runs/new?kind=calibration-eval").ToString());
        await page.WaitForSelectorAsync("[data-page='new-run'][data-interactive='true']");
        Assert.Equal("p-true, consistency, likelihood", await page.InputValueAsync("#cfg-sources"));
        await page.GotoAsync(new Uri(baseAddress, "runs/new?kind=calibration-sft").ToString());
        await page.WaitForSelectorAsync("[data-page='new-run'][data-interactive='true']");
        Assert.Contains("=", await page.InputValueAsync("#cfg-ladder"));
    }
}
