// Sign-in and access control: Identity cookies for people, hashed bearer tokens (scopes read/write) for scripts
// and the CLI, every page, /api endpoint and the Hangfire dashboard behind sign-in, and the anonymous switch of the
// embedded single-user default (forced off when the server listens on a non-loopback address). Security headers too.
using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using BonStudio.Web.Extensions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Security;

/// <summary>Whether anonymous visitors may use the app: BonStudioOptions.AllowAnonymous, but never while any listening
/// address is reachable from other machines.</summary>
public sealed class AccessMode(ILogger<AccessMode> logger)
{
    private volatile bool _anonymous;
    public bool AnonymousAllowed => _anonymous;

    public void Initialize(bool configured, IEnumerable<string> urls, string source)
    {
        var exposed = urls.Where(u => !IsLoopbackUrl(u)).ToList();
        _anonymous = configured && exposed.Count == 0;
        if (configured && exposed.Count > 0)
            logger.LogWarning("Anonymous access is OFF although BonStudioOptions:AllowAnonymous is true: the server listens on non-loopback address(es) {Urls} ({Source}). Sign in (the first registered account becomes admin) or use an API token.",
                string.Join(", ", exposed), source);
        else if (_anonymous)
            logger.LogInformation("Anonymous access is ON (single-user default, loopback only). Set BonStudioOptions:AllowAnonymous=false to require sign-in.");
    }

    /// <summary>localhost, 127.0.0.0/8 and ::1 are loopback; *, +, 0.0.0.0, [::] and every other host are not.</summary>
    public static bool IsLoopbackUrl(string url)
    {
        var u = url.Trim();
        var schemeEnd = u.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd >= 0) u = u[(schemeEnd + 3)..];
        var slash = u.IndexOf('/');
        if (slash >= 0) u = u[..slash];
        string host;
        if (u.StartsWith('[')) host = u[1..Math.Max(1, u.IndexOf(']'))];
        else { var colon = u.LastIndexOf(':'); host = colon >= 0 ? u[..colon] : u; }
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }
}

/// <summary>Signed in (cookie or token), or anonymous access allowed by <see cref="AccessMode"/>.</summary>
public sealed class SignedInOrAnonymousRequirement : IAuthorizationRequirement;

public sealed class SignedInOrAnonymousHandler(AccessMode access) : AuthorizationHandler<SignedInOrAnonymousRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, SignedInOrAnonymousRequirement requirement)
    {
        if (access.AnonymousAllowed || context.User.Identity?.IsAuthenticated == true) context.Succeed(requirement);
        return Task.CompletedTask;
    }
}

/// <summary>Authenticates <c>Authorization: Bearer bst_...</c> against the stored token hashes.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IDbContextFactory<BonStudioIdentityDb> dbFactory)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";
    public const string ScopeClaim = "scope";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var secret = header["Bearer ".Length..].Trim();
        if (secret.Length is 0 or > 200) return AuthenticateResult.Fail("malformed token");
        var hash = ApiTokens.Hash(secret);
        await using var db = await dbFactory.CreateDbContextAsync(Context.RequestAborted);
        var token = await db.ApiTokens.AsNoTracking().FirstOrDefaultAsync(t => t.Hash == hash && t.RevokedAt == null, Context.RequestAborted);
        if (token is null) return AuthenticateResult.Fail("unknown or revoked token");
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == token.UserId, Context.RequestAborted);
        if (user is null) return AuthenticateResult.Fail("the token's user no longer exists");
        await db.ApiTokens.Where(t => t.Id == token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, DateTime.UtcNow), Context.RequestAborted);
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, user.Id),
            new(ClaimTypes.Name, user.UserName ?? user.Id),
            new("token_id", token.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        claims.AddRange(token.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => new Claim(ScopeClaim, s)));
        var identity = new ClaimsIdentity(claims, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

public static class SecurityExtensions
{
    public const string CombinedScheme = "BonStudio";
    public const string AdminRole = "admin";

    public static WebApplicationBuilder AddBonStudioSecurity(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(nameof(BonStudioOptions)).Get<BonStudioOptions>() ?? new BonStudioOptions();
        var services = builder.Services;
        services.AddDbContextFactory<BonStudioIdentityDb>(o =>
        {
            if (options.UsesPostgres) BonStudio.Data.DataExtensions.ConfigurePostgres(o, options.EffectiveDatabaseConnectionString);
            else o.UseSqlite(options.EffectiveDatabaseConnectionString);
        }, ServiceLifetime.Singleton);
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<BonStudioIdentityDb>>().CreateDbContext());
        services.AddSingleton<AccessMode>();
        services.AddSingleton<ApiTokenService>();
        services.AddIdentityCore<IdentityUser>(o =>
            {
                o.Password.RequiredLength = 8;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireDigit = false;
                o.User.RequireUniqueEmail = false;
                o.Lockout.MaxFailedAccessAttempts = 10;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<BonStudioIdentityDb>()
            .AddSignInManager();

        services.AddAuthentication(o =>
            {
                o.DefaultScheme = CombinedScheme;
                o.DefaultChallengeScheme = CombinedScheme;
            })
            .AddPolicyScheme(CombinedScheme, "cookie or bearer token", o => o.ForwardDefaultSelector = ctx =>
                ctx.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? ApiTokenAuthenticationHandler.SchemeName : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/account/login";
            o.LogoutPath = "/account/logout";
            o.AccessDeniedPath = "/account/login";
            o.Cookie.Name = "bonstudio.auth";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.SlidingExpiration = true;
            // Scripts get status codes, people get the sign-in page.
            o.Events.OnRedirectToLogin = ctx => IsMachinePath(ctx.Request.Path) ? Status(ctx, 401) : Redirect(ctx);
            o.Events.OnRedirectToAccessDenied = ctx => IsMachinePath(ctx.Request.Path) ? Status(ctx, 403) : Redirect(ctx);
        });

        services.AddSingleton<IAuthorizationHandler, SignedInOrAnonymousHandler>();
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().AddRequirements(new SignedInOrAnonymousRequirement()).Build());
        services.AddCascadingAuthenticationState();
        return builder;

        static Task Status(Microsoft.AspNetCore.Authentication.RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> ctx, int code)
        {
            ctx.Response.StatusCode = code;
            return Task.CompletedTask;
        }
        static Task Redirect(Microsoft.AspNetCore.Authentication.RedirectContext<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions> ctx)
        {
            ctx.Response.Redirect(ctx.RedirectUri);
            return Task.CompletedTask;
        }
    }

    private static bool IsMachinePath(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/hangfire") || path.StartsWithSegments("/openapi");

    /// <summary>Security headers, authentication, authorization and API token scopes. Call after static files, before antiforgery.</summary>
    public static WebApplication UseBonStudioSecurity(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<BonStudioOptions>>().Value;
        var access = app.Services.GetRequiredService<AccessMode>();
        access.Initialize(options.AllowAnonymous, ConfiguredUrls(app.Configuration), "configuration");
        // The addresses actually bound can only make it stricter (e.g. Kestrel endpoints set in code).
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            if (bound is { Count: > 0 } && access.AnonymousAllowed && bound.Any(a => !AccessMode.IsLoopbackUrl(a)))
                access.Initialize(options.AllowAnonymous, bound, "bound addresses");
        });

        app.UseAuthentication();
        app.UseAuthorization();
        app.Use(async (context, next) =>
        {
            // Tokens: read for GET/HEAD, write for everything else; token management is for people only.
            var user = context.User;
            if (user.Identity is { IsAuthenticated: true, AuthenticationType: ApiTokenAuthenticationHandler.SchemeName })
            {
                var scopes = user.FindAll(ApiTokenAuthenticationHandler.ScopeClaim).Select(c => c.Value).ToHashSet();
                var reading = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
                var allowed = reading ? scopes.Contains(ApiTokens.ReadScope) || scopes.Contains(ApiTokens.WriteScope) : scopes.Contains(ApiTokens.WriteScope);
                if (!allowed || context.Request.Path.StartsWithSegments("/api/tokens"))
                {
                    context.Response.StatusCode = 403;
                    await context.Response.WriteAsJsonAsync(new { title = $"this token lacks the '{(reading ? "read" : "write")}' scope" });
                    return;
                }
            }
            await next();
        });
        return app;
    }

    /// <summary>Security headers on every response: a CSP fit for Blazor Server + MudBlazor + Plotly (no inline script).</summary>
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        const string Csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
                           "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
        // Hangfire's dashboard writes a few inline scripts of its own.
        const string DashboardCsp = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
                                    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/hangfire") ? DashboardCsp : Csp;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            return next();
        });
        return app;
    }

    /// <summary>Listening URLs from configuration (--urls, ASPNETCORE_URLS, *_HTTP_PORTS, Kestrel:Endpoints); none = the loopback default.</summary>
    public static IEnumerable<string> ConfiguredUrls(IConfiguration configuration)
    {
        foreach (var key in new[] { "urls", "ASPNETCORE_URLS" })
            foreach (var u in (configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                yield return u;
        foreach (var key in new[] { "http_ports", "https_ports", "HTTP_PORTS", "HTTPS_PORTS" })
            if (!string.IsNullOrWhiteSpace(configuration[key])) yield return $"http://*:{configuration[key]}"; // ports bind every interface
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
            if (endpoint["Url"] is { Length: > 0 } url) yield return url;
    }

    /// <summary>Creates the Identity tables and the admin role if missing.</summary>
    public static async Task InitializeSecurityAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using (var db = await services.GetRequiredService<IDbContextFactory<BonStudioIdentityDb>>().CreateDbContextAsync(ct))
            await db.EnsureTablesAsync(ct);
        using var scope = services.CreateScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(AdminRole)) await roles.CreateAsync(new IdentityRole(AdminRole));
    }
}
