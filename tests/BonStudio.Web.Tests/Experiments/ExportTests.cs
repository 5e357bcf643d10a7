// Streamed exports over many rows, CSV quoting, and the bundle round trip through `run`.
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Web.Cli;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests.Experiments;

public class ExportTests
{
    [Fact]
    public async Task MetricsOfManyRowsStreamAsCsvAndJson()
    {
        using var db = new ExperimentDb();
        var id = db.AddRun("big", "sft", new JsonObject { ["learningRate"] = 1e-3 }, 1, new Dictionary<string, double>());
        await using (var ctx = await db.Factory.CreateDbContextAsync())
        {
            const int n = 30_000;
            ctx.MetricPoints.AddRange(Enumerable.Range(0, n).Select(i => new MetricPoint { RunId = id, Name = i % 2 == 0 ? "train/loss" : "eval/acc", Step = i, Value = i * 0.5 }));
            await ctx.SaveChangesAsync();
        }
        var export = new ExportService(db.Factory);

        var csv = new MemoryStream();
        await export.MetricsAsync(id, ExportFormat.Csv, csv, default);
        var lines = System.Text.Encoding.UTF8.GetString(csv.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(30_001, lines.Length); // header + every row, no cap
        Assert.Equal("name,step,value,wallTime", lines[0]);
        Assert.StartsWith("eval/acc,1,0.5,", lines[1]);

        var json = new MemoryStream();
        await export.MetricsAsync(id, ExportFormat.Json, json, default);
        var array = JsonNode.Parse(json.ToArray())!.AsArray();
        Assert.Equal(30_000, array.Count);
        Assert.Equal(14999.0, array[^1]!["value"]!.GetValue<double>()); // train/loss at step 29998

        Assert.Equal("\"a,\"\"b\"\"\"", ExportService.Csv("a,\"b\""));
        Assert.Equal("'=cmd()", ExportService.Csv("=cmd()")); // model text never becomes a spreadsheet formula
    }

    [Fact]
    public async Task ABundleExportedByTheCliReproducesTheRunThroughRun()
    {
        var dataDir = TempDirectory.Create("bs-bundle");
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var request = new JsonObject { ["kind"] = "rl", ["name"] = "orig", ["config"] = TinyRuns.RlConfig(200) };
            var requestPath = Path.Combine(dataDir, "rl.json");
            await File.WriteAllTextAsync(requestPath, request.ToJsonString());
            Assert.Equal(0, await BonStudioCli.InvokeAsync(["run", requestPath, "--data-dir", dataDir], output, error));

            var bundlePath = Path.Combine(dataDir, "bundle.json");
            Assert.Equal(0, await BonStudioCli.InvokeAsync(["export", "bundle", "1", "--out", bundlePath, "--data-dir", dataDir], output, error));
            var bundle = JsonNode.Parse(await File.ReadAllTextAsync(bundlePath))!;
            Assert.Equal(1, bundle["bundle"]!["sourceRunId"]!.GetValue<int>());
            Assert.False(string.IsNullOrEmpty(bundle["bundle"]!["codeVersion"]?.GetValue<string>()));
            Assert.Contains("TorchSharp", bundle["bundle"]!["environment"]!.ToJsonString());

            Assert.Equal(0, await BonStudioCli.InvokeAsync(["run", bundlePath, "--data-dir", dataDir], output, error));

            var options = new DbContextOptionsBuilder<BonStudioDb>().UseSqlite($"Data Source={Path.Combine(dataDir, "bonstudio.db")}").Options;
            await using var db = new BonStudioDb(options);
            var runs = await db.Runs.OrderBy(r => r.Id).ToListAsync();
            Assert.Equal(2, runs.Count);
            Assert.Equal(runs[0].ConfigHash, runs[1].ConfigHash);
            Assert.Equal(RunStatus.Succeeded, runs[1].Status);
            var final = await db.RunSummaries.Where(s => s.Name == "eval/return").OrderBy(s => s.RunId).Select(s => s.Value).ToListAsync();
            Assert.Equal(final[0], final[1]); // same seed, same config, CPU: same result

            var bad = new StringWriter();
            Assert.Equal(2, await BonStudioCli.InvokeAsync(["runs", "list", "--filter", "eval/return >", "--data-dir", dataDir], new StringWriter(), bad));
            Assert.Contains("position 14", bad.ToString());
            var csv = new StringWriter();
            Assert.Equal(0, await BonStudioCli.InvokeAsync(["export", "runs", "--filter", "eval/return > -1000", "--data-dir", dataDir], csv, new StringWriter()));
            Assert.Equal(3, csv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TempDirectory.TryDelete(dataDir);
        }
    }
}
