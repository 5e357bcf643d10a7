// The indexes added for scale (migration ScaleIndexes, issue #7) serve the queries they were made for: SQLite's
// EXPLAIN QUERY PLAN of the EF queries on a migrated file. No timing: a plan either uses the index or it does not.
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Data.Tests;

public sealed class QueryPlanTests : MigratedSqliteTest
{
    /// <summary>The plan lines of an EF query (its SQL from ToQueryString, parameters bound from the ".param set" lines).</summary>
    private static async Task<List<string>> PlanAsync(BonStudioDb db, IQueryable query)
    {
        var text = query.ToQueryString();
        var lines = text.Split('\n');
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + string.Join('\n', lines.Where(l => !l.StartsWith(".param", StringComparison.Ordinal)));
        foreach (var line in lines.Where(l => l.StartsWith(".param set ", StringComparison.Ordinal)))
        {
            var parts = line.Split(' ', 4);
            var p = command.CreateParameter();
            p.ParameterName = parts[2];
            p.Value = long.Parse(parts[3].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            command.Parameters.Add(p);
        }
        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) plan.Add(reader.GetString(3));
        return plan;
    }

    [Fact]
    public async Task One_evaluations_samples_are_read_in_set_order_from_the_run_index_without_a_sort()
    {
        // Arrange
        await using var db = NewDb();
        int runId = 7;

        // Act: the shape of the samples export (ExportService.SamplesAsync).
        var plan = await PlanAsync(db, from set in db.SampleSets
                                       join s in db.Samples on set.Id equals s.SampleSetId
                                       where set.RunId == runId
                                       orderby set.Id, s.Index
                                       select new { set.PromptKey, s.Text });

        // Assert
        Assert.Contains(plan, l => l.Contains("IX_SampleSets_RunId_Id (RunId=?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, l => l.Contains("TEMP B-TREE", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, l => l.StartsWith("SCAN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Live_metric_polling_reads_a_range_of_the_run_id_index_without_a_sort()
    {
        // Arrange
        await using var db = NewDb();
        int runId = 3;
        long afterId = 100;

        // Act: the shape of RunService.MetricPointsAfterAsync.
        var plan = await PlanAsync(db, db.MetricPoints.Where(m => m.RunId == runId && m.Id > afterId).OrderBy(m => m.Id).Take(20_000)
            .Select(m => new { m.Id, m.Name, m.Step, m.Value }));

        // Assert
        Assert.Contains(plan, l => l.Contains("USING INDEX IX_MetricPoints_RunId_Id (RunId=? AND", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, l => l.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }
}
