// Dependency injection of BonStudio, one method per concern; Program.cs only calls AddBonStudio/MapBonStudio.
using System.Text.Json.Serialization;
using BonStudio.Data;
using BonStudio.Web.Api;
using BonStudio.Web.Components;
using BonStudio.Web.Jobs;
using BonStudio.Web.RunKinds;
using BonStudio.Web.Security;
using BonStudio.Web.Services;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace BonStudio.Web.Extensions;

public static class BonStudioExtensions
{
    /// <summary>Everything every role (web, worker, CLI) needs: options, storage, run kinds, run services, Hangfire client.</summary>
    public static IHostApplicationBuilder AddBonStudioCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<BonStudioOptions>().BindConfiguration(nameof(BonStudioOptions));
        var options = builder.Configuration.GetSection(nameof(BonStudioOptions)).Get<BonStudioOptions>() ?? new BonStudioOptions();
        Directory.CreateDirectory(options.DataDirectoryFullPath);

        services.AddBonStudioData(options.EffectiveDatabaseConnectionString, options.DatabaseProvider);
        services.AddSingleton(TimeProvider.System);

        foreach (var kindType in RunKindRegistry.DiscoverTypes())
            services.AddSingleton(typeof(IRunKind), kindType);
        services.AddSingleton<RunKindRegistry>();
        services.AddSingleton<RunConfigBinder>();
        services.AddSingleton<RunCancellationRegistry>();
        services.AddSingleton<RunMaintenance>();
        services.AddTransient<RunExecutor>();
        services.AddTransient<RunJob>();
        services.AddScoped<RunService>();
        services.AddBonStudioEvaluations();
        services.AddBonStudioModelImports(options.DataDirectoryFullPath);
        services.AddBonStudioExperiments();

        // Hangfire storage in its own SQLite file (see BonStudioOptions.HangfireDatabasePath).
        services.AddHangfire((sp, config) =>
        {
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (options.UsesPostgres)
                // Shared by the web process and every worker: schema "hangfire" in the same (or its own) database.
                config.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(
                        string.IsNullOrWhiteSpace(options.HangfireConnectionString) ? options.EffectiveDatabaseConnectionString : options.HangfireConnectionString),
                    new Hangfire.PostgreSql.PostgreSqlStorageOptions
                    {
                        InvisibilityTimeout = options.InvisibilityTimeout,
                        QueuePollInterval = options.QueuePollInterval,
                        PrepareSchemaIfNecessary = true,
                        SchemaName = "hangfire",
                    });
            else
                config.UseSQLiteStorage(options.EffectiveHangfireDatabasePath, new SQLiteStorageOptions
                {
                    InvisibilityTimeout = options.InvisibilityTimeout,
                    QueuePollInterval = options.QueuePollInterval,
                });
        });
        return builder;
    }

    /// <summary>Hangfire servers: one for the `default` queue, one for `train` with one worker per device.</summary>
    /// <param name="always">The `worker` verb: start the servers even when RunWorkers is false (that switch is for the web process).</param>
    public static IHostApplicationBuilder AddBonStudioWorkers(this IHostApplicationBuilder builder, bool always = false)
    {
        var options = builder.Configuration.GetSection(nameof(BonStudioOptions)).Get<BonStudioOptions>() ?? new BonStudioOptions();
        builder.Services.AddHostedService<DeadRunSweeper>();
        if (!options.RunWorkers && !always) return builder;
        var queues = options.QueueList;
        var unknown = queues.Where(q => q is not (RunJob.DefaultQueue or RunJob.TrainQueue)).ToList();
        if (unknown.Count > 0) throw new InvalidOperationException($"BonStudioOptions:Queues: unknown queue(s) {string.Join(", ", unknown)} (known: default, train)");
        // DefaultWorkers = 0: this process takes no light jobs (e.g. a GPU worker serving only `train`).
        if (queues.Contains(RunJob.DefaultQueue) && options.DefaultWorkers > 0)
            builder.Services.AddHangfireServer(o =>
            {
                o.ServerName = $"{RunEnvironment.WorkerName}:default";
                o.Queues = [RunJob.DefaultQueue];
                o.WorkerCount = options.DefaultWorkers;
                o.SchedulePollingInterval = TimeSpan.FromSeconds(5);
            });
        if (queues.Contains(RunJob.TrainQueue))
        builder.Services.AddHangfireServer(o =>
        {
            o.ServerName = $"{RunEnvironment.WorkerName}:train";
            o.Queues = [RunJob.TrainQueue];
            o.WorkerCount = options.TrainWorkers > 0 ? options.TrainWorkers : DeviceCount();
            o.CancellationCheckInterval = TimeSpan.FromSeconds(2);
            // On shutdown (SIGTERM) the job's token fires after StopTimeout; the trainer then checkpoints and the run
            // becomes Interrupted (resumed on the next start or by another worker). ShutdownTimeout bounds that.
            o.StopTimeout = TimeSpan.FromSeconds(1);
            o.ShutdownTimeout = TimeSpan.FromSeconds(25);
        });
        return builder;
    }

    /// <summary>CUDA devices, or 1 on a CPU-only machine.</summary>
    public static int DeviceCount()
    {
        try { return TorchSharp.torch.cuda.is_available() ? Math.Max(1, TorchSharp.torch.cuda.device_count()) : 1; }
        catch (Exception) { return 1; }
    }

    /// <summary>The web host: core + workers (unless disabled) + Blazor UI + REST API + OpenAPI.</summary>
    public static WebApplicationBuilder AddBonStudio(this WebApplicationBuilder builder)
    {
        builder.AddBonStudioCore();
        builder.AddBonStudioWorkers();
        // Static web assets (MudBlazor's, blazor.web.js, the repo-top wwwroot) also outside Development.
        Microsoft.AspNetCore.Hosting.StaticWebAssets.StaticWebAssetsLoader.UseStaticWebAssets(builder.Environment, builder.Configuration);
        // Embedded default http://localhost:5000 unless --urls, ASPNETCORE_URLS/URLS, *_HTTP_PORTS or Kestrel endpoints say otherwise.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
            builder.WebHost.UseUrls("http://localhost:5000");

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices();
        builder.Services.AddOpenApi();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddProblemDetails();
        builder.AddBonStudioSecurity();
        return builder;
    }

    /// <summary>Start-up housekeeping (migrations, dead runs, seed), then endpoints: pages, API, OpenAPI, dashboard.</summary>
    public static WebApplication MapBonStudio(this WebApplication app)
    {
        using (var scope = app.Services.CreateScope())
            scope.ServiceProvider.GetRequiredService<RunMaintenance>().InitializeAsync().GetAwaiter().GetResult();
        app.Services.InitializeSecurityAsync().GetAwaiter().GetResult();
        app.UseSecurityHeaders();

        if (!app.Environment.IsDevelopment()) app.UseExceptionHandler("/error", createScopeForErrors: true);
        // The repo-top wwwroot/: the web root when started from the repository, else the copy next to the binaries.
        app.UseStaticFiles();
        var copiedWebRoot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        var webRoot = string.IsNullOrEmpty(app.Environment.WebRootPath) ? "" : Path.GetFullPath(app.Environment.WebRootPath).TrimEnd('/');
        if (Directory.Exists(copiedWebRoot) && !string.Equals(Path.GetFullPath(copiedWebRoot).TrimEnd('/'), webRoot, StringComparison.Ordinal))
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(copiedWebRoot) });
        app.UseBonStudioSecurity(); // authentication, authorization (fallback: signed in unless anonymous is allowed), token scopes
        app.UseAntiforgery();
        app.MapStaticAssets().AllowAnonymous();
        app.MapAccountEndpoints();

        app.MapOpenApi(); // /openapi/v1.json
        app.MapRunsApi();
        app.MapModelsApi();
        app.MapEvaluationsApi();
        app.MapImportsApi();
        app.MapCalibrationApi();
        app.MapExperimentsApi();
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new SignedInDashboardAuthorization()],
            DashboardTitle = "BonStudio jobs",
            AppPath = "/",
        });
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}

/// <summary>The dashboard needs a signed-in account (or a token), or anonymous access on a loopback-only server.</summary>
public sealed class SignedInDashboardAuthorization : Hangfire.Dashboard.IDashboardAuthorizationFilter
{
    public bool Authorize(Hangfire.Dashboard.DashboardContext context)
    {
        var http = Hangfire.Dashboard.AspNetCoreDashboardContextExtensions.GetHttpContext(context);
        if (http.User.Identity?.IsAuthenticated == true) return true;
        return http.RequestServices.GetRequiredService<BonStudio.Web.Security.AccessMode>().AnonymousAllowed
            && System.Net.IPAddress.TryParse(context.Request.RemoteIpAddress, out var remote) && System.Net.IPAddress.IsLoopback(remote);
    }
}
