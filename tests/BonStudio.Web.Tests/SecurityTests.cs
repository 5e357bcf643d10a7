// Accounts and access over real Kestrel with anonymous access OFF: anonymous requests are refused, tokens act within
// their scopes, the sign-in forms work with antiforgery, responses carry the security headers.
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using BonStudio.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace BonStudio.Web.Tests;

public class SecurityTests
{
    private static BonStudioAppFactory SecuredApp() => new(new Dictionary<string, string> { ["BonStudioOptions:AllowAnonymous"] = "false" });

    private static HttpClient NoRedirects(Uri baseAddress, CookieContainer? cookies = null) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies ?? new CookieContainer(), UseCookies = true })
        { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };

    private static async Task<string> TokenAsync(BonStudioAppFactory app, string userName, params string[] scopes)
    {
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
        var user = await users.FindByNameAsync(userName);
        if (user is null)
        {
            user = new IdentityUser { UserName = userName };
            var created = await users.CreateAsync(user, "correct horse battery");
            Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
        }
        var (_, secret) = await app.Services.GetRequiredService<ApiTokenService>().CreateAsync(user.Id, "test " + string.Join("+", scopes), scopes);
        return secret;
    }

    [Fact]
    public async Task AnonymousRequestsToPagesApiAndDashboardAreRefused()
    {
        await using var app = SecuredApp();
        using var http = NoRedirects(app.Start());

        using var page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/account/login", page.Headers.Location!.PathAndQuery.Replace(http.BaseAddress!.ToString(), "/"));
        using var runsPage = await http.GetAsync("/runs");
        Assert.Equal(HttpStatusCode.Redirect, runsPage.StatusCode);
        using var api = await http.GetAsync("/api/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        using var create = await http.PostAsJsonAsync("/api/runs", TinyRuns.Sft());
        Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
        using var dashboard = await http.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Unauthorized, dashboard.StatusCode);
        using var bogus = new HttpRequestMessage(HttpMethod.Get, "/api/runs") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "bst_not-a-token") } };
        using var bogusResponse = await http.SendAsync(bogus);
        Assert.Equal(HttpStatusCode.Unauthorized, bogusResponse.StatusCode);
        await using var db = app.Db();
        Assert.Equal(0, await db.Runs.CountAsync());

        // The sign-in page itself is public and carries the security headers.
        using var login = await http.GetAsync("/account/login");
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Contains("frame-ancestors 'none'", login.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", login.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", login.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", login.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task TokensActWithinTheirScopes()
    {
        await using var app = SecuredApp();
        using var http = NoRedirects(app.Start());
        var read = await TokenAsync(app, "alice", "read");
        var write = await TokenAsync(app, "alice", "write");
        var none = await TokenAsync(app, "alice");

        async Task<HttpResponseMessage> Send(HttpMethod method, string url, string token, object? body = null)
        {
            var request = new HttpRequestMessage(method, url) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
            if (body is not null) request.Content = JsonContent.Create(body);
            return await http.SendAsync(request);
        }

        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/api/runs", read)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, "/api/runs", none)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Post, "/api/runs", read, TinyRuns.Sft("read-only attempt"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Post, "/api/runs", none, TinyRuns.Sft("no-rights attempt"))).StatusCode);
        await using (var db = app.Db()) Assert.Equal(0, await db.Runs.CountAsync());

        var created = await Send(HttpMethod.Post, "/api/runs", write, TinyRuns.Sft("written with a token"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await using (var db = app.Db()) Assert.Equal("written with a token", (await db.Runs.SingleAsync()).Name);

        // Tokens cannot mint tokens; the secret is stored only as a hash.
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Post, "/api/tokens", write, new { name = "x", scopes = new[] { "write" } })).StatusCode);
        await using var identity = await app.Services.GetRequiredService<IDbContextFactory<BonStudioIdentityDb>>().CreateDbContextAsync();
        Assert.DoesNotContain(await identity.ApiTokens.Select(t => t.Hash).ToListAsync(), h => h == write || h.Contains("bst_"));
    }

    [Fact]
    public async Task FirstRegisteredAccountIsAdminSignsInWithAntiforgeryAndCanMintATokenForScripts()
    {
        await using var app = SecuredApp();
        var cookies = new CookieContainer();
        using var http = NoRedirects(app.Start(), cookies);

        var form = await http.GetStringAsync("/account/register");
        var antiforgery = Regex.Match(form, "name=\"(__RequestVerificationToken)\" value=\"([^\"]+)\"");
        Assert.True(antiforgery.Success, form);

        // A POST without the antiforgery token is refused and creates nobody.
        using var forged = await http.PostAsync("/account/register", new FormUrlEncodedContent(new Dictionary<string, string> { ["userName"] = "mallory", ["password"] = "long enough password" }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        using var registered = await http.PostAsync("/account/register", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [antiforgery.Groups[1].Value] = WebUtility.HtmlDecode(antiforgery.Groups[2].Value), ["userName"] = "admin", ["password"] = "long enough password",
        }));
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<IdentityUser>>();
            Assert.Equal(["admin"], users.Users.Select(u => u.UserName!).ToList());
            Assert.True(await users.IsInRoleAsync((await users.FindByNameAsync("admin"))!, SecurityExtensions.AdminRole));
        }

        // Signed in: pages, API and dashboard answer; a token minted here works for scripts.
        using var home = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        var homeHtml = await home.Content.ReadAsStringAsync();
        Assert.Contains("Signed in as admin", homeHtml);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/hangfire")).StatusCode);
        using var minted = await http.PostAsJsonAsync("/api/tokens", new { name = "ci script", scopes = new[] { "read" } });
        Assert.Equal(HttpStatusCode.Created, minted.StatusCode);
        var secret = (await minted.Content.ReadFromJsonAsync<AccountEndpoints.CreatedToken>())!.Token;
        using var script = NoRedirects(http.BaseAddress!);
        script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/api/runs")).StatusCode);

        // Signing out needs the antiforgery token too (no cross-site sign-out).
        using var forgedLogout = await http.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>()));
        Assert.Equal(HttpStatusCode.BadRequest, forgedLogout.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/runs")).StatusCode);

        // The sign-out form of the navigation menu works (its antiforgery token) and ends the session.
        var logoutToken = Regex.Match(homeHtml, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"");
        Assert.True(logoutToken.Success, "the page should carry the sign-out form's antiforgery token");
        using var logout = await http.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(logoutToken.Groups[1].Value),
        }));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/runs")).StatusCode);

        // A second visitor cannot register once an account exists.
        using var stranger = NoRedirects(http.BaseAddress!);
        using var strangerForm = await stranger.GetAsync("/account/register");
        Assert.Equal(HttpStatusCode.Redirect, strangerForm.StatusCode);
    }

    [Theory]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://127.0.0.1:0", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://*:80", false)]
    [InlineData("http://[::]:80", false)]
    [InlineData("https://bonstudio.example.org", false)]
    [InlineData("http://192.168.1.20:5000", false)]
    public void AnonymousAccessIsForcedOffOnNonLoopbackAddresses(string url, bool anonymousStaysOn)
    {
        Assert.Equal(anonymousStaysOn, AccessMode.IsLoopbackUrl(url));
        var mode = new AccessMode(NullLogger<AccessMode>.Instance);
        mode.Initialize(configured: true, ["http://localhost:5001", url], "test");
        Assert.Equal(anonymousStaysOn, mode.AnonymousAllowed);
        mode.Initialize(configured: false, [url], "test");
        Assert.False(mode.AnonymousAllowed);
    }

    [Fact]
    public void ReturnUrlsStayOnThisSite()
    {
        Assert.Equal("/runs/3", AccountEndpoints.SafeReturnUrl("/runs/3"));
        Assert.Equal("/", AccountEndpoints.SafeReturnUrl("//evil.example"));
        Assert.Equal("/", AccountEndpoints.SafeReturnUrl("/\\evil.example"));
        Assert.Equal("/", AccountEndpoints.SafeReturnUrl("https://evil.example"));
        Assert.Equal("/", AccountEndpoints.SafeReturnUrl(null));
    }
}
