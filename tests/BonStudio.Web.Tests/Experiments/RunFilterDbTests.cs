// Filter expressions, sorting, seed groups and compare over a real SQLite database.
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;
using BonStudio.Web.Services;

namespace BonStudio.Web.Tests.Experiments;

public class RunFilterDbTests
{
    private static async Task<int[]> Ids(ExperimentDb db, string filter, string? sort = "id")
    {
        await using var ctx = await db.Factory.CreateDbContextAsync();
        var page = await RunListQuery.ListAsync(ctx, new RunQuery(PageSize: 200, Filter: filter, Sort: sort), 200, default);
        return page.Items.Select(r => r.Id).ToArray();
    }

    [Fact]
    public async Task MetricAndConfigExpressionsSelectTheMatchingRunsInTheDatabase()
    {
        using var db = new ExperimentDb();
        await AssertFiltersSelectTheMatchingRunsAsync(db);
    }

    [Fact]
    public async Task MetricAndConfigExpressionsSelectTheMatchingRunsOnPostgres()
    {
        // The config-field SQL differs by provider (jsonb paths on PostgreSQL): the same expressions, the same answers.
        await using var server = await PostgresServer.StartAsync();
        await server.CreateDatabaseAsync("filters");
        using var db = ExperimentDb.Postgres(server.ConnectionString("filters"));
        await AssertFiltersSelectTheMatchingRunsAsync(db);
    }

    private static async Task AssertFiltersSelectTheMatchingRunsAsync(ExperimentDb db)
    {
        var a = db.AddRun("a", "sft", new JsonObject { ["learningRate"] = 1e-4, ["optimizer"] = "adamw", ["steps"] = 100 }, 1,
            new Dictionary<string, double> { ["bon/bon_at_32"] = 0.5, ["eval/accuracy"] = 0.2 }, tags: ["base"]);
        var b = db.AddRun("b", "sft", new JsonObject { ["learningRate"] = 2e-3, ["optimizer"] = "sgd", ["steps"] = 100 }, 1,
            new Dictionary<string, double> { ["bon/bon_at_32"] = 0.6, ["eval/accuracy"] = 0.35 }, starred: true);
        var c = db.AddRun("c", "rl", new JsonObject { ["learningRate"] = 5e-4, ["steps"] = 300 }, 2,
            new Dictionary<string, double> { ["bon/bon_at_32"] = 0.3 }, status: RunStatus.Failed, tags: ["base", "x"]);
        var d = db.AddRun("d", "sft", new JsonObject { ["learningRate"] = "oops" }, 3, new Dictionary<string, double>(), archived: true);

        Assert.Equal([a], await Ids(db, "lr < 1e-3 and bon/bon_at_32 > 0.4"));
        Assert.Equal([b], await Ids(db, "config.learningRate <= 0.002 and eval/accuracy >= 0.3"));
        Assert.Equal([a, b, c], await Ids(db, "lr > 0")); // the text "oops" is not a number (and d is archived anyway)
        Assert.Equal([a, c], await Ids(db, "bon/bon_at_32 < 0.4 or optimizer = adamw"));
        Assert.Equal([c], await Ids(db, "not optimizer = 'adamw' and not starred = true"));   // missing field → not matched → "not" true
        Assert.Equal([c], await Ids(db, "kind = rl and status = failed and tag = x"));
        Assert.Equal([b], await Ids(db, "tag != base"));
        Assert.Equal([d], await Ids(db, "archived = true"));
        Assert.Equal([a, b], await Ids(db, "(steps = 100 or seed = 3) and kind = 'sft'"));
        Assert.Empty(await Ids(db, "eval/missing > -1000"));

        // Sorting by a metric: descending, runs without it last.
        Assert.Equal([b, a], await Ids(db, "kind = sft", "-metric:eval/accuracy"));
        Assert.Equal([c, a, b], await Ids(db, "lr > 0", "metric:bon/bon_at_32"));

        // Unknown status is reported with the position of the comparison.
        var e = await Assert.ThrowsAsync<RunFilterException>(() => Ids(db, "kind = sft and status = done"));
        Assert.Equal(15, e.Position);
    }

    [Fact]
    public async Task SeedGroupsAggregateSuccessfulSeedsWithAStudentTInterval()
    {
        using var db = new ExperimentDb();
        var config = new JsonObject { ["learningRate"] = 1e-3 };
        var ids = new List<int>();
        double[] values = [0.1, 0.2, 0.3];
        for (int s = 0; s < 3; s++)
            ids.Add(db.AddRun($"sft__{s}", "sft", config, s, new Dictionary<string, double> { ["eval/accuracy"] = values[s] }, groupHash: "g1"));
        db.AddRun("sft__9", "sft", config, 9, new Dictionary<string, double> { ["eval/accuracy"] = 0.99 }, status: RunStatus.Failed, groupHash: "g1");
        db.AddRun("other", "sft", new JsonObject { ["learningRate"] = 1e-2 }, 0, new Dictionary<string, double> { ["eval/accuracy"] = 0.5 }, groupHash: "g2");

        var explorer = new RunExplorerService(db.Factory);
        var groups = await explorer.GroupsAsync(new RunQuery(PageSize: 10));

        Assert.Equal(2, groups.Total);
        var g1 = Assert.Single(groups.Items, g => g.GroupHash == "g1");
        Assert.Equal(4, g1.Seeds);
        Assert.Equal(4, g1.Runs.Count);
        var acc = g1.Metrics["eval/accuracy"];
        Assert.Equal(3, acc.Count); // the failed seed is left out
        Assert.Equal(0.2, acc.Mean, 12);
        Assert.Equal(4.3027 * 0.1 / Math.Sqrt(3), acc.HalfWidth!.Value, 4);
        Assert.Equal("sft", g1.Name);
        Assert.False(g1.Config.ContainsKey("seed"));

        // The same filters as the list apply.
        var filtered = await explorer.GroupsAsync(new RunQuery(PageSize: 10, Filter: "lr > 5e-3"));
        Assert.Equal("g2", Assert.Single(filtered.Items).GroupHash);
    }

    [Fact]
    public async Task CompareListsOnlyDifferingConfigFieldsAndAnnotationsAreValidated()
    {
        using var db = new ExperimentDb();
        var a = db.AddRun("a", "sft", new JsonObject { ["learningRate"] = 1e-4, ["steps"] = 100, ["model"] = new JsonObject { ["layers"] = 2 } }, 1,
            new Dictionary<string, double> { ["eval/accuracy"] = 0.2 });
        var b = db.AddRun("b", "sft", new JsonObject { ["learningRate"] = 1e-3, ["steps"] = 100, ["model"] = new JsonObject { ["layers"] = 4 } }, 1,
            new Dictionary<string, double> { ["eval/accuracy"] = 0.3, ["train/loss"] = 1.5 });
        var explorer = new RunExplorerService(db.Factory);

        var cmp = (await explorer.CompareAsync([a, b]))!;

        Assert.Equal(["learningRate", "model.layers"], cmp.ConfigDifferences.Select(d => d.Field));
        Assert.Equal(4, cmp.ConfigDifferences[1].Values[1]!.GetValue<int>());
        Assert.Contains("steps", cmp.SameConfigFields);
        Assert.Contains("seed", cmp.SameConfigFields);
        Assert.Equal(["eval/accuracy", "train/loss"], cmp.MetricNames);
        Assert.Equal(0.3, cmp.Runs[1].Metrics!["eval/accuracy"]);
        Assert.Null(await explorer.CompareAsync([a, 9999]));

        Assert.Null(await explorer.AnnotateAsync(9999, new RunAnnotationUpdate(Starred: true)));
        var bad = (await explorer.AnnotateAsync(a, new RunAnnotationUpdate(Tags: ["ok", "has,comma"])))!;
        Assert.Contains("tags", bad.Keys);
        Assert.Empty((await explorer.AnnotateAsync(a, new RunAnnotationUpdate(Starred: true, Tags: ["best"], Notes: "**good**")))!);
        Assert.Equal([a], await Ids(db, "starred = true and tag = best"));
    }
}
