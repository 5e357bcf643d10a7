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
        var finished = await Wait.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
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
}
