// `run` executes a calibration-eval config file in-process against a Model row of the same data directory and stores
// its pairs (the same kind the browser form and the API use).
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.Models;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using BonStudio.Web.Cli;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.Calibration;

public class CalibrationRunVerbTests
{
    [Fact]
    public async Task RunVerbExecutesACalibrationEvalConfigAndStoresItsPairs()
    {
        var dataDir = TempDirectory.Create("bs-calrun");
        try
        {
            // Arrange: a database (created by an import) with a tiny random GPT registered as model 1.
            var seedFile = Path.Combine(dataDir, "seed.jsonl");
            await File.WriteAllTextAsync(seedFile, "{\"confidence\": 0.5, \"correct\": true}\n");
            Assert.Equal(0, await BonStudioCli.InvokeAsync(["--data-dir", dataDir, "import", "calibration", seedFile], new StringWriter(), new StringWriter()));
            var checkpoint = Path.Combine(dataDir, "tiny.safetensors");
            var gptConfig = new GptConfig { VocabSize = CharTokenizer.Instance.VocabSize, ContextLength = MiniMath.MaxChars + 2, Layers = 1, Heads = 2, EmbeddingDim = 16 };
            using (var gpt = new Gpt(gptConfig))
                Checkpoint.Save(checkpoint, gpt, new CheckpointMetadata(Gpt.Architecture, gptConfig.ToJson(), CharTokenizer.Instance.Name, 0));
            int modelId;
            await using (var db = Db(dataDir))
            {
                var model = new Model { Name = "tiny", Architecture = Gpt.Architecture, Tokenizer = CharTokenizer.Instance.Name, Path = checkpoint, Source = "imported", IsFinal = true };
                db.Models.Add(model);
                await db.SaveChangesAsync();
                modelId = model.Id;
            }
            var configFile = Path.Combine(dataDir, "calibration-eval.json");
            await File.WriteAllTextAsync(configFile, $$$"""
                {"kind": "calibration-eval", "name": "cli calibration", "config": {"modelId": {{{modelId}}}, "sources": "consistency, likelihood",
                 "problems": 3, "levels": [1], "maxNewTokens": 8, "consistencySamples": 2, "device": "cpu", "threads": 1}}
                """);

            // Act
            var output = new StringWriter(); var error = new StringWriter();
            int exit = await BonStudioCli.InvokeAsync(["--data-dir", dataDir, "run", configFile], output, error);

            // Assert
            Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
            await using (var db = Db(dataDir))
            {
                var run = await db.Runs.SingleAsync(r => r.Name == "cli calibration");
                Assert.True(run.Status == RunStatus.Succeeded, run.Error);
                Assert.Equal(6, await db.CalibrationPoints.CountAsync(p => p.RunId == run.Id));
            }
        }
        finally { TempDirectory.TryDelete(dataDir); }
    }

    private static BonStudioDb Db(string dataDir) =>
        new(new DbContextOptionsBuilder<BonStudioDb>().UseSqlite($"Data Source={Path.Combine(dataDir, "bonstudio.db")}").Options);
}
