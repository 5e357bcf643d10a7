// The calibration run kinds end to end on a tiny random GPT through the real API + Hangfire worker: calibration-eval
// stores one pair per question and source as CalibrationPoint rows (served by GET /api/calibration), calibration-sft
// stores its phrase/source pairs and registers its checkpoint. Quality is not the point here; storage and wiring are.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;
using BonStudio.Web.Services;
using BonStudio.Web.Tests.Evaluation;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.Calibration;

public class CalibrationRunKindTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static async Task<Run> RunToEnd(EvalApp app, HttpClient http, string kind, JsonObject config)
    {
        var created = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest(kind, $"tiny {kind}", config), Json);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        int runId = (await created.Content.ReadFromJsonAsync<JsonObject>(Json))!["id"]!.GetValue<int>();
        return await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.IsFinished, TimeSpan.FromSeconds(180), $"the {kind} run");
    }

    [Fact]
    public async Task TinyCalibrationEvalAndSftStoreTheirPairs()
    {
        using var app = new EvalApp();
        using var http = app.Client(app.Start());
        int modelId = app.AddTinyModel();

        var eval = await RunToEnd(app, http, "calibration-eval", new JsonObject
        {
            ["modelId"] = modelId, ["sources"] = "p-true, consistency, likelihood", ["teachPTrue"] = false, ["problems"] = 4,
            ["levels"] = new JsonArray(1, 2), ["maxNewTokens"] = 10, ["consistencySamples"] = 2, ["seed"] = 3, ["device"] = "cpu", ["threads"] = 1,
        });
        Assert.True(eval.Status == RunStatus.Succeeded, eval.Error);
        Assert.Equal(modelId, eval.ModelId);
        using (var db = app.Db())
        {
            var bySource = await db.CalibrationPoints.Where(p => p.RunId == eval.Id).GroupBy(p => p.Source).Select(g => new { g.Key, N = g.Count() }).ToListAsync();
            Assert.Equal(["consistency", "likelihood", "p-true"], bySource.Select(g => g.Key).Order());
            Assert.All(bySource, g => Assert.Equal(4, g.N));
            Assert.All(await db.CalibrationPoints.Where(p => p.RunId == eval.Id).ToListAsync(), p => Assert.InRange(p.Confidence, 0, 1));
            Assert.Contains(await db.RunSummaries.Where(s => s.RunId == eval.Id).Select(s => s.Name).ToListAsync(), n => n == "calibration/likelihood/ece");
        }
        var reports = (await http.GetFromJsonAsync<JsonObject>($"/api/calibration?runs={eval.Id}&bins=10", Json))!;
        Assert.Equal(3, reports["curves"]!.AsArray().Count);

        var sft = await RunToEnd(app, http, "calibration-sft", new JsonObject
        {
            ["modelId"] = modelId, ["source"] = "likelihood", ["levels"] = new JsonArray(1), ["trainProblems"] = 16, ["testProblems"] = 3,
            ["maxNewTokens"] = 12, ["steps"] = 2, ["batchSize"] = 4, ["seed"] = 3, ["device"] = "cpu", ["threads"] = 1,
        });
        Assert.True(sft.Status == RunStatus.Succeeded, sft.Error);
        using (var db = app.Db())
        {
            Assert.True(await db.CalibrationPoints.CountAsync(p => p.RunId == sft.Id) >= 3);
            // The ladder-constrained choice scores every test answer (the free phrase may be unparseable after 2 steps).
            Assert.Equal(3, await db.CalibrationPoints.CountAsync(p => p.RunId == sft.Id && p.Source == "phrase-ladder"));
            Assert.Contains(await db.RunSummaries.Where(s => s.RunId == sft.Id).Select(s => s.Name).ToListAsync(), n => n == "calibration/phrase-ladder/ece");
            Assert.True(await db.Models.CountAsync() >= 2, "the fine-tuned checkpoint is registered as a model");
        }

        var sftCurves = (await http.GetFromJsonAsync<JsonObject>($"/api/calibration?runs={sft.Id}&bins=10", Json))!["curves"]!.AsArray();
        Assert.Contains(sftCurves, c => (string?)c!["source"] == "phrase-ladder"); // what the comparison page lists and picks from

        // A ladder that does not parse is refused by the form/API with the field named.
        var bad = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("calibration-sft", "bad ladder", new JsonObject { ["modelId"] = modelId, ["ladder"] = "sure" }), Json);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("adder", await bad.Content.ReadAsStringAsync());
    }
}
