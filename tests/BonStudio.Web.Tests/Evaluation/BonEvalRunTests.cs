// A tiny real bon-eval through the real job path (API → Hangfire → RunExecutor → BonEvaluation → EvaluationStore),
// then the evaluation API over Kestrel: metrics, prompts, prompt detail, re-scoring, resume-exactly-once, 400/404.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Data.Entities;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Web.Tests.Evaluation;

public class BonEvalRunTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public async Task TinyBonEvalStoresEverySampleOnceWithSummaryMetricsAndCanBeRescored()
    {
        // Arrange: the real app and a tiny random checkpoint registered as a model.
        using var app = new EvalApp();
        using var http = app.Client(app.Start());
        int modelId = app.AddTinyModel();
        var config = new JsonObject
        {
            ["modelId"] = modelId, ["count"] = 3, ["n"] = 4, ["temperatures"] = "0.8, 1.0", ["maxNewTokens"] = 10,
            ["noisyOracleEpsilon"] = 0.25, ["seed"] = 7, ["device"] = "cpu", ["threads"] = 1,
        };

        // Act: create it through the API; the Hangfire worker executes it.
        var created = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("bon-eval", "tiny eval", config), Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        int runId = (await created.Content.ReadFromJsonAsync<JsonObject>(Json))!["id"]!.GetValue<int>();
        var run = await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.IsFinished, TimeSpan.FromSeconds(120), "the bon-eval run");

        // Assert: 3 prompts × 2 temperatures × 4 samples, two layers (oracle, noisy oracle), every sample scored by both.
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(modelId, run.ModelId);
        using (var db = app.Db())
        {
            Assert.Equal(6, await db.SampleSets.CountAsync(s => s.RunId == runId));
            Assert.Equal(24, await db.Samples.CountAsync(x => db.SampleSets.Any(s => s.Id == x.SampleSetId && s.RunId == runId)));
            var layers = await db.ScoreLayers.Where(l => l.RunId == runId).Select(l => l.Verifier).OrderBy(v => v).ToListAsync();
            Assert.Equal(["noisy-oracle(0.25,seed=7)", "oracle"], layers);
            Assert.Equal(48, await db.Scores.CountAsync());
            // Denormalised correct counts agree with the samples, and the oracle layer equals the verdicts.
            foreach (var set in await db.SampleSets.Where(s => s.RunId == runId).Include(s => s.Samples).ThenInclude(x => x.Scores).ToListAsync())
            {
                Assert.Equal(set.Samples.Count(x => x.Correct == true), set.CorrectCount);
                Assert.Equal(4, set.N);
                Assert.All(set.Samples, x => Assert.Contains(x.Scores, sc => sc.Value == (x.Correct == true ? 1.0 : 0.0)));
            }
            var summaries = await db.RunSummaries.Where(s => s.RunId == runId).ToDictionaryAsync(s => s.Name, s => s.Value);
            foreach (var t in new[] { "0.8", "1" })
            {
                Assert.Contains($"bon/pass_at_1@T{t}", summaries.Keys);
                Assert.Contains($"bon/pass_at_4@T{t}", summaries.Keys);
                Assert.Contains($"bon/maj_at_2@T{t}", summaries.Keys);
                Assert.Contains($"bon/bon_at_4@oracle@T{t}", summaries.Keys);
                Assert.True(summaries[$"bon/pass_at_4@T{t}"] >= summaries[$"bon/pass_at_1@T{t}"]);
                // BoN@n with the oracle is pass@n exactly.
                Assert.Equal(summaries[$"bon/pass_at_4@T{t}"], summaries[$"bon/bon_at_4@oracle@T{t}"], 12);
            }
        }

        // The API computes the same curves on demand, with intervals.
        var curves = (await http.GetFromJsonAsync<EvaluationCurves>($"/api/evaluations/{runId}/metrics?temperature=1", Json))!;
        Assert.Equal([1, 2, 3, 4], curves.K);
        Assert.Equal(3, curves.NPrompts);
        Assert.Equal(2, curves.BonAtK.Count);
        using (var db = app.Db())
            Assert.Equal((await db.RunSummaries.FirstAsync(s => s.RunId == runId && s.Name == "bon/pass_at_1@T1")).Value, curves.PassAtK.Mean[0], 12);

        var page = (await http.GetFromJsonAsync<PromptPage>($"/api/evaluations/{runId}/prompts?temperature=0.8&pageSize=2", Json))!;
        Assert.Equal(3, page.Total);
        Assert.Equal(2, page.Items.Count);
        var detail = (await http.GetFromJsonAsync<PromptDetail>($"/api/evaluations/{runId}/prompts/{page.Items[0].SetId}?verifier=oracle&k=2", Json))!;
        Assert.Equal(4, detail.Samples.Count);
        Assert.Equal(1.0, detail.Samples.Sum(s => s.PickProbability), 12);
        Assert.Equal(detail.Samples.Count, detail.Clusters.Sum(c => c.Count));

        // Re-scoring adds a layer over the same samples; nothing is re-sampled; the same verifier twice is refused.
        var rescore = await http.PostAsJsonAsync($"/api/evaluations/{runId}/rescore", new RescoreRequest("noisy-oracle", 0.5, 3), Json);
        Assert.Equal(HttpStatusCode.OK, rescore.StatusCode);
        var result = (await rescore.Content.ReadFromJsonAsync<RescoreResult>(Json))!;
        Assert.Equal(24, result.Scored);
        using (var db = app.Db())
        {
            Assert.Equal(3, await db.ScoreLayers.CountAsync(l => l.RunId == runId));
            Assert.Equal(72, await db.Scores.CountAsync());
            Assert.Equal(24, await db.Samples.CountAsync());
        }
        Assert.Equal(3, (await http.GetFromJsonAsync<EvaluationCurves>($"/api/evaluations/{runId}/metrics", Json))!.BonAtK.Count);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync($"/api/evaluations/{runId}/rescore", new RescoreRequest("noisy-oracle", 0.5, 3), Json)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync($"/api/evaluations/{runId}/rescore", new RescoreRequest("astrology"), Json)).StatusCode);

        // Resume is exactly once: executing the same run again skips every stored set and writes nothing new.
        using (var db = app.Db())
            await db.Runs.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RunStatus.Queued));
        using (var scope = app.Services.CreateScope())
            Assert.Equal(RunStatus.Succeeded, await scope.ServiceProvider.GetRequiredService<RunExecutor>().ExecuteAsync(runId, CancellationToken.None));
        using (var db = app.Db())
        {
            Assert.Equal(6, await db.SampleSets.CountAsync(s => s.RunId == runId));
            Assert.Equal(24, await db.Samples.CountAsync());
        }

        // 404 and 400.
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/evaluations/9999/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/evaluations/9999")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/evaluations/{runId}/metrics?temperature=0.3")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/evaluations/{runId}/prompts/999999")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"/api/evaluations/{runId}/prompts?filter=bogus")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"/api/evaluations/{runId}/prompts?verifier=nope")).StatusCode);
        var diff = (await http.GetFromJsonAsync<DiffResult>($"/api/evaluations/diff?a={runId}&b={runId}&temperatureA=0.8&temperatureB=1&by=passn", Json))!;
        Assert.Equal(3, diff.Prompts.Count);
        Assert.Equal(3, diff.Gained + diff.Lost + diff.UnchangedSolved + diff.UnchangedUnsolved);
    }

    [Fact]
    public async Task InvalidBonEvalConfigsAreRejectedWithTheFieldNamed()
    {
        using var app = new EvalApp();
        using var http = app.Client(app.Start());
        var tooMany = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("bon-eval", "bad", new JsonObject { ["n"] = 1000 }), Json);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        var tooManyBody = await tooMany.Content.ReadAsStringAsync();
        Assert.True(tooManyBody.Contains("between 1 and 512"), tooManyBody);
        var hot = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("bon-eval", "bad", new JsonObject { ["temperatures"] = "1.0, hot" }), Json);
        Assert.Equal(HttpStatusCode.BadRequest, hot.StatusCode);
        Assert.Contains("'hot' is not a temperature", await hot.Content.ReadAsStringAsync());
        using var db = app.Db();
        Assert.Equal(0, await db.Runs.CountAsync());
    }
}
