// A real, migrated SQLite database in a temp folder, seeded with runs and their latest metric values.
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace BonStudio.Web.Tests.Experiments;

public sealed class ExperimentDb : IDisposable
{
    private readonly string _dir = TempDirectory.Create("bs-exp");
    public IDbContextFactory<BonStudioDb> Factory { get; }

    public ExperimentDb()
    {
        var options = new DbContextOptionsBuilder<BonStudioDb>()
            .UseSqlite(DataExtensions.SqliteConnectionString(Path.Combine(_dir, "bonstudio.db"))).Options;
        Factory = new PooledDbContextFactory<BonStudioDb>(options);
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
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TempDirectory.TryDelete(_dir);
    }
}
