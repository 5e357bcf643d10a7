// The command line in-process: `run <config.json>` stores and executes a run; `runs list/show` read it back;
// invalid files are refused with the field named and nothing stored.
using System.Text.Json.Nodes;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Web.Cli;
using BonStudio.Web.RunKinds;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Tests;

public class RunVerbTests
{
    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BonStudio.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("BonStudio.sln not found above " + AppContext.BaseDirectory);
    }

    internal static async Task<(int Exit, string Out, string Err)> Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await BonStudioCli.InvokeAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    internal static BonStudioDb Db(string dataDir)
    {
        var options = new DbContextOptionsBuilder<BonStudioDb>().UseSqlite($"Data Source={Path.Combine(dataDir, "bonstudio.db")}").Options;
        return new BonStudioDb(options);
    }

    [Fact]
    public async Task RunVerbExecutesTheTinyExampleAndRunsListAndShowReadItBack()
    {
        var dataDir = TempDirectory.Create("bs-cli");
        try
        {
            // Act
            var (exit, output, error) = await Cli("run", Path.Combine(RepoRoot(), "examples", "sft-tiny.json"), "--data-dir", dataDir);

            // Assert: exit 0, run id printed, results stored in the same database.
            Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
            Assert.Contains("run 1\n", output.Replace("\r", ""));
            Assert.Contains("run 1 succeeded", output);
            Assert.Contains("test/accuracy", output);
            await using (var db = Db(dataDir))
            {
                var run = await db.Runs.SingleAsync();
                Assert.True(run.Status == RunStatus.Succeeded, $"{run.Status}: {run.Error}");
                Assert.Equal("sft-tiny", run.Name);
                Assert.Null(run.HangfireJobId); // executed in-process, never queued
                Assert.Equal(6, await db.MetricPoints.CountAsync(m => m.RunId == run.Id && m.Name == "train/loss"));
                Assert.Contains(await db.Models.ToListAsync(), m => m.ProducedByRunId == run.Id && m.IsFinal);
            }

            var list = await Cli("runs", "list", "--json", "--data-dir", dataDir);
            Assert.Equal(0, list.Exit);
            var items = JsonNode.Parse(list.Out)!["items"]!.AsArray();
            Assert.Equal("sft-tiny", Assert.Single(items)!["name"]!.GetValue<string>());
            Assert.Equal("Succeeded", items[0]!["status"]!.GetValue<string>());

            var show = await Cli("runs", "show", "1", "--json", "--data-dir", dataDir);
            Assert.Equal(0, show.Exit);
            var details = JsonNode.Parse(show.Out)!;
            Assert.Equal(6, details["config"]!["steps"]!.GetValue<int>());
            Assert.NotNull(details["finalMetrics"]!["test/accuracy"]);

            var table = await Cli("runs", "show", "1", "--data-dir", dataDir);
            Assert.Contains("final metrics:", table.Out);
            Assert.Equal(1, (await Cli("runs", "show", "42", "--data-dir", dataDir)).Exit);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TempDirectory.TryDelete(dataDir);
        }
    }

    [Theory]
    [InlineData("""{"kind": "sft", "config": {"steps": -3}}""", "config.steps")]
    [InlineData("""{"kind": "nope", "config": {}}""", "kind")]
    [InlineData("""{"kind": "sft", "config": {"stepz": 3}}""", "config.stepz")]
    [InlineData("""{"kind": "sft"}""", "config")]
    [InlineData("""{"kind": "sft", "config": {}, "priority": 1}""", "priority")]
    [InlineData("{\n  \"kind\": \"sft\",\n  \"config\": {\n    \"steps\": 3,,\n  }\n}", "line 4")]
    public async Task RunVerbRefusesInvalidFilesNamingTheFieldAndStoresNothing(string content, string named)
    {
        var dataDir = TempDirectory.Create("bs-cli-bad");
        var file = Path.Combine(dataDir, "bad.json");
        await File.WriteAllTextAsync(file, content);
        try
        {
            var (exit, output, error) = await Cli("run", file, "--data-dir", dataDir);

            Assert.Equal(RunCommand.ExitInvalid, exit);
            Assert.Contains(named, error);
            Assert.DoesNotContain("succeeded", output);
            if (File.Exists(Path.Combine(dataDir, "bonstudio.db")))
            {
                await using var db = Db(dataDir);
                Assert.Equal(0, await db.Runs.CountAsync());
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TempDirectory.TryDelete(dataDir);
        }
    }

    [Fact]
    public void DefaultPresetExampleIsExactlyTheSftKindsDefaults()
    {
        var kinds = new RunKindRegistry(RunKindRegistry.DiscoverTypes().Select(t => (IRunKind)Activator.CreateInstance(t)!));
        var (request, errors) = RunCommand.ReadRequest(new FileInfo(Path.Combine(RepoRoot(), "examples", "sft-minimath.json")));
        Assert.Empty(errors);
        var fromFile = new RunConfigBinder(kinds).Bind(request!.Kind, request.Config);
        var defaults = new RunConfigBinder(kinds).Bind("sft", new JsonObject());
        Assert.True(fromFile.IsValid, string.Join("; ", fromFile.ErrorLines));
        Assert.Equal(defaults.CanonicalJson, fromFile.CanonicalJson);
    }
}
