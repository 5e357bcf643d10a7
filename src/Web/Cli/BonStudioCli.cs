// The command line of the BonStudio executable: no verb (or `serve`) serves the web app; other verbs run and exit.
// Verbs call the same services as the REST API and the pages.
using System.CommandLine;
using BonStudio.Web.Extensions;

namespace BonStudio.Web.Cli;

public static class BonStudioCli
{
    /// <summary>Global option: the data directory (database, Hangfire storage, run folders).</summary>
    public static readonly Option<string?> DataDirOption = new("--data-dir")
    {
        Description = "Data directory (default: BonStudioOptions:DataDirectory, i.e. ./data)",
        Recursive = true,
    };

    /// <summary>True when the arguments ask for the web server: no verb, `serve`, or only host options (--urls=..., --environment=...).
    /// Global options may come first (`--data-dir X run file.json` runs a verb), so the first known verb name decides.</summary>
    public static bool IsServe(string[] args)
    {
        var verbs = Create().Subcommands.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var arg in args)
        {
            if (arg is "--help" or "-h" or "-?" or "--version") return false;
            if (verbs.Contains(arg)) return arg == "serve";
        }
        return true;
    }

    /// <summary>The arguments for the web host: everything but the `serve` verb itself.</summary>
    public static string[] ServeArgs(string[] args)
    {
        int i = Array.IndexOf(args, "serve");
        return i < 0 ? args : [.. args[..i], .. args[(i + 1)..]];
    }

    /// <summary>Runs the web host (UI, API, workers) until shut down.</summary>
    public static async Task<int> ServeAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(WebOptions(args));
        builder.AddBonStudio();
        var app = builder.Build();
        app.MapBonStudio();
        await app.RunAsync();
        return 0;
    }

    /// <summary>Parses and runs a verb. <paramref name="output"/>/<paramref name="error"/> default to the console (tests pass writers).</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken ct = default)
    {
        var root = Create();
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output ?? Console.Out, Error = error ?? Console.Error }, ct);
    }

    public static RootCommand Create()
    {
        var root = new RootCommand("BonStudio: a self-hosted lab for inference-aware training research. No verb = serve the web app.");
        root.Options.Add(DataDirOption);

        var serve = new Command("serve", "Serve the web UI, REST API and Hangfire workers (the default). Host options such as --urls pass through.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        // Program.cs handles `serve` before parsing (the web host needs the raw arguments); this entry documents it in --help.
        serve.SetAction((parse, ct) => ServeAsync([.. parse.UnmatchedTokens, .. DataDirArgs(parse)]));
        root.Subcommands.Add(serve);

        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(RunsCommand.Create());
        root.Subcommands.Add(WorkerCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(MetricsCommand.Create());
        root.Subcommands.Add(GradeCommand.Create());
        root.Subcommands.Add(RescoreCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        return root;
    }

    private static string[] DataDirArgs(ParseResult parse) =>
        parse.GetValue(DataDirOption) is { Length: > 0 } dir ? ["--data-dir", dir] : [];

    /// <summary>Host options for the web app: arguments (with --data-dir translated) and the content root.</summary>
    public static WebApplicationOptions WebOptions(string[] args)
    {
        var hostArgs = ToHostArgs(args);
        return new WebApplicationOptions { Args = hostArgs, ContentRootPath = ContentRoot(hostArgs) };
    }

    /// <summary>The current directory when it holds appsettings.json (the repository top, a container's /app), else the
    /// folder of the binaries (which has copies of appsettings.json and wwwroot/); null leaves an explicit choice alone.
    /// The data directory is resolved against the current directory either way.</summary>
    public static string? ContentRoot(IReadOnlyList<string> hostArgs)
    {
        if (hostArgs.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT")))
            return null;
        return File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")) ? null : AppContext.BaseDirectory;
    }

    /// <summary>Turns `--data-dir X` into the configuration key the options bind from; other args pass through.</summary>
    public static string[] ToHostArgs(IReadOnlyList<string> args)
    {
        var result = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--data-dir" && i + 1 < args.Count) { result.Add($"--{nameof(BonStudioOptions)}:{nameof(BonStudioOptions.DataDirectory)}={args[++i]}"); continue; }
            if (args[i].StartsWith("--data-dir=", StringComparison.Ordinal)) { result.Add($"--{nameof(BonStudioOptions)}:{nameof(BonStudioOptions.DataDirectory)}={args[i]["--data-dir=".Length..]}"); continue; }
            result.Add(args[i]);
        }
        return [.. result];
    }

    /// <summary>A host for verbs that need storage but no web server: core services, quiet console logging.</summary>
    public static IHost BuildCliHost(ParseResult parse, bool withWorkers = false) =>
        BuildCliHost(parse.GetValue(DataDirOption), withWorkers);

    /// <summary>The same host for a given data directory (null = configuration's).</summary>
    public static IHost BuildCliHost(string? dataDirectory, bool withWorkers = false)
    {
        var args = ToHostArgs(dataDirectory is { Length: > 0 } ? ["--data-dir", dataDirectory] : []);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = ContentRoot(args) });
        // Logs go to stderr (stdout carries results, e.g. --json); verbs other than `worker` only log warnings.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        var minimum = withWorkers ? LogLevel.Information : LogLevel.Warning;
        builder.Logging.AddFilter((category, level) => level >= minimum && !(category?.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal) == true && level < LogLevel.Warning));
        // `worker` always runs servers, even with a shared appsettings.json that says RunWorkers=false for the web process.
        if (withWorkers) builder.Configuration[$"{nameof(BonStudioOptions)}:{nameof(BonStudioOptions.RunWorkers)}"] = "true";
        builder.AddBonStudioCore();
        if (withWorkers) builder.AddBonStudioWorkers(always: true);
        return builder.Build();
    }
}
