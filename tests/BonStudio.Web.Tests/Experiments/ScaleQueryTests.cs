// Query shapes that the scale benchmark (bench/scale, issue #7) depends on, checked without timing anything: the metric
// filter is answered from the (Name, Value) index (EXPLAIN QUERY PLAN), and the evaluations list, now built from three
// grouped queries instead of four queries per evaluation, says the same as the single-evaluation summary.
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.Experiments;

public class ScaleQueryTests
{
    [Fact]
    public async Task MetricFilterReadsTheRunsFromTheNameValueIndex()
    {
        // Arrange
        using var db = new ExperimentDb();
        db.AddRun("a", "sft", new JsonObject { ["learningRate"] = 1e-4 }, 1, new Dictionary<string, double> { ["bon/bon_at_32"] = 0.5 });
        var parameters = new List<object>();
        var where = RunFilterSql.ToSql(RunFilterExpression.Parse("lr < 1e-3 and bon/bon_at_32 > 0.4"), parameters);
        await using var ctx = await db.Factory.CreateDbContextAsync();
        await ctx.Database.OpenConnectionAsync();
        await using var command = ctx.Database.GetDbConnection().CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM \"Runs\" AS r WHERE " + where;
        for (int i = 0; i < parameters.Count; i++)
        {
            command.CommandText = command.CommandText.Replace("{" + i + "}", "$p" + i);
            var p = command.CreateParameter();
            p.ParameterName = "$p" + i;
            p.Value = parameters[i];
            command.Parameters.Add(p);
        }

        // Act
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) plan.Add(reader.GetString(3));

        // Assert: runs are looked up by id from the index range, not scanned and probed one by one.
        Assert.Contains(plan, line => line.Contains("USING INDEX IX_RunSummaries_Name_Value (Name=? AND Value>?)", StringComparison.Ordinal));
        Assert.Contains(plan, line => line.Contains("USING INTEGER PRIMARY KEY", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.StartsWith("SCAN r", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EvaluationsListMatchesEachEvaluationsOwnSummary()
    {
        // Arrange: two evaluations (one at two temperatures with two layers, one empty) and a run of another kind.
        using var db = new ExperimentDb();
        var first = db.AddRun("eval-a", "bon-eval", new JsonObject(), 1, new Dictionary<string, double>(), tags: ["import"]);
        var empty = db.AddRun("eval-b", "bon-eval", new JsonObject(), 2, new Dictionary<string, double>());
        db.AddRun("train", "sft", new JsonObject(), 3, new Dictionary<string, double>());
        await using (var ctx = await db.Factory.CreateDbContextAsync())
        {
            foreach (var (t, prompts, n) in new[] { (1.0, 3, 4), (0.5, 2, 6) })
                for (int p = 0; p < prompts; p++)
                    ctx.SampleSets.Add(new SampleSet
                    {
                        RunId = first, PromptKey = $"p{p}", PromptText = "q", Temperature = t, N = n,
                        Samples = Enumerable.Range(0, n).Select(i => new Sample { Index = i, Text = "x", Correct = i == 0 }).ToList(),
                    });
            ctx.ScoreLayers.AddRange(new ScoreLayer { RunId = first, Verifier = "oracle" }, new ScoreLayer { RunId = first, Verifier = "noisy-oracle(0.1)" });
            await ctx.SaveChangesAsync();
        }
        var service = new EvaluationService(db.Factory);

        // Act
        var list = await service.ListAsync();
        var a = await service.GetAsync(first);
        var b = await service.GetAsync(empty);

        // Assert
        Assert.Equal([empty, first], list.Select(e => e.RunId)); // newest first, bon-eval runs only
        Assert.NotNull(a);
        Assert.Equal([0.5, 1.0], a.Temperatures);
        Assert.Equal(2, a.Prompts);  // prompts at the lowest temperature
        Assert.Equal(6, a.N);        // largest n over all temperatures
        Assert.True(a.Imported);
        Assert.Equal(["oracle", "noisy-oracle(0.1)"], a.Verifiers.Select(v => v.Verifier));
        var listed = list.Single(e => e.RunId == first);
        Assert.Equal((a.Name, a.Prompts, a.N, a.Status), (listed.Name, listed.Prompts, listed.N, listed.Status));
        Assert.Equal(a.Temperatures, listed.Temperatures);
        Assert.Equal(a.Verifiers, listed.Verifiers);
        Assert.NotNull(b);
        Assert.Empty(b.Temperatures);
        Assert.Equal((0, 0), (b.Prompts, b.N));
        Assert.Null(await service.GetAsync(first + 2)); // the sft run is not an evaluation
    }
}
