// Hostile text in Debian's chromium: a run name, an imported data-set prompt and a model output carrying <script> and
// an <img onerror> are shown as text on the runs list, the run page and the inspector, and none of them runs.
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace BonStudio.Web.Tests;

public class HostileContentBrowserTests
{
    private const string RunName = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"> hostile run";
    private const string Prompt = "<script>window.__pwned = 3</script> what is 2+2?";
    private const string Response = "<img src=x onerror=\"window.__pwned = 4\"> it is 4";

    private static async Task AssertNothingInjectedAsync(IPage page)
    {
        Assert.Equal(0, await page.Locator("img[src='x']").CountAsync());
        Assert.Equal(0, await page.Locator("script", new() { HasText = "__pwned" }).CountAsync());
    }

    [Fact]
    public async Task ScriptInARunNameADataSetPromptAndASampleIsShownAsText()
    {
        TestBrowser.RequireChromium();
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();
        using var http = app.Client(baseAddress);

        // Arrange: a queued run with a hostile name (cancelled at once: only its name matters) and an imported evaluation.
        using var created = await http.PostAsJsonAsync("api/runs", TinyRuns.Sft(RunName, steps: 2));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var runId = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<int>();
        var line = new JsonObject { ["prompt_id"] = "p1", ["prompt"] = Prompt, ["response"] = Response, ["answer"] = "4", ["correct"] = true, ["score"] = 0.9 };
        using var imported = await http.PostAsync("api/imports/samples?name=hostile", new StringContent(line.ToJsonString() + "\n", Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.Created, imported.StatusCode);
        var evalRunId = JsonNode.Parse(await imported.Content.ReadAsStringAsync())!["runId"]!.GetValue<int>();

        await using var browser = await TestBrowser.LaunchAsync();
        var page = browser.Page;

        // Runs list and run page: the name is text.
        await page.GotoAsync(new Uri(baseAddress, "runs").ToString());
        await Assertions.Expect(page.GetByText("hostile run").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText(RunName).First).ToBeVisibleAsync();
        await page.GotoAsync(new Uri(baseAddress, $"runs/{runId}").ToString());
        await page.WaitForSelectorAsync("[data-page='run-detail'][data-interactive='true']");
        await Assertions.Expect(page.GetByText(RunName).First).ToBeVisibleAsync();
        await AssertNothingInjectedAsync(page);

        // Inspector: the imported prompt and the model output are text.
        await page.GotoAsync(new Uri(baseAddress, $"inspector/{evalRunId}").ToString());
        await page.WaitForSelectorAsync("[data-page='inspector'][data-interactive='true']");
        await Assertions.Expect(page.GetByText(Prompt).First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText(Response).First).ToBeVisibleAsync();
        await AssertNothingInjectedAsync(page);

        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.__pwned"));
    }
}
