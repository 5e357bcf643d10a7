// The Hangfire job: id-only argument, the Run row is the source of truth, no automatic retries for training.
using System.ComponentModel;
using BonStudio.Data.Entities;
using Hangfire;

namespace BonStudio.Web.Jobs;

public sealed class RunJob(RunExecutor executor)
{
    public const string TrainQueue = "train";
    public const string DefaultQueue = "default";

    /// <summary>Executes run <paramref name="runId"/>. Hangfire supplies <paramref name="cancellationToken"/>
    /// (server shutdown, job deleted); a user's cancel reaches the run through <see cref="RunCancellationRegistry"/>.</summary>
    [Queue(TrainQueue)]
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [DisplayName("run #{0}")]
    public async Task RunAsync(int runId, CancellationToken cancellationToken)
    {
        var status = await executor.ExecuteAsync(runId, cancellationToken);
        // Surface failures in the dashboard too; the Run row already holds the error text.
        if (status == RunStatus.Failed) throw new RunFailedException($"run {runId} failed (see the run's error)");
    }
}

public sealed class RunFailedException(string message) : Exception(message);
