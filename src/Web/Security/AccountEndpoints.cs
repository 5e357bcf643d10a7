// Sign-in, registration and sign-out as plain server-rendered forms (POST + antiforgery token; no script needed),
// and /api/tokens for people to mint API tokens for scripts and the CLI. The first registered account becomes
// admin; after that only an admin can add accounts.
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace BonStudio.Web.Security;

public static class AccountEndpoints
{
    public sealed record CreateTokenRequest(string Name, string[] Scopes);
    public sealed record CreatedToken(int Id, string Name, string Scopes, string Token);
    public sealed record TokenInfo(int Id, string Name, string Scopes, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt);

    public static WebApplication MapAccountEndpoints(this WebApplication app)
    {
        var account = app.MapGroup("/account").AllowAnonymous().ExcludeFromDescription();
        account.MapGet("/login", (HttpContext ctx, IAntiforgery af, string? returnUrl) =>
            Page(ctx, af, "Sign in", "/account/login", returnUrl, null, registering: false));
        account.MapPost("/login", Login);
        account.MapGet("/register", async (HttpContext ctx, IAntiforgery af, UserManager<IdentityUser> users) =>
            await CanRegisterAsync(ctx, users)
                ? Page(ctx, af, "Create account", "/account/register", "/", null, registering: true)
                : Results.Redirect("/account/login"));
        account.MapPost("/register", Register);
        account.MapPost("/logout", async (HttpContext ctx, IAntiforgery af, SignInManager<IdentityUser> signIn) =>
        {
            // No form fields to bind, so the token is checked here (no cross-site sign-out).
            if (!await af.IsRequestValidAsync(ctx)) return Results.Problem("missing or invalid antiforgery token", statusCode: 400);
            await signIn.SignOutAsync();
            return Results.Redirect("/account/login");
        }).DisableAntiforgery();

        var tokens = app.MapGroup("/api/tokens").WithTags("Tokens").RequireAuthorization(p => p.RequireAuthenticatedUser());
        tokens.MapPost("/", CreateToken).WithName("CreateApiToken")
            .WithSummary("Mint an API token (scopes: read, write) for the signed-in account; the secret is returned only here.");
        tokens.MapGet("/", async (ClaimsPrincipal user, ApiTokenService service, CancellationToken ct) =>
            (await service.ListAsync(UserId(user), ct)).Select(t => new TokenInfo(t.Id, t.Name, t.Scopes, t.CreatedAt, t.LastUsedAt, t.RevokedAt)))
            .WithName("ListApiTokens");
        tokens.MapDelete("/{id:int}", async Task<Results<NoContent, NotFound>> (int id, ClaimsPrincipal user, ApiTokenService service, CancellationToken ct) =>
            await service.RevokeAsync(UserId(user), id, ct) ? TypedResults.NoContent() : TypedResults.NotFound()).WithName("RevokeApiToken");
        return app;
    }

    private static string UserId(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("signed-in user without an id");

    private static async Task<Results<Created<CreatedToken>, ValidationProblem>> CreateToken(
        [FromBody] CreateTokenRequest request, ClaimsPrincipal user, ApiTokenService service, CancellationToken ct)
    {
        try
        {
            var (id, secret) = await service.CreateAsync(UserId(user), request.Name, request.Scopes ?? [], ct);
            return TypedResults.Created($"/api/tokens/{id}", new CreatedToken(id, request.Name.Trim(), ApiTokens.NormalizeScopes(request.Scopes ?? []), secret));
        }
        catch (ArgumentException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["token"] = [e.Message] });
        }
    }

    private static Task<bool> CanRegisterAsync(HttpContext ctx, UserManager<IdentityUser> users) => Task.FromResult(
        !users.Users.Any() || (ctx.User.Identity?.IsAuthenticated == true && ctx.User.IsInRole(SecurityExtensions.AdminRole)));

    private static async Task<IResult> Login(HttpContext ctx, IAntiforgery af, SignInManager<IdentityUser> signIn,
        [FromForm] string userName, [FromForm] string password, [FromForm] string? returnUrl)
    {
        var result = await signIn.PasswordSignInAsync(userName ?? "", password ?? "", isPersistent: true, lockoutOnFailure: true);
        if (result.Succeeded) return Results.LocalRedirect(SafeReturnUrl(returnUrl));
        var why = result.IsLockedOut ? "Too many failed attempts; try again later." : "Wrong user name or password.";
        return Page(ctx, af, "Sign in", "/account/login", returnUrl, why, registering: false, status: 400);
    }

    private static async Task<IResult> Register(HttpContext ctx, IAntiforgery af, UserManager<IdentityUser> users, SignInManager<IdentityUser> signIn,
        [FromForm] string userName, [FromForm] string password)
    {
        if (!await CanRegisterAsync(ctx, users)) return Results.StatusCode(403);
        var first = !users.Users.Any();
        var user = new IdentityUser { UserName = userName?.Trim() };
        var created = await users.CreateAsync(user, password ?? "");
        if (!created.Succeeded)
            return Page(ctx, af, "Create account", "/account/register", "/", string.Join(" ", created.Errors.Select(e => e.Description)), registering: true, status: 400);
        if (first) await users.AddToRoleAsync(user, SecurityExtensions.AdminRole);
        if (ctx.User.Identity?.IsAuthenticated != true) await signIn.SignInAsync(user, isPersistent: true);
        return Results.LocalRedirect("/");
    }

    /// <summary>Only a local path; anything else (absolute URLs, //host, /\host) goes home.</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 } u && u[0] == '/' && (u.Length == 1 || (u[1] != '/' && u[1] != '\\')) ? u : "/";

    private static IResult Page(HttpContext ctx, IAntiforgery af, string title, string action, string? returnUrl, string? error,
        bool registering, int status = 200)
    {
        var tokens = af.GetAndStoreTokens(ctx);
        var e = HtmlEncoder.Default;
        var html = new StringBuilder();
        html.Append($"""
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e.Encode(title)} · BonStudio</title><link rel="icon" type="image/svg+xml" href="/favicon.svg">
<style>body{"{"}font-family:system-ui,sans-serif;background:#f5f5f5;display:flex;justify-content:center;padding-top:10vh{"}"}
form{"{"}background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;min-width:18rem{"}"}
label{"{"}display:block;margin:.8rem 0 .2rem{"}"}input{"{"}width:100%;padding:.5rem;box-sizing:border-box{"}"}
button{"{"}margin-top:1.2rem;padding:.5rem 1rem{"}"}.error{"{"}color:#b00020{"}"}</style></head>
<body><form method="post" action="{e.Encode(action)}">
<h1>{e.Encode(title)}</h1>
<input type="hidden" name="{e.Encode(tokens.FormFieldName)}" value="{e.Encode(tokens.RequestToken ?? "")}">
<input type="hidden" name="returnUrl" value="{e.Encode(SafeReturnUrl(returnUrl))}">
""");
        if (error is not null) html.Append($"""<p class="error" role="alert">{e.Encode(error)}</p>""");
        html.Append($"""
<label for="userName">User name</label><input id="userName" name="userName" autocomplete="username" required maxlength="256">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="{(registering ? "new-password" : "current-password")}" required minlength="8">
<button type="submit">{e.Encode(title)}</button>
""");
        if (!registering) html.Append("""<p><a href="/account/register">Create the first account</a> (afterwards only an admin adds accounts)</p>""");
        html.Append("</form></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", statusCode: status);
    }
}
