using BonStudio.Data.Entities;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Data.Tests;

/// <summary>Real SQLite files in a temp folder, migrated the way the host does at start-up.</summary>
public sealed class MigrationTests : MigratedSqliteTest
{
    private static Run NewRun(string name = "r") => new()
    {
        Kind = "sft", Name = name, ConfigJson = "{}", ConfigHash = new string('a', 64), GroupHash = new string('b', 64),
    };

    [Fact]
    public async Task Migrations_create_every_table_on_a_fresh_file_in_wal_mode()
    {
        // Arrange
        await using var db = NewDb();
        await db.Database.OpenConnectionAsync();
        var connection = db.Database.GetDbConnection();

        // Act
        await using var tables = connection.CreateCommand();
        tables.CommandText = "SELECT name FROM sqlite_master WHERE type='table'";
        var names = new List<string>();
        await using (var reader = await tables.ExecuteReaderAsync())
            while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        await using var mode = connection.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode";
        var journal = (string)(await mode.ExecuteScalarAsync())!;

        // Assert
        foreach (var t in new[] { "Runs", "Experiments", "MetricPoints", "RunSummaries", "Models", "Datasets", "Problems",
                                  "SampleSets", "Samples", "ScoreLayers", "Scores", "CalibrationPoints", "Episodes", "StateStats", "RunLogs" })
            Assert.Contains(t, names);
        Assert.Equal("wal", journal);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task A_run_with_tags_metrics_and_a_model_round_trips()
    {
        // Arrange
        await using (var db = NewDb())
        {
            var run = NewRun("round trip");
            run.TagList = ["baseline", " minimath ", "baseline"];
            db.Runs.Add(run);
            await db.SaveChangesAsync();
            db.MetricPoints.AddRange(new MetricPoint { RunId = run.Id, Name = "train/loss", Step = 1, Value = 2.5 },
                                     new MetricPoint { RunId = run.Id, Name = "train/loss", Step = 2, Value = 2.0 });
            db.Models.Add(new Model { Name = "m", Architecture = "gpt", Tokenizer = "char", Path = "/x", ProducedByRunId = run.Id });
            await db.SaveChangesAsync();
        }

        // Act
        await using var read = NewDb();
        var loaded = await read.Runs.Include(r => r.Metrics).SingleAsync();
        var byTag = await read.Runs.CountAsync(r => r.Tags.Contains(",minimath,"));

        // Assert
        Assert.Equal(["baseline", "minimath"], loaded.TagList);
        Assert.Equal(1, byTag);
        Assert.Equal([2.5, 2.0], loaded.Metrics.OrderBy(m => m.Step).Select(m => m.Value));
        Assert.Equal(RunStatus.Queued, loaded.Status);
        Assert.Equal(loaded.Id, (await read.Models.SingleAsync()).ProducedByRunId);
    }

    [Fact]
    public async Task A_metric_point_cannot_be_written_twice_for_the_same_step()
    {
        // Arrange
        await using var db = NewDb();
        var run = NewRun();
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        db.MetricPoints.Add(new MetricPoint { RunId = run.Id, Name = "train/loss", Step = 5, Value = 1 });
        await db.SaveChangesAsync();

        // Act
        db.MetricPoints.Add(new MetricPoint { RunId = run.Id, Name = "train/loss", Step = 5, Value = 2 });
        var error = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());

        // Assert
        Assert.Contains("UNIQUE", error.InnerException!.Message);
    }

    [Fact]
    public async Task Deleting_a_run_removes_its_samples_scores_and_episodes_but_keeps_its_models()
    {
        // Arrange
        await using (var db = NewDb())
        {
            var run = NewRun();
            db.Runs.Add(run);
            await db.SaveChangesAsync();
            var set = new SampleSet { RunId = run.Id, PromptKey = "p1", PromptText = "1+1?", N = 1, Temperature = 1 };
            set.Samples.Add(new Sample { Index = 0, Text = "<script>alert(1)</script> #### 2", Correct = true });
            db.SampleSets.Add(set);
            var layer = new ScoreLayer { RunId = run.Id, Verifier = "oracle" };
            db.ScoreLayers.Add(layer);
            db.Episodes.Add(new Episode { RunId = run.Id, Index = 0, StartKind = "initial", Return = 0.99, Length = 10 });
            db.Models.Add(new Model { Name = "m", Architecture = "gpt", Tokenizer = "char", Path = "/x", ProducedByRunId = run.Id });
            await db.SaveChangesAsync();
            db.Scores.Add(new Score { SampleId = set.Samples[0].Id, ScoreLayerId = layer.Id, Value = 0.7 });
            await db.SaveChangesAsync();
        }

        // Act
        await using (var db = NewDb())
        {
            db.Runs.Remove(await db.Runs.SingleAsync());
            await db.SaveChangesAsync();
        }

        // Assert
        await using var check = NewDb();
        Assert.Equal(0, await check.Samples.CountAsync());
        Assert.Equal(0, await check.Scores.CountAsync());
        Assert.Equal(0, await check.Episodes.CountAsync());
        var model = await check.Models.SingleAsync();
        Assert.Null(model.ProducedByRunId);
    }
}
