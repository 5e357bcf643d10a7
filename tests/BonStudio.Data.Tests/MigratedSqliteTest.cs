// Base of the data tests: a real SQLite file in a temp folder, migrated the way the host does at start-up.
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Data.Tests;

public abstract class MigratedSqliteTest : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "bonstudio-data-" + Guid.NewGuid().ToString("N"));
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection()
            .AddBonStudioData(DataExtensions.SqliteConnectionString(Path.Combine(_dir, "test.db")))
            .BuildServiceProvider();
        await using var db = NewDb();
        await db.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    protected BonStudioDb NewDb() => _services.GetRequiredService<IDbContextFactory<BonStudioDb>>().CreateDbContext();
}
