// The `bon-finetune` run kind end to end through the real job path: a tiny random GPT registered as a Model is
// fine-tuned for 2 steps (n = 3, N' = 2), the run succeeds with training/validation metrics and a final checkpoint
// Model, and evaluateAfter queues a bon-eval of that checkpoint with the baseline's settings (ParentRunId = the fine-tune).
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Data.Entities;
using BonStudio.Web.Services;
using BonStudio.Web.Tests.Evaluation;
using BonStudio.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Tests.FineTuning;

public class BonFineTuneRunTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static JsonObject TinyConfig(int modelId, int evaluateAfter = 0) => new()
    {
        ["modelId"] = modelId, ["method"] = "bon-rlb", ["nPrime"] = 2, ["samplesPerPrompt"] = 3, ["maxNewTokens"] = 12,
        ["steps"] = 2, ["promptsPerStep"] = 2, ["levels"] = new JsonArray(1), ["trainProblems"] = 16,
        ["validationEvery"] = 1, ["validationProblems"] = 2, ["validationSamples"] = 4, ["checkpointEvery"] = 1,
        ["evaluateAfter"] = evaluateAfter, ["seed"] = 1, ["device"] = "cpu", ["threads"] = 1,
    };

    [Fact]
    public async Task ATinyFineTuneSucceedsRegistersItsCheckpointAndQueuesTheFollowUpEvaluation()
    {
        using var app = new EvalApp();
        using var http = app.Client(app.Start());
        int baseModel = app.AddTinyModel();
        // A baseline bon-eval (its settings are what the continuation copies); stored directly, not run.
        int baselineId;
        using (var db = app.Db())
        {
            var baseline = new Run
            {
                Kind = "bon-eval", Name = "baseline", Status = RunStatus.Succeeded, ConfigHash = "x", GroupHash = "x",
                ConfigJson = new JsonObject { ["modelId"] = baseModel, ["n"] = 2, ["count"] = 2, ["maxLevel"] = 1, ["maxNewTokens"] = 6, ["temperatures"] = "0.7", ["seed"] = 9, ["device"] = "cpu", ["threads"] = 1 }.ToJsonString(),
            };
            db.Runs.Add(baseline);
            await db.SaveChangesAsync();
            baselineId = baseline.Id;
        }

        var created = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("bon-finetune", "tiny bon", TinyConfig(baseModel, baselineId)), Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        int runId = (await created.Content.ReadFromJsonAsync<JsonObject>(Json))!["id"]!.GetValue<int>();
        var run = await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.IsFinished, TimeSpan.FromSeconds(180), "the bon-finetune run");

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        using (var db = app.Db())
        {
            var names = await db.MetricPoints.Where(m => m.RunId == runId).Select(m => m.Name).Distinct().ToListAsync();
            Assert.Contains("train/loss", names);
            Assert.Contains("val/pass_at_4", names);
            Assert.Contains(names, n => n.StartsWith("val/bon_at_", StringComparison.Ordinal));
            Assert.Contains(names, n => n.StartsWith("weights/abs_by_failure_bin_", StringComparison.Ordinal));
            var final = await db.Models.SingleAsync(m => m.ProducedByRunId == runId && m.IsFinal);
            Assert.Equal(2, final.Step);
            Assert.True(File.Exists(final.Path), final.Path);

            // Continuation: one bon-eval child of the fine-tune, evaluating the final checkpoint with the baseline's settings.
            var follow = await db.Runs.AsNoTracking().SingleAsync(r => r.ParentRunId == runId);
            Assert.Equal("bon-eval", follow.Kind);
            var config = JsonNode.Parse(follow.ConfigJson)!.AsObject();
            Assert.Equal(final.Id, config["modelId"]!.GetValue<int>());
            Assert.Equal(2, config["n"]!.GetValue<int>());
            Assert.Equal("0.7", config["temperatures"]!.GetValue<string>());
            Assert.Equal(9, config["seed"]!.GetValue<long>());
        }

        // The run page's panel data: one weight point per prompt per step (2 steps × 2 prompts), failure rates in
        // multiples of 1/n, and both validation curves at steps 1 and 2.
        var options = app.Services.GetRequiredService<IOptions<BonStudio.Web.Extensions.BonStudioOptions>>().Value;
        var view = await new BonFineTuneViews(app.Services.GetRequiredService<IDbContextFactory<BonStudioDb>>(), options.RunDirectory).GetAsync(runId);
        Assert.Equal(4, view.WeightRows);
        Assert.Equal([1L, 1L, 2L, 2L], view.Weights.Select(w => w.Step).ToArray());
        Assert.All(view.Weights, w => Assert.True(w.FailureRate is >= 0 and <= 1 && Math.Abs(w.FailureRate * 3 - Math.Round(w.FailureRate * 3)) < 1e-4, $"{w.FailureRate}"));
        Assert.All(view.Weights, w => Assert.True(w.WeightAbsSum >= Math.Abs(w.WeightSum) - 1e-9));
        Assert.Equal([1L, 2L], view.Validation["val/pass_at_4"].Select(p => p.Step).ToArray());
        Assert.Contains(view.Validation.Keys, k => k.StartsWith("val/bon_at_", StringComparison.Ordinal));
        Assert.Equal(2, BonFineTuneViews.ReadWeights(new BonFineTuneViews(null!, options.RunDirectory).CsvPath(runId), 2).Points.Count);
    }

    [Fact]
    public async Task EvaluateAfterMustNameABonEvalRun()
    {
        using var app = new EvalApp();
        using var http = app.Client(app.Start());
        int baseModel = app.AddTinyModel();
        var created = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("bon-finetune", "bad", TinyConfig(baseModel, evaluateAfter: 999)), Json);
        int runId = (await created.Content.ReadFromJsonAsync<JsonObject>(Json))!["id"]!.GetValue<int>();
        var run = await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.IsFinished, TimeSpan.FromSeconds(60), "the bon-finetune run");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Contains("evaluateAfter: run 999 does not exist", run.Error);
    }
}
