// One browser test in Debian's chromium (never a downloaded browser): the inspector for a tiny evaluation seeded
// straight into the database. j/k move between prompts, the Best-of-N pick is highlighted, and a sample whose text
// contains <script> shows as text (and never runs).
using BonStudio.Data.Entities;
using Microsoft.Playwright;

namespace BonStudio.Web.Tests.Evaluation;

public class InspectorBrowserTests
{
    private const string Script = "<script>window.__pwned = 1</script> I think 7";

    /// <summary>3 prompts × 4 samples with an oracle-like "judge" layer; the pick of each prompt is sample (prompt index + 1) % 4.</summary>
    private static int Seed(EvalApp app)
    {
        using var db = app.Db();
        var run = new Run { Kind = "bon-eval", Name = "seeded eval", ConfigJson = "{}", ConfigHash = "x", GroupHash = "x", Status = RunStatus.Succeeded };
        db.Runs.Add(run);
        db.SaveChanges();
        var layer = new ScoreLayer { RunId = run.Id, Verifier = "judge" };
        db.ScoreLayers.Add(layer);
        db.SaveChanges();
        for (int p = 0; p < 3; p++)
        {
            int pick = (p + 1) % 4;
            db.SampleSets.Add(new SampleSet
            {
                RunId = run.Id, PromptKey = $"prompt-{p}", PromptText = $"Q{p}: what is 3 + 4?", ReferenceAnswer = "7", Temperature = 1, N = 4,
                Difficulty = p + 1, CorrectCount = 2,
                Samples = Enumerable.Range(0, 4).Select(i => new Sample
                {
                    Index = i, Text = i == 0 ? Script : $"sample {i} of prompt {p}: answer {(i % 2 == 0 ? 7 : 8)}",
                    ExtractedAnswer = i % 2 == 0 ? "7" : "8", Correct = i % 2 == 0, TokenCount = 10 + i, LogProb = -3 - i,
                    Scores = [new Score { ScoreLayerId = layer.Id, Value = i == pick ? 0.9 : 0.1 * i }],
                }).ToList(),
            });
        }
        db.SaveChanges();
        return run.Id;
    }

    [Fact]
    public async Task InspectorMovesBetweenPromptsWithTheKeyboardHighlightsTheBonPickAndShowsScriptAsText()
    {
        TestBrowser.RequireChromium();
        using var app = new EvalApp();
        var baseAddress = app.Start();
        int runId = Seed(app);
        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;

        // Arrange: the inspector for the seeded evaluation, once the circuit is interactive.
        await page.GotoAsync(new Uri(baseAddress, $"inspector/{runId}").ToString());
        var root = page.Locator("[data-page='inspector'][data-interactive='true']");
        await root.WaitForAsync();
        await Assertions.Expect(page.GetByTestId("prompt-key")).ToHaveTextAsync("prompt-0");

        // The BoN pick (top "judge" score: sample 1, a wrong one) is highlighted, and only it.
        var picks = page.Locator("[data-testid='sample-cards'] [data-bon-pick='true']");
        await Assertions.Expect(picks).ToHaveCountAsync(1);
        Assert.Equal("1", await picks.GetAttributeAsync("data-sample-index"));
        await Assertions.Expect(picks.GetByTestId("bon-pick-chip")).ToBeVisibleAsync();

        // The <script> sample is shown as text and never ran.
        await Assertions.Expect(page.Locator("pre.sample-text").First).ToHaveTextAsync(Script);
        Assert.Equal(0, await page.Locator("[data-testid='sample-cards'] script").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));

        // Act: j moves to the next prompt, whose pick is sample 2; k moves back.
        await root.FocusAsync();
        await page.Keyboard.PressAsync("j");
        await Assertions.Expect(page.GetByTestId("prompt-key")).ToHaveTextAsync("prompt-1");
        await Assertions.Expect(picks).ToHaveCountAsync(1);
        Assert.Equal("2", await picks.GetAttributeAsync("data-sample-index"));
        await page.Keyboard.PressAsync("ArrowDown");
        await Assertions.Expect(page.GetByTestId("prompt-key")).ToHaveTextAsync("prompt-2");
        await page.Keyboard.PressAsync("k");
        await page.Keyboard.PressAsync("k");
        await Assertions.Expect(page.GetByTestId("prompt-key")).ToHaveTextAsync("prompt-0");
        Assert.Equal("1", await picks.GetAttributeAsync("data-sample-index"));

        // The curves page draws the same evaluation with Plotly (pass, maj, BoN lines each with a band: 9 traces).
        await page.GotoAsync(new Uri(baseAddress, $"curves?runs={runId}").ToString());
        await page.Locator("[data-page='curves'][data-interactive='true']").WaitForAsync();
        await Assertions.Expect(page.GetByTestId("curves-k")).ToHaveAttributeAsync("data-traces", "9");
        await Assertions.Expect(page.Locator("[data-testid='curves-k'] .js-plotly-plot")).ToBeVisibleAsync();
    }
}
