// TorchSharp 0.107's premature Scalar free (TorchRuntime.IsPrematureScalarFree) interrupts a run instead of failing it,
// and the dead-run sweep resumes it: a test kind throws that exact error on its first execution and finishes on its
// second, through the real job path (Hangfire, SQLite, RunExecutor, DeadRunSweeper).
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;
using BonStudio.Training.Runtime;
using BonStudio.Web.RunKinds;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace BonStudio.Web.Tests;

public sealed record FlakyConfig : IRunConfig
{
    public long Seed { get; init; } = 1;
    public string Device { get; init; } = "cpu";
    public int Threads { get; init; } = 1;
}

/// <summary>Fails like TorchSharp's premature Scalar free on its first execution (marker file in the run directory).</summary>
public sealed class FlakyKind : RunKind<FlakyConfig>
{
    public override string Name => "flaky";
    public override string Title => "test: fails once like TorchSharp's premature Scalar free";
    public override string Description => "";
    public override FlakyConfig DefaultConfig() => new();
    protected override WorkEstimate Estimate(FlakyConfig config) => WorkEstimate.Of(("steps", 1));

    protected override void Execute(FlakyConfig config, string runDirectory, IRunReporter reporter)
    {
        var marker = Path.Combine(runDirectory, "first-execution");
        if (!File.Exists(marker))
        {
            File.WriteAllText(marker, "");
            throw new ExternalException("Expected false to be true, but got false.\nException raised from toFloat at /pytorch/c10/core/Scalar.h:140 (most recent call first):");
        }
        reporter.Metric("done", 1, 1.0);
    }
}

public class ScalarFreeResumeTests
{
    private sealed class FlakyApp() : BonStudioAppFactory(new()
    {
        ["BonStudioOptions:SeedExamples"] = "false",
        ["BonStudioOptions:ResumableKinds"] = "flaky",
        ["BonStudioOptions:HeartbeatTimeout"] = "00:00:02", // the sweep runs every second
    })
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddSingleton<IRunKind, FlakyKind>());
        }
    }

    [Fact]
    public async Task APrematureScalarFreeInterruptsTheRunAndTheSweepResumesItToSuccess()
    {
        // Arrange
        using var app = new FlakyApp();
        using var http = app.Client(app.Start());

        // Act
        var created = await http.PostAsJsonAsync("/api/runs", new { kind = "flaky", name = "flaky", config = new JsonObject() });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        int runId = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<int>();
        var run = await Eventually.Until(async () => { using var db = app.Db(); return await db.Runs.AsNoTracking().FirstAsync(r => r.Id == runId); },
            r => r.Status is RunStatus.Succeeded or RunStatus.Failed, TimeSpan.FromSeconds(60), "the flaky run");

        // Assert: succeeded on the second execution, with the interruption explained in its log.
        Assert.True(run.Status == RunStatus.Succeeded, $"{run.Status}: {run.Error}");
        Assert.Equal(2, run.Attempts);
        using var check = app.Db();
        var logs = await check.RunLogs.Where(l => l.RunId == runId).Select(l => l.Message).ToListAsync();
        Assert.Contains(logs, l => l.StartsWith("interrupted: TorchSharp 0.107 freed a temporary Scalar", StringComparison.Ordinal));
        Assert.Contains(logs, l => l.StartsWith("queued to resume (attempt 2", StringComparison.Ordinal));
        Assert.Equal(1, await check.MetricPoints.CountAsync(m => m.RunId == runId && m.Name == "done"));
    }
}
