// Start-up of the real host on a fresh data directory: migrations, separate Hangfire file, example seed,
// and the dead-run sweep that marks runs left Running by a dead process as Interrupted.
using BonStudio.Data;
using BonStudio.Data.Entities;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests;

public class HostTests
{
    [Fact]
    public async Task StartupMigratesAFreshSqliteFileAndSeedsTheExampleExperiment()
    {
        using var app = new BonStudioAppFactory();
        var baseAddress = app.Start();

        // Arrange/Act: the host started on an empty directory. Assert: EF's and Hangfire's files exist, apart.
        Assert.True(File.Exists(Path.Combine(app.DataDirectory, "bonstudio.db")));
        Assert.True(File.Exists(Path.Combine(app.DataDirectory, "hangfire.db")));
        await using var db = app.Db();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync());
        Assert.Equal("wal", (await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToListAsync()).Single());
        var example = Assert.Single(await db.Experiments.ToListAsync());
        Assert.Equal("MiniMath examples", example.Name);

        using var http = app.Client(baseAddress);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task StartupMarksRunsLeftRunningByADeadProcessInterrupted()
    {
        // Arrange: a database whose run was "running" in a process that died an hour ago.
        var dir = TempDirectory.Create("bs-dangling");
        var options = new DbContextOptionsBuilder<BonStudioDb>().UseSqlite(DataExtensions.SqliteConnectionString(Path.Combine(dir, "bonstudio.db"))).Options;
        await using (var db = new BonStudioDb(options))
        {
            await db.MigrateAsync();
            db.Runs.Add(new Run
            {
                Kind = "rl", Name = "dangling", ConfigJson = "{}", ConfigHash = new string('a', 64), GroupHash = new string('b', 64),
                Status = RunStatus.Running, StartedAt = DateTime.UtcNow.AddHours(-1), HeartbeatAt = DateTime.UtcNow.AddHours(-1), Worker = "dead-host:1",
            });
            db.Runs.Add(new Run
            {
                Kind = "rl", Name = "finished", ConfigJson = "{}", ConfigHash = new string('c', 64), GroupHash = new string('d', 64),
                Status = RunStatus.Succeeded, FinishedAt = DateTime.UtcNow.AddHours(-2),
            });
            await db.SaveChangesAsync();
        }
        SqliteConnection.ClearAllPools();

        // Act: start the host on that directory.
        using var app = new BonStudioAppFactory(dataDirectory: dir);
        app.Start();

        // Assert
        await using var check = app.Db();
        var dangling = await check.Runs.SingleAsync(r => r.Name == "dangling");
        Assert.Equal(RunStatus.Interrupted, dangling.Status);
        Assert.Contains("dead-host:1", dangling.StatusMessage);
        Assert.NotNull(dangling.FinishedAt);
        Assert.Equal(RunStatus.Succeeded, (await check.Runs.SingleAsync(r => r.Name == "finished")).Status);
    }
}
