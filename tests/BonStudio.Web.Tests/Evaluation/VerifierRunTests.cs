// The `verifier` run kind end to end: imported labelled samples → a reward model trained through the real job path
// (registered as a "gpt-rm" Model with held-out AUROC/accuracy) → re-scoring the evaluation with it adds a layer;
// two of them re-score as a mean-logit ensemble.
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Data.Entities;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.Evaluation;

public class VerifierRunTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public async Task AVerifierRunTrainsOnAnEvaluationAndItsModelRescoresIt()
    {
        using var app = new EvalApp();
        using var http = app.Client(app.Start());
        int baseModel = app.AddTinyModel();
        // 4 prompts × n = 4, two correct samples each ("answer 7"), two wrong.
        var lines = new StringBuilder();
        for (int p = 0; p < 4; p++)
            for (int i = 0; i < 4; i++)
                lines.AppendLine(JsonSerializer.Serialize(new { prompt_id = $"p{p}", prompt = $"Q{p}: 3+4=?", response = i < 2 ? "answer 7" : "answer 9", answer = i < 2 ? "7" : "9", correct = i < 2, score = 0.5 }));
        var imported = (await (await http.PostAsync("/api/imports/samples", new StringContent(lines.ToString(), Encoding.UTF8, "text/plain"))).Content.ReadFromJsonAsync<ImportSamplesResult>(Json))!;

        // Act: a tiny verifier run on it.
        var rm = await TrainVerifier(app, http, imported.RunId, baseModel, seed: 2);

        // Re-scoring the evaluation with the learned verifier adds a layer over all 16 samples.
        var rescore = await http.PostAsJsonAsync($"/api/evaluations/{imported.RunId}/rescore", new RescoreRequest("reward-model", ModelId: rm.Id), Json);
        Assert.Equal(HttpStatusCode.OK, rescore.StatusCode);
        var result = (await rescore.Content.ReadFromJsonAsync<RescoreResult>(Json))!;
        Assert.Equal(($"reward-model#{rm.Id}", 16), (result.Verifier, result.Scored));
        var curves = (await http.GetFromJsonAsync<EvaluationCurves>($"/api/evaluations/{imported.RunId}/metrics", Json))!;
        Assert.Contains(curves.BonAtK, v => v.Verifier == $"reward-model#{rm.Id}");
        // A non-reward model is refused with 400.
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync($"/api/evaluations/{imported.RunId}/rescore", new RescoreRequest("reward-model", ModelId: baseModel), Json)).StatusCode);

        // An ensemble of two trained reward models: one layer whose scores are σ(mean of the members' logits).
        var rm2 = await TrainVerifier(app, http, imported.RunId, baseModel, seed: 3, steps: 30, learningRate: 1e-2); // far from ½, unlike rm
        await http.PostAsJsonAsync($"/api/evaluations/{imported.RunId}/rescore", new RescoreRequest("reward-model", ModelId: rm2.Id), Json);
        var ensemble = await http.PostAsJsonAsync($"/api/evaluations/{imported.RunId}/rescore", new RescoreRequest("reward-model", ModelId: rm.Id, EnsembleModelIds: [rm2.Id]), Json);
        Assert.Equal(HttpStatusCode.OK, ensemble.StatusCode);
        var both = (await ensemble.Content.ReadFromJsonAsync<RescoreResult>(Json))!;
        Assert.Equal(($"reward-model#{rm.Id}+{rm2.Id}", 16), (both.Verifier, both.Scored));
        using (var db = app.Db())
        {
            async Task<Dictionary<long, double>> Layer(string verifier)
            {
                int layer = await db.ScoreLayers.Where(l => l.RunId == imported.RunId && l.Verifier == verifier).Select(l => l.Id).SingleAsync();
                return await db.Scores.Where(x => x.ScoreLayerId == layer).ToDictionaryAsync(x => x.SampleId, x => x.Value);
            }
            var (a, b, mean) = (await Layer($"reward-model#{rm.Id}"), await Layer($"reward-model#{rm2.Id}"), await Layer(both.Verifier));
            static double Logit(double p) => Math.Log(p / (1 - p));
            Assert.Equal(16, mean.Count);
            foreach (var (sample, value) in mean)
                Assert.Equal(1 / (1 + Math.Exp(-(Logit(a[sample]) + Logit(b[sample])) / 2)), value, 9);
            // The members disagree enough that a mean of probabilities would not pass the check above.
            Assert.Contains(mean, kv => Math.Abs(kv.Value - (a[kv.Key] + b[kv.Key]) / 2) > 1e-6);
        }
    }

    /// <summary>Trains a tiny reward model on an evaluation through the real job path and returns its registered model.</summary>
    private static async Task<Model> TrainVerifier(EvalApp app, HttpClient http, int evaluationRunId, int baseModel, int seed, int steps = 4, double learningRate = 3e-4)
    {
        var config = new JsonObject
        {
            ["evaluationRunId"] = evaluationRunId, ["baseModelId"] = baseModel, ["steps"] = steps, ["learningRate"] = learningRate, ["batchSize"] = 8,
            ["heldOutFraction"] = 0.5, ["evalEvery"] = 0, ["device"] = "cpu", ["threads"] = 1, ["seed"] = seed,
        };
        var created = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("verifier", $"tiny rm {seed}", config), Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        int runId = (await created.Content.ReadFromJsonAsync<JsonObject>(Json))!["id"]!.GetValue<int>();
        var run = await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.IsFinished, TimeSpan.FromSeconds(120), "the verifier run");

        // Held-out AUROC/accuracy reported, checkpoint registered as a reward model.
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        using var db = app.Db();
        var summaries = await db.RunSummaries.Where(s => s.RunId == runId).ToDictionaryAsync(s => s.Name, s => s.Value);
        Assert.InRange(summaries["verifier/auroc"], 0, 1);
        Assert.InRange(summaries["verifier/accuracy"], 0, 1);
        var rm = await db.Models.SingleAsync(m => m.ProducedByRunId == runId && m.IsFinal);
        Assert.Equal("gpt-rm", rm.Architecture);
        return rm;
    }
}
