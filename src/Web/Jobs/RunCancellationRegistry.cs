// In-process registry of the cancellation sources of runs executing in this process, so a cancel
// request from the UI/API reaches the training loop's token immediately (no polling delay).
using System.Collections.Concurrent;

namespace BonStudio.Web.Jobs;

public sealed class RunCancellationRegistry
{
    private readonly ConcurrentDictionary<int, CancellationTokenSource> _running = new();

    /// <summary>Registers a run; the returned source is linked to <paramref name="hostToken"/> (Hangfire's or Ctrl+C).</summary>
    public CancellationTokenSource Register(int runId, CancellationToken hostToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(hostToken);
        _running[runId] = cts;
        return cts;
    }

    public void Unregister(int runId, CancellationTokenSource cts) =>
        _running.TryRemove(new KeyValuePair<int, CancellationTokenSource>(runId, cts));

    /// <summary>Cancels a run executing in this process; false when it is not running here.</summary>
    public bool Cancel(int runId)
    {
        if (!_running.TryGetValue(runId, out var cts)) return false;
        try { cts.Cancel(); } catch (ObjectDisposedException) { return false; }
        return true;
    }

    public bool IsRunningHere(int runId) => _running.ContainsKey(runId);
}
