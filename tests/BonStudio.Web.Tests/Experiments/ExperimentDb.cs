// A real, migrated database seeded with runs and their latest metric values: SQLite in a temp folder by default, or a
// database on a throwaway PostgreSQL server (the provider-specific SQL of filters must work on both).
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Web.Tests.Experiments;

public sealed class ExperimentDb : IDisposable
{
    private readonly string? _dir;
    private readonly ServiceProvider _services;
    public IDbContextFactory<BonStudioDb> Factory { get; }

    /// <summary>A new SQLite database file.</summary>
    public ExperimentDb() : this(TempDirectory.Create("bs-exp"), null) { }

    /// <summary>A database on PostgreSQL (an empty database the caller created).</summary>
    public static ExperimentDb Postgres(string connectionString) => new(null, connectionString);

    private ExperimentDb(string? dir, string? postgres)
    {
        _dir = dir;
        _services = new ServiceCollection()
            .AddBonStudioData(postgres ?? DataExtensions.SqliteConnectionString(Path.Combine(dir!, "bonstudio.db")), postgres is null ? "sqlite" : "postgres")
            .BuildServiceProvider();
        Factory = _services.GetRequiredService<IDbContextFactory<BonStudioDb>>();
        using var db = Factory.CreateDbContext();
        db.MigrateAsync().GetAwaiter().GetResult();
    }

    /// <summary>Adds a run whose config is <paramref name="config"/> (seed added) and whose latest metrics are <paramref name="metrics"/>.</summary>
    public int AddRun(string name, string kind, JsonObject config, long seed, IReadOnlyDictionary<string, double> metrics,
        RunStatus status = RunStatus.Succeeded, string groupHash = "", string[]? tags = null, bool starred = false, bool archived = false)
    {
        using var db = Factory.CreateDbContext();
        var full = (JsonObject)config.DeepClone();
        full["seed"] = seed;
        var run = new Run
        {
            Name = name, Kind = kind, ConfigJson = full.ToJsonString(), ConfigHash = name, Seed = seed, Status = status,
            GroupHash = groupHash.Length > 0 ? groupHash : config.ToJsonString(), Starred = starred, Archived = archived,
        };
        run.TagList = tags ?? [];
        db.Runs.Add(run);
        db.SaveChanges();
        foreach (var (metric, value) in metrics)
            db.RunSummaries.Add(new RunSummary { RunId = run.Id, Name = metric, Value = value, Step = 10 });
        db.SaveChanges();
        return run.Id;
    }

    public void Dispose()
    {
        _services.Dispose();
        if (_dir is null) return;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDirectory.TryDelete(_dir);
    }
}
