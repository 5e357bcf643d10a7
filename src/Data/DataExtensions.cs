using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Data;

public static class DataExtensions
{
    /// <summary>
    /// Registers <see cref="BonStudioDb"/> (a pooled context factory plus scoped contexts) on SQLite.
    /// Blazor components should use <c>IDbContextFactory&lt;BonStudioDb&gt;</c> (one short-lived context per operation).
    /// </summary>
    public static IServiceCollection AddBonStudioData(this IServiceCollection services, string connectionString, string provider)
    {
        if (IsPostgres(provider))
        {
            AppContext.SetSwitch("Npgsql.EnableLegacyTimestampBehavior", true); // before anything (Hangfire too) loads Npgsql
            // Its own context type so its own migrations (Migrations/Postgres) apply; everything else asks for BonStudioDb.
            services.AddPooledDbContextFactory<BonStudioPostgresDb>(o => ConfigurePostgres(o, connectionString));
            services.AddSingleton<IDbContextFactory<BonStudioDb>>(sp => new PostgresFactory(sp.GetRequiredService<IDbContextFactory<BonStudioPostgresDb>>()));
            services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<BonStudioDb>>().CreateDbContext());
            return services;
        }
        if (!IsSqlite(provider)) throw new ArgumentException($"DatabaseProvider '{provider}' is not supported (use sqlite or postgres)");
        return services.AddBonStudioData(connectionString);
    }

    public static bool IsPostgres(string? provider) => provider?.Trim().ToLowerInvariant() is "postgres" or "postgresql" or "npgsql";
    public static bool IsSqlite(string? provider) => string.IsNullOrWhiteSpace(provider) || provider.Trim().ToLowerInvariant() == "sqlite";

    /// <summary>Npgsql with DateTime mapped to <c>timestamp without time zone</c> (the app stores UTC everywhere, as on SQLite).</summary>
    public static void ConfigurePostgres(DbContextOptionsBuilder o, string connectionString)
    {
        AppContext.SetSwitch("Npgsql.EnableLegacyTimestampBehavior", true);
        o.UseNpgsql(connectionString, n => n.CommandTimeout(60));
    }

    private sealed class PostgresFactory(IDbContextFactory<BonStudioPostgresDb> inner) : IDbContextFactory<BonStudioDb>
    {
        public BonStudioDb CreateDbContext() => inner.CreateDbContext();
        public Task<BonStudioDb> CreateDbContextAsync(CancellationToken ct = default) =>
            inner.CreateDbContextAsync(ct).ContinueWith(t => (BonStudioDb)t.Result, ct, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public static IServiceCollection AddBonStudioData(this IServiceCollection services, string connectionString)
    {
        services.AddPooledDbContextFactory<BonStudioDb>(o => Configure(o, connectionString));
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<BonStudioDb>>().CreateDbContext());
        return services;
    }

    /// <summary>The SQLite connection string for a database file (its folder is created).</summary>
    public static string SqliteConnectionString(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        // Default Timeout doubles as SQLite's busy wait: writers queue instead of failing under load.
        return new SqliteConnectionStringBuilder { DataSource = full, DefaultTimeout = 30, Pooling = true }.ToString();
    }

    internal static void Configure(DbContextOptionsBuilder o, string connectionString) =>
        o.UseSqlite(connectionString, s => s.CommandTimeout(60));

    /// <summary>
    /// Applies pending migrations and switches the file to WAL (readers never block the writer, which matters
    /// with live pages polling while a run writes metrics). Call once at start-up.
    /// </summary>
    public static async Task MigrateAsync(this BonStudioDb db, CancellationToken ct = default)
    {
        await db.Database.MigrateAsync(ct);
        if (db.Database.IsSqlite())
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct); // persistent for the file
    }
}

/// <summary>Lets <c>dotnet ef</c> create the context at design time without starting the web host.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<BonStudioDb>
{
    public BonStudioDb CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<BonStudioDb>();
        DataExtensions.Configure(options, "Data Source=design-time.db");
        return new BonStudioDb(options.Options);
    }
}

/// <summary>BonStudioDb on PostgreSQL, with its own migrations in Migrations/Postgres. Add one (from the repository root):
/// <c>dotnet ef migrations add &lt;Name&gt; --project src/Data --context BonStudioPostgresDb --output-dir Migrations/Postgres</c></summary>
public sealed class BonStudioPostgresDb(DbContextOptions<BonStudioPostgresDb> options) : BonStudioDb(options);

public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<BonStudioPostgresDb>
{
    public BonStudioPostgresDb CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<BonStudioPostgresDb>();
        DataExtensions.ConfigurePostgres(options, "Host=localhost;Database=bonstudio_design");
        return new BonStudioPostgresDb(options.Options);
    }
}
