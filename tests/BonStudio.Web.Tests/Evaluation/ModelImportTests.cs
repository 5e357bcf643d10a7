// Importing real checkpoints: the llama2.c fixture (stories260K + tok512) through `import model` on the command line
// and POST /api/models/import into a real data directory, then a tiny bon-eval of the imported LLaMA through the real
// job path. API imports are limited to the allowed roots; bad paths are refused with the field named.
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BonStudio.Data.Entities;
using BonStudio.Training.Text;
using BonStudio.Web.Cli;
using BonStudio.Web.Services;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.Evaluation;

public class ModelImportTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private static string Llama2cFixture(string file) =>
        Path.Combine(RunVerbTests.RepoRoot(), "tests", "BonStudio.Training.Tests", "Fixtures", "llama2c", file);

    private static async Task<(int Exit, string Out, string Err)> Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await BonStudioCli.InvokeAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task AnImportedLlama2cModelIsRegisteredLikeATrainedOneAndBonEvalRunsOnIt()
    {
        using var app = new EvalApp();

        // Act 1: the command line imports from the source folder (the tokenizer is found beside the model).
        var (exit, output, error) = await Cli("--data-dir", app.DataDirectory, "import", "model", Llama2cFixture("stories260K.bin"), "--name", "stories260K");
        Assert.True(exit == 0, error);
        Assert.StartsWith("model 1: 'stories260K' (llama", output);
        var (badExit, _, badError) = await Cli("--data-dir", app.DataDirectory, "import", "model", Path.Combine(app.DataDirectory, "missing.bin"));
        Assert.Equal(2, badExit);
        Assert.Contains("does not exist", badError);

        using var http = app.Client(app.Start());
        Model cliModel;
        using (var db = app.Db())
        {
            cliModel = await db.Models.SingleAsync();
            Assert.Equal(("llama", "imported", true, 0L), (cliModel.Architecture, cliModel.Source, cliModel.IsFinal, cliModel.Step));
            Assert.StartsWith(Llama2cTokenizerStore.Prefix, cliModel.Tokenizer);
            Assert.StartsWith(Path.Combine(app.DataDirectory, "models", "imported"), cliModel.Path);   // converted into the data dir
            Assert.True(cliModel.Parameters > 200_000 && cliModel.Parameters < 300_000, $"{cliModel.Parameters} parameters");
            Assert.Equal(new FileInfo(cliModel.Path).Length, cliModel.SizeBytes);
        }

        // Act 2: the API refuses paths outside its allowed roots, then imports a copy placed under {data}/imports.
        var outside = await http.PostAsJsonAsync("/api/models/import", new ImportModelRequest(Llama2cFixture("stories260K.bin")), Json);
        Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
        Assert.Contains("outside the folders", (await outside.Content.ReadFromJsonAsync<ProblemDetails>(Json))!.Detail);
        var traversal = await http.PostAsJsonAsync("/api/models/import", new ImportModelRequest(Path.Combine(app.DataDirectory, "imports", "..", "bonstudio.db")), Json);
        Assert.Equal(HttpStatusCode.BadRequest, traversal.StatusCode);
        var staged = Directory.CreateDirectory(Path.Combine(app.DataDirectory, "imports", "stories")).FullName;
        File.Copy(Llama2cFixture("stories260K.bin"), Path.Combine(staged, "model.bin"));
        File.Copy(Llama2cFixture("tok512.bin"), Path.Combine(staged, "tok512.bin"));
        var created = await http.PostAsJsonAsync("/api/models/import",
            new ImportModelRequest(Path.Combine(staged, "model.bin"), Path.Combine(staged, "tok512.bin"), "via api"), Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var apiModel = (await created.Content.ReadFromJsonAsync<ModelItem>(Json))!;
        Assert.Equal(("via api", "llama", cliModel.Tokenizer, cliModel.Parameters), (apiModel.Name, apiModel.Architecture, apiModel.Tokenizer, apiModel.Parameters));
        var listed = (await http.GetFromJsonAsync<PagedResult<ModelItem>>("/api/models", Json))!;
        Assert.Equal(2, listed.Total);

        // Act 3: a tiny bon-eval of the CLI import; the source folder could be gone, the run uses the converted copy.
        var config = new JsonObject
        {
            ["modelId"] = cliModel.Id, ["count"] = 2, ["n"] = 3, ["temperatures"] = "1.0", ["maxNewTokens"] = 6,
            ["seed"] = 5, ["device"] = "cpu", ["threads"] = 1,
        };
        var run = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("bon-eval", "eval imported llama", config), Json);
        Assert.Equal(HttpStatusCode.Created, run.StatusCode);
        int runId = (await run.Content.ReadFromJsonAsync<JsonObject>(Json))!["id"]!.GetValue<int>();
        var finished = await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.IsFinished, TimeSpan.FromSeconds(120), "the bon-eval run");

        Assert.True(finished.Status == RunStatus.Succeeded, finished.Error);
        Assert.Equal(cliModel.Id, finished.ModelId);
        using (var db = app.Db())
        {
            var samples = await db.Samples.Where(x => db.SampleSets.Any(s => s.Id == x.SampleSetId && s.RunId == runId)).ToListAsync();
            Assert.Equal(6, samples.Count);
            Assert.All(samples, x => Assert.InRange(x.TokenCount, 1, 6));
            Assert.Contains(samples, x => x.Text.Length > 0);
            Assert.Contains("bon/pass_at_3", await db.RunSummaries.Where(s => s.RunId == runId).Select(s => s.Name).ToListAsync());
        }
    }

    /// <summary>A HumanEval-format task whose generated text lands inside a raw string literal (prompt ends with r""",
    /// the test starts with """), so any text a tiny model writes gives the verdict the test itself decides.</summary>
    private static string CodeTask(string id, string body, string check) => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["task_id"] = id,
        ["prompt"] = $"def add(a, b):\n    {body}\n\n\nNOTES = r\"\"\"",
        ["canonical_solution"] = "",
        ["test"] = $"\"\"\"\n\n\ndef check(candidate):\n    {check}\n",
        ["entry_point"] = "add",
    });

    [Fact]
    public async Task BonEvalWithTheCodeCheckerStoresTheSandboxVerdictOfEverySample()
    {
        // Arrange: the imported llama2.c model and a HumanEval file with one task per verdict.
        using var app = new EvalApp();
        var (exit, _, error) = await Cli("--data-dir", app.DataDirectory, "import", "model", Llama2cFixture("stories260K.bin"));
        Assert.True(exit == 0, error);
        using var http = app.Client(app.Start());
        var file = string.Join("\n",
            CodeTask("t/pass", "return a + b", "assert candidate(1, 2) == 3"),
            CodeTask("t/fail", "return a - b", "assert candidate(1, 2) == 3"),
            CodeTask("t/crash", "return a + b", "1 / 0"),
            CodeTask("t/timeout", "return a + b", "import time; time.sleep(60)"));
        var imported = await http.PostAsync("/api/imports/datasets?format=humaneval&name=tiny-code",
            new StringContent(file, System.Text.Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.Created, imported.StatusCode);
        int datasetId = (await imported.Content.ReadFromJsonAsync<ImportDatasetResult>(Json))!.DatasetId;
        int modelId;
        using (var db = app.Db()) modelId = (await db.Models.SingleAsync()).Id;

        // Act: greedy, n = 2, checker chosen explicitly; a 2 s limit keeps the sleeping task short.
        var config = new JsonObject
        {
            ["modelId"] = modelId, ["problemSource"] = "dataset", ["datasetId"] = datasetId, ["count"] = 4, ["n"] = 2,
            ["temperatures"] = "0", ["maxNewTokens"] = 5, ["checker"] = "code", ["codeTimeoutSeconds"] = 2,
            ["seed"] = 1, ["device"] = "cpu", ["threads"] = 1,
        };
        var run = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("bon-eval", "code eval", config), Json);
        Assert.Equal(HttpStatusCode.Created, run.StatusCode);
        int runId = (await run.Content.ReadFromJsonAsync<JsonObject>(Json))!["id"]!.GetValue<int>();
        var finished = await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.IsFinished, TimeSpan.FromSeconds(180), "the code bon-eval run");

        // Assert: every sample carries the sandbox's verdict and reason; only the passing task is correct.
        Assert.True(finished.Status == RunStatus.Succeeded, finished.Error);
        using (var db = app.Db())
        {
            var rows = await (from x in db.Samples join s in db.SampleSets on x.SampleSetId equals s.Id
                              where s.RunId == runId select new { s.PromptKey, Extracted = x.ExtractedAnswer, x.VerdictReason, x.Correct, x.Text }).ToListAsync();
            Assert.Equal(8, rows.Count);
            Assert.All(rows, r => Assert.Equal(r.Extracted, r.VerdictReason));
            var byTask = rows.GroupBy(r => r.PromptKey).ToDictionary(g => g.Key, g => g.ToList());
            Assert.All(byTask["t/pass"], r => Assert.Equal(("passed", true), (r.Extracted, r.Correct)));
            Assert.All(byTask["t/fail"], r => Assert.Equal(("failed: AssertionError", false), (r.Extracted, r.Correct)));
            Assert.All(byTask["t/crash"], r => { Assert.StartsWith("crash: ZeroDivisionError", r.Extracted); Assert.False(r.Correct); });
            Assert.All(byTask["t/timeout"], r => { Assert.StartsWith("timeout:", r.Extracted); Assert.False(r.Correct); });
            Assert.Equal(0.25, (await db.RunSummaries.SingleAsync(s => s.RunId == runId && s.Name == "bon/pass_at_1")).Value, 12);
        }

        // The checker is validated: code on MiniMath is refused with the field named.
        var bad = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest("bon-eval", "bad", new JsonObject { ["modelId"] = modelId, ["checker"] = "code" }), Json);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("checker", await bad.Content.ReadAsStringAsync());
    }

    private static async Task<Run> RunToEnd(EvalApp app, HttpClient http, string kind, JsonObject config)
    {
        var created = await http.PostAsJsonAsync("/api/runs", new CreateRunRequest(kind, $"imported {kind}", config), Json);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        int runId = (await created.Content.ReadFromJsonAsync<JsonObject>(Json))!["id"]!.GetValue<int>();
        return await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.IsFinished, TimeSpan.FromSeconds(180), $"the {kind} run");
    }

    [Fact]
    public async Task FineTuningRunsAcceptAnImportedLlamaAndTheirCheckpointsKeepItsTokenizer()
    {
        using var app = new EvalApp();
        var (exit, _, error) = await Cli("--data-dir", app.DataDirectory, "import", "model", Llama2cFixture("stories260K.bin"));
        Assert.True(exit == 0, error);
        using var http = app.Client(app.Start());
        Model imported;
        using (var db = app.Db()) imported = await db.Models.SingleAsync();

        var eval = await RunToEnd(app, http, "calibration-eval", new JsonObject
        {
            ["modelId"] = imported.Id, ["sources"] = "likelihood", ["teachPTrue"] = false, ["problems"] = 2,
            ["levels"] = new JsonArray(1), ["maxNewTokens"] = 8, ["seed"] = 3, ["device"] = "cpu", ["threads"] = 1,
        });
        Assert.True(eval.Status == RunStatus.Succeeded, eval.Error);

        var sft = await RunToEnd(app, http, "calibration-sft", new JsonObject
        {
            ["modelId"] = imported.Id, ["source"] = "likelihood", ["levels"] = new JsonArray(1), ["trainProblems"] = 16, ["testProblems"] = 2,
            ["maxNewTokens"] = 12, ["steps"] = 1, ["batchSize"] = 2, ["seed"] = 3, ["device"] = "cpu", ["threads"] = 1,
        });
        Assert.True(sft.Status == RunStatus.Succeeded, sft.Error);
        using (var db = app.Db())
        {
            var tuned = await db.Models.Where(m => m.ProducedByRunId == sft.Id).ToListAsync();
            Assert.NotEmpty(tuned);
            Assert.All(tuned, m => Assert.Equal(("llama", imported.Tokenizer), (m.Architecture, m.Tokenizer)));
        }

        // bon-finetune trains any causal LM architecture, not only GPT.
        var bon = await RunToEnd(app, http, "bon-finetune", FineTuning.BonFineTuneRunTests.TinyConfig(imported.Id));
        Assert.True(bon.Status == RunStatus.Succeeded, bon.Error);
        using (var db = app.Db())
        {
            var tuned = await db.Models.Where(m => m.ProducedByRunId == bon.Id).ToListAsync();
            Assert.Contains(tuned, m => m.IsFinal);
            Assert.All(tuned, m => Assert.Equal(("llama", imported.Tokenizer), (m.Architecture, m.Tokenizer)));
        }

        // verifier: a reward model on the imported LLaMA backbone ("llama-rm"), then a bon-eval scored by it.
        var lines = new System.Text.StringBuilder();
        for (int p = 0; p < 4; p++)
            for (int i = 0; i < 4; i++)
                lines.AppendLine(JsonSerializer.Serialize(new { prompt_id = $"p{p}", prompt = $"Q{p}: 3+4=?", response = i < 2 ? "answer 7" : "answer 9", answer = i < 2 ? "7" : "9", correct = i < 2, score = 0.5 }));
        var samples = (await (await http.PostAsync("/api/imports/samples", new StringContent(lines.ToString(), System.Text.Encoding.UTF8, "text/plain"))).Content.ReadFromJsonAsync<ImportSamplesResult>(Json))!;
        var verifier = await RunToEnd(app, http, "verifier", new JsonObject
        {
            ["evaluationRunId"] = samples.RunId, ["baseModelId"] = imported.Id, ["steps"] = 2, ["batchSize"] = 4, ["heldOutFraction"] = 0.5,
            ["evalEvery"] = 0, ["device"] = "cpu", ["threads"] = 1, ["seed"] = 2,
        });
        Assert.True(verifier.Status == RunStatus.Succeeded, verifier.Error);
        Model rewardModel;
        using (var db = app.Db()) rewardModel = await db.Models.SingleAsync(m => m.ProducedByRunId == verifier.Id);
        Assert.Equal(("llama-rm", imported.Tokenizer), (rewardModel.Architecture, rewardModel.Tokenizer));
        var scored = await RunToEnd(app, http, "bon-eval", new JsonObject
        {
            ["modelId"] = imported.Id, ["count"] = 2, ["n"] = 2, ["temperatures"] = "1.0", ["maxNewTokens"] = 4,
            ["rewardModelId"] = rewardModel.Id, ["seed"] = 5, ["device"] = "cpu", ["threads"] = 1,
        });
        Assert.True(scored.Status == RunStatus.Succeeded, scored.Error);
        using (var db = app.Db())
        {
            var layers = await db.ScoreLayers.Where(l => l.RunId == scored.Id).Select(l => l.Verifier).ToListAsync();
            Assert.Contains($"reward-model#{rewardModel.Id}", layers);
            Assert.Equal(2 * 4, await db.Scores.CountAsync(x => db.ScoreLayers.Any(l => l.Id == x.ScoreLayerId && l.RunId == scored.Id)));
        }
    }
}
