// Options of the host, bound from the "BonStudioOptions" section of appsettings.json (or env vars
// BonStudioOptions__DataDirectory=..., or --BonStudioOptions:DataDirectory=... on the command line).
namespace BonStudio.Web.Extensions;

/// <summary>Where data lives and how the Hangfire workers of this process are set up.</summary>
public sealed class BonStudioOptions
{
    /// <summary>Folder for the SQLite databases, run directories and checkpoints. Relative paths are
    /// resolved against the current directory.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>"sqlite" (embedded default) or "postgres" (scale-out: web + N workers sharing one PostgreSQL database;
    /// DatabaseConnectionString is then required, and Hangfire stores its jobs there too, schema "hangfire").</summary>
    public string DatabaseProvider { get; set; } = "sqlite";

    /// <summary>Hangfire's PostgreSQL connection string; empty = DatabaseConnectionString.</summary>
    public string? HangfireConnectionString { get; set; }

    /// <summary>EF Core connection string; empty = SQLite file {DataDirectory}/bonstudio.db.</summary>
    public string? DatabaseConnectionString { get; set; }

    /// <summary>Hangfire SQLite file; empty = {DataDirectory}/hangfire.db. A separate file from EF's on purpose:
    /// if Hangfire creates its tables first in the same file, EF's schema creation can misbehave.</summary>
    public string? HangfireDatabasePath { get; set; }

    /// <summary>Whether the web process runs Hangfire servers (false = UI/API only; start `worker` processes instead).
    /// The `worker` verb always runs them.</summary>
    public bool RunWorkers { get; set; } = true;

    /// <summary>Workers on the light `default` queue (0 = none in this process).</summary>
    public int DefaultWorkers { get; set; } = 1;

    /// <summary>Workers on the `train` queue; 0 = one per device (CUDA devices, or 1 on CPU).</summary>
    public int TrainWorkers { get; set; } = 0;

    /// <summary>How long a fetched job may stay invisible before Hangfire hands it to another worker.
    /// Must exceed the longest run, otherwise a long run starts twice.</summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often idle workers poll the queue (Hangfire's SQLite default is 15 s, too sluggish for a UI).</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A Running run whose heartbeat is older than this is considered dead and marked Interrupted.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a running job writes buffered metrics/logs/progress and its heartbeat.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Queue interrupted runs (worker killed or shut down) of a <see cref="ResumableKinds"/> kind again;
    /// they resume from their last recorded checkpoint.</summary>
    public bool ResumeInterruptedRuns { get; set; } = true;

    /// <summary>Run kinds that resume where they stopped: trainers from the checkpoints in their run directory, evaluations by skipping the sample sets already stored.</summary>
    public string ResumableKinds { get; set; } = "sft,bon-finetune,bon-eval";

    public string[] ResumableKindList => Split(ResumableKinds);

    /// <summary>Queues this process's Hangfire servers take work from, comma-separated: "default,train" (both),
    /// "train" for a GPU machine that only trains, "default" for a light helper.</summary>
    public string Queues { get; set; } = "default,train";

    public string[] QueueList => Split(Queues);

    private static string[] Split(string? list) =>
        (list ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Executions allowed per run (first start + resumes) before an interrupted run is left alone.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Let visitors use the app without signing in: the embedded single-user default. Forced OFF (with a log
    /// line saying why) whenever the server listens on a non-loopback address; then every page, /api endpoint and
    /// /hangfire needs a signed-in account or an API token.</summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>Seed an example experiment on an empty database.</summary>
    public bool SeedExamples { get; set; } = true;

    /// <summary>Resolved absolute data directory.</summary>
    public string DataDirectoryFullPath => Path.GetFullPath(DataDirectory);

    public bool UsesPostgres => BonStudio.Data.DataExtensions.IsPostgres(DatabaseProvider);

    public string EffectiveDatabaseConnectionString => string.IsNullOrWhiteSpace(DatabaseConnectionString)
        ? UsesPostgres ? throw new InvalidOperationException("BonStudioOptions:DatabaseConnectionString is required with DatabaseProvider=postgres (e.g. Host=db;Database=bonstudio;Username=bonstudio;Password=...)") : $"Data Source={Path.Combine(DataDirectoryFullPath, "bonstudio.db")}"
        : DatabaseConnectionString;

    public string EffectiveHangfireDatabasePath => string.IsNullOrWhiteSpace(HangfireDatabasePath)
        ? Path.Combine(DataDirectoryFullPath, "hangfire.db")
        : Path.GetFullPath(HangfireDatabasePath);

    /// <summary>Folder of one run's files (checkpoints, logs).</summary>
    public string RunDirectory(int runId) => Path.Combine(DataDirectoryFullPath, "runs", runId.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
