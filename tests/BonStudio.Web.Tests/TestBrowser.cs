// The one place browser tests start Debian's chromium (never a downloaded browser): headless, no sandbox, no
// background networking (otherwise chromium floods the closed network), a fresh profile per test that is deleted
// afterwards. Pages wait for the Blazor circuit (data-interactive) before any click: clicks made earlier are lost.
using Microsoft.Playwright;

namespace BonStudio.Web.Tests;

public sealed class TestBrowser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Default timeout of every Playwright wait and action; generous because the CPU is shared.</summary>
    public const float DefaultTimeoutMs = 30_000;

    private static readonly string[] Arguments =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private readonly IPlaywright _playwright;
    private readonly string _profile;

    /// <summary>The browser context (one persistent profile).</summary>
    public IBrowserContext Context { get; }

    /// <summary>The first tab, with <see cref="DefaultTimeoutMs"/> as its default timeout.</summary>
    public IPage Page { get; }

    private TestBrowser(IPlaywright playwright, string profile, IBrowserContext context, IPage page)
    {
        _playwright = playwright;
        _profile = profile;
        Context = context;
        Page = page;
    }

    /// <summary>Fails with a clear message when chromium is missing (apt-get install -y chromium).</summary>
    public static void RequireChromium() =>
        Assert.True(File.Exists(ChromiumPath), "Debian's chromium is required: apt-get install -y chromium");

    public static async Task<TestBrowser> LaunchAsync()
    {
        RequireChromium();
        var profile = TempDirectory.Create("bs-chromium");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = Arguments,
            });
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            page.SetDefaultTimeout(DefaultTimeoutMs);
            return new TestBrowser(playwright, profile, context, page);
        }
        catch
        {
            playwright.Dispose();
            TempDirectory.TryDelete(profile);
            throw;
        }
    }

    /// <summary>Opens <paramref name="path"/> and waits until the page marked data-page=<paramref name="pageName"/> is interactive.</summary>
    public async Task OpenAsync(Uri baseAddress, string path, string pageName)
    {
        await Page.GotoAsync(new Uri(baseAddress, path).ToString());
        await WaitInteractiveAsync(pageName);
    }

    /// <summary>Waits for data-page=<paramref name="pageName"/> with data-interactive=true (the circuit is live).</summary>
    public Task WaitInteractiveAsync(string pageName) =>
        Page.WaitForSelectorAsync($"[data-page='{pageName}'][data-interactive='true']");

    public async ValueTask DisposeAsync()
    {
        try { await Context.CloseAsync(); }
        catch (PlaywrightException) { } // the browser already went away; the profile is still deleted below
        _playwright.Dispose();
        TempDirectory.TryDelete(_profile);
    }
}
