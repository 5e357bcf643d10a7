// Every `bon-finetune` method through the command line: `run examples/sft-tiny.json` trains a tiny base, then
// `run` of the shipped bon-finetune example, edited per method, fine-tunes it: each run succeeds, records its
// method and registers its final checkpoint.
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;
using BonStudio.Training.FineTuning;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.FineTuning;

public class BonFineTuneRunVerbTests
{
    [Fact]
    public async Task RunVerbFineTunesATinyBaseWithEveryMethod()
    {
        var dataDir = TempDirectory.Create("bs-bon-cli");
        try
        {
            // Arrange: a tiny trained base model.
            var examples = Path.Combine(RunVerbTests.RepoRoot(), "examples");
            var sft = await RunVerbTests.Cli("run", Path.Combine(examples, "sft-tiny.json"), "--data-dir", dataDir);
            Assert.True(sft.Exit == 0, sft.Out + sft.Err);
            int baseModel;
            await using (var db = RunVerbTests.Db(dataDir))
                baseModel = (await db.Models.SingleAsync(m => m.IsFinal)).Id;

            foreach (var method in BonFineTuneConfig.Methods.Keys)
            {
                // Act: the shipped example with this method (N' = 1 for the baselines).
                var file = JsonNode.Parse(File.ReadAllText(Path.Combine(examples, "bon-finetune-tiny.json")))!.AsObject();
                file["name"] = $"tiny {method}";
                var config = file["config"]!.AsObject();
                config["modelId"] = baseModel;
                config["method"] = method;
                config["nPrime"] = method is "sft" or "rl" ? 1 : 2;
                var path = Path.Combine(dataDir, $"{method}.json");
                File.WriteAllText(path, file.ToJsonString());
                var (exit, output, error) = await RunVerbTests.Cli("run", path, "--data-dir", dataDir);

                // Assert
                Assert.True(exit == 0, $"{method}: exit {exit}\n{output}\n{error}");
                await using var db = RunVerbTests.Db(dataDir);
                var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Name == $"tiny {method}");
                Assert.True(run.Status == RunStatus.Succeeded, $"{method}: {run.Status} {run.Error}");
                Assert.Equal(method, JsonNode.Parse(run.ConfigJson)!["method"]!.GetValue<string>());
                Assert.True(await db.Models.AnyAsync(m => m.ProducedByRunId == run.Id && m.IsFinal), $"{method}: no final checkpoint");
                Assert.True(await db.MetricPoints.AnyAsync(m => m.RunId == run.Id && m.Name == "train/loss"), $"{method}: no train/loss");
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TempDirectory.TryDelete(dataDir);
        }
    }
}
