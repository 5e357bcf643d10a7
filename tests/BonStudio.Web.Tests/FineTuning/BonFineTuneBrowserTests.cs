// One browser test in Debian's chromium: a `bon-finetune` launched from the generated form, with its method picked
// from the form's select (bon-sft: the demonstration path), runs to the end, and its page shows the Best-of-N panel
// with one weight-vs-failure point per training prompt per step.
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BonStudio.Data.Entities;
using BonStudio.Web.Tests.Evaluation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;

namespace BonStudio.Web.Tests.FineTuning;

public class BonFineTuneBrowserTests
{
    [Fact]
    public async Task ABonSftFineTuneChosenInTheFormRunsToTheEndAndItsPageShowsTheWeightScatter()
    {
        TestBrowser.RequireChromium();
        using var app = new EvalApp();
        var baseAddress = app.Start();
        int model = app.AddTinyModel();
        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;

        // Arrange: the form for the kind, once interactive, filled with the tiny config; the method from its select.
        await page.GotoAsync(new Uri(baseAddress, "runs/new?kind=bon-finetune").ToString());
        await page.WaitForSelectorAsync("[data-page='new-run'][data-interactive='true']");
        foreach (var (field, value) in BonFineTuneRunTests.TinyConfig(model))
        {
            if (field is "method" or "device") continue; // selects / kept at their defaults
            await page.FillAsync($"#cfg-{field}", value is JsonArray list ? string.Join(", ", list) : value!.ToString());
        }
        await page.Locator(".mud-select").Filter(new() { Has = page.Locator("#cfg-method") }).First.ClickAsync(); // the select's root opens its list
        await page.Locator(".mud-popover-open").GetByText("bon-sft", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#cfg-method")).ToHaveValueAsync("bon-sft");
        await page.FillAsync("#run-name", "form bon-sft");

        // Act
        await Assertions.Expect(page.Locator("#launch-run")).ToBeEnabledAsync();
        await page.ClickAsync("#launch-run");

        // Assert: the run succeeds with the chosen method, and its page shows 2 steps × 2 prompts of weight points.
        await page.WaitForURLAsync(new Regex(@"/runs/\d+$"));
        await Assertions.Expect(page.Locator("[data-page='run-detail']")).ToHaveAttributeAsync("data-run-status", "succeeded",
            new() { Timeout = 180_000 });
        await Assertions.Expect(page.GetByTestId("bon-finetune-panel")).ToHaveAttributeAsync("data-weight-points", "4");
        using var db = app.Db();
        var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Kind == "bon-finetune");
        Assert.Equal("form bon-sft", run.Name);
        Assert.Equal("bon-sft", JsonNode.Parse(run.ConfigJson)!["method"]!.GetValue<string>());
        Assert.Equal(RunStatus.Succeeded, run.Status);
    }
}
