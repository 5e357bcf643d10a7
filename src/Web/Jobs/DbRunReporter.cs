// IRunReporter that stores what a run reports: metric points (batched upserts), progress (throttled),
// log lines and checkpoints (registered as Model rows). A background loop flushes every FlushInterval,
// writes the heartbeat, and notices a cancel requested from another process.
using System.Globalization;
using BonStudio.Data;
using BonStudio.Data.Entities;
using BonStudio.Training.RL;
using BonStudio.Training.Runtime;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Jobs;

public sealed class DbRunReporter : IRunReporter, IEpisodeSink, IAsyncDisposable
{
    private readonly int _runId;
    private readonly string _runName;
    private readonly string _configJson;
    private readonly IDbContextFactory<BonStudioDb> _dbFactory;
    private readonly CancellationTokenSource _cts;
    private readonly TextWriter? _echo;
    private readonly TimeSpan _flushInterval;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly Dictionary<(string Name, long Step), (double Value, DateTime Time)> _metrics = new();
    private readonly List<RunLog> _logs = [];
    private readonly List<CheckpointInfo> _checkpoints = [];
    private readonly List<Episode> _episodes = [];
    private readonly List<StateStat> _stateStats = [];
    private (double Fraction, string? Message)? _progress;
    private readonly CancellationTokenSource _stopLoop = new();
    private readonly Task _loop;
    private DateTime _lastEcho = DateTime.MinValue;
    private readonly SemaphoreSlim _flushLock = new(1, 1);

    public DbRunReporter(int runId, string runName, string configJson, IDbContextFactory<BonStudioDb> dbFactory,
        CancellationTokenSource cts, TimeSpan flushInterval, TextWriter? echo, ILogger logger)
    {
        _runId = runId;
        _runName = runName;
        _configJson = configJson;
        _dbFactory = dbFactory;
        _cts = cts;
        _flushInterval = flushInterval;
        _echo = echo;
        _logger = logger;
        _loop = Task.Run(LoopAsync);
    }

    public CancellationToken CancellationToken => _cts.Token;

    /// <summary>The run being reported, and the database, for kinds that store rows of their own (bon-eval samples).</summary>
    public int RunId => _runId;
    public IDbContextFactory<BonStudioDb> DbFactory => _dbFactory;

    /// <summary>The execution attempt this reporter belongs to (Run.Attempts after the claim). The heartbeat is only
    /// written while the row is still Running with this attempt; otherwise the run was taken over.</summary>
    public int Attempt { get; init; }

    /// <summary>Set when the row no longer belongs to this attempt (another worker resumed it after this one lost its
    /// heartbeat): the run is cancelled here and the row left alone.</summary>
    public bool Superseded { get; private set; }

    /// <summary>Set when the cancel came from a user (UI/API/CLI), as opposed to a host shutting down.</summary>
    public bool CancelRequestedByUser { get; private set; }

    public void Progress(double fraction, string? message = null)
    {
        fraction = double.IsFinite(fraction) ? Math.Clamp(fraction, 0, 1) : 0;
        lock (_gate) _progress = (fraction, message);
        if (_echo is not null && DateTime.UtcNow - _lastEcho > TimeSpan.FromSeconds(1))
        {
            _lastEcho = DateTime.UtcNow;
            _echo.WriteLine($"[{fraction * 100,5:F1}%] {message}");
        }
    }

    public void Metric(string name, long step, double value)
    {
        if (!double.IsFinite(value))
        {
            // SQLite would store NaN as NULL; keep the fact visible in the log instead.
            Log($"warning: metric {name} at step {step} is {value.ToString(CultureInfo.InvariantCulture)}");
            return;
        }
        lock (_gate) _metrics[(name, step)] = (value, DateTime.UtcNow);
    }

    public void Log(string message)
    {
        lock (_gate) _logs.Add(new RunLog { RunId = _runId, Message = message, Time = DateTime.UtcNow });
        _echo?.WriteLine(message);
    }

    public void Checkpoint(CheckpointInfo checkpoint)
    {
        lock (_gate) _checkpoints.Add(checkpoint);
        _echo?.WriteLine($"checkpoint {checkpoint.Path} (step {checkpoint.Step})");
    }

    public void Episode(EpisodeRecord e)
    {
        var row = new Episode
        {
            RunId = _runId,
            Index = (int)Math.Min(int.MaxValue, e.Index),
            IsEvaluation = false,
            StartKind = e.StartKind == EpisodeStartKind.Reset ? "reset" : "initial",
            StartState = e.StartRow is int r && e.StartCol is int c ? $"{r},{c}" : null,
            StartUncertainty = double.IsFinite(e.StartUncertainty) ? e.StartUncertainty : null,
            Return = e.Return,
            Length = e.Length,
            StepsSoFar = e.SimulatorSteps,
        };
        lock (_gate) _episodes.Add(row);
    }

    public void Grid(GridAggregate g)
    {
        var rows = new List<StateStat>(g.Rows * g.Cols);
        for (int i = 0; i < g.Rows * g.Cols; i++)
            rows.Add(new StateStat
            {
                RunId = _runId,
                AtStep = g.SimulatorSteps,
                StateKey = $"{i / g.Cols},{i % g.Cols}",
                Visits = g.Visits[i],
                Uncertainty = float.IsFinite(g.Uncertainty[i]) ? g.Uncertainty[i] : null,
            });
        lock (_gate) _stateStats.AddRange(rows);
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_flushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopLoop.Token))
            {
                // Not cancellable: stopping the loop must never abort a write half-way (the final flush follows it).
                try { await FlushAsync(CancellationToken.None); }
                catch (Exception e) { _logger.LogWarning(e, "Flushing run {RunId} failed; will retry", _runId); }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Writes everything buffered, the heartbeat, and checks for a cancel request.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        await _flushLock.WaitAsync(ct);
        try
        {
            List<KeyValuePair<(string Name, long Step), (double Value, DateTime Time)>> metrics;
            List<RunLog> logs;
            List<CheckpointInfo> checkpoints;
            List<Episode> episodes;
            List<StateStat> stateStats;
            (double Fraction, string? Message)? progress;
            lock (_gate)
            {
                metrics = _metrics.ToList(); _metrics.Clear();
                logs = [.. _logs]; _logs.Clear();
                checkpoints = [.. _checkpoints]; _checkpoints.Clear();
                episodes = [.. _episodes]; _episodes.Clear();
                stateStats = [.. _stateStats]; _stateStats.Clear();
                progress = _progress; _progress = null;
            }

            await using var db = await _dbFactory.CreateDbContextAsync(ct);
            try
            {
                await WriteAsync(db, metrics, logs, checkpoints, episodes, stateStats, ct);
            }
            catch
            {
                // Nothing is lost: put the batch back in front of whatever arrived meanwhile; the next flush retries.
                lock (_gate)
                {
                    foreach (var (key, value) in metrics) _metrics.TryAdd(key, value);
                    // Keys EF may have assigned during the failed attempt are dropped: the retry inserts fresh rows.
                    foreach (var l in logs) l.Id = 0;
                    foreach (var e in episodes) e.Id = 0;
                    foreach (var st in stateStats) st.Id = 0;
                    _logs.InsertRange(0, logs);
                    _checkpoints.InsertRange(0, checkpoints);
                    _episodes.InsertRange(0, episodes);
                    _stateStats.InsertRange(0, stateStats);
                    _progress ??= progress;
                }
                throw;
            }
            await WriteStatusAsync(db, progress, ct);
        }
        finally
        {
            _flushLock.Release();
        }
    }

    private async Task WriteAsync(BonStudioDb db, List<KeyValuePair<(string Name, long Step), (double Value, DateTime Time)>> metrics,
        List<RunLog> logs, List<CheckpointInfo> checkpoints, List<Episode> episodes, List<StateStat> stateStats, CancellationToken ct)
    {
        {
            // One transaction per batch: a batch is stored entirely or not at all (and then retried).
            await using (var tx = await db.Database.BeginTransactionAsync(ct))
            {
                foreach (var (key, (value, time)) in metrics)
                {
                    // (RunId, Name, Step) is unique: a re-reported step overwrites instead of duplicating.
                    await db.Database.ExecuteSqlInterpolatedAsync($@"
INSERT INTO ""MetricPoints"" (""RunId"", ""Name"", ""Step"", ""Value"", ""WallTime"") VALUES ({_runId}, {key.Name}, {key.Step}, {value}, {time})
ON CONFLICT (""RunId"", ""Name"", ""Step"") DO UPDATE SET ""Value"" = excluded.""Value"", ""WallTime"" = excluded.""WallTime"";", ct);
                }
                // Latest value per name (highest step) for the runs table and `runs show`.
                foreach (var g in metrics.GroupBy(m => m.Key.Name))
                {
                    var last = g.MaxBy(m => m.Key.Step);
                    await db.Database.ExecuteSqlInterpolatedAsync($@"
INSERT INTO ""RunSummaries"" (""RunId"", ""Name"", ""Value"", ""Step"") VALUES ({_runId}, {g.Key}, {last.Value.Value}, {last.Key.Step})
ON CONFLICT (""RunId"", ""Name"") DO UPDATE SET ""Value"" = excluded.""Value"", ""Step"" = excluded.""Step""
WHERE excluded.""Step"" >= ""RunSummaries"".""Step"";", ct);
                }
                db.RunLogs.AddRange(logs);
                db.Episodes.AddRange(episodes);
                db.StateStats.AddRange(stateStats);
                foreach (var c in checkpoints)
                {
                    // A resumed run may save a checkpoint at a step it had already recorded (e.g. the final one):
                    // keep one Model row per file.
                    var existing = await db.Models.FirstOrDefaultAsync(m => m.ProducedByRunId == _runId && m.Path == c.Path, ct);
                    if (existing is not null)
                    {
                        existing.SizeBytes = File.Exists(c.Path) ? new FileInfo(c.Path).Length : 0;
                        existing.IsFinal = c.IsFinal;
                        continue;
                    }
                    db.Models.Add(new Model
                    {
                        Name = $"{_runName} @ {c.Step.ToString(CultureInfo.InvariantCulture)}{(c.IsFinal ? " (final)" : "")}",
                        Architecture = c.Architecture,
                        Tokenizer = c.Tokenizer,
                        Path = c.Path,
                        Step = c.Step,
                        Parameters = c.Parameters,
                        SizeBytes = File.Exists(c.Path) ? new FileInfo(c.Path).Length : 0,
                        Source = "trained",
                        IsFinal = c.IsFinal,
                        ConfigJson = _configJson,
                        ProducedByRunId = _runId,
                    });
                }
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
            }
            db.ChangeTracker.Clear();
        }
    }

    private async Task WriteStatusAsync(BonStudioDb db, (double Fraction, string? Message)? progress, CancellationToken ct)
    {
        {
            var now = DateTime.UtcNow;
            var mine = db.Runs.Where(r => r.Id == _runId && (Attempt == 0 || (r.Status == RunStatus.Running && r.Attempts == Attempt)));
            int alive;
            if (progress is { } p)
                alive = await mine.ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Progress, p.Fraction)
                    .SetProperty(r => r.StatusMessage, p.Message)
                    .SetProperty(r => r.HeartbeatAt, now), ct);
            else
                alive = await mine.ExecuteUpdateAsync(s => s.SetProperty(r => r.HeartbeatAt, now), ct);
            if (alive == 0 && !Superseded && !_stopLoop.IsCancellationRequested)
            {
                Superseded = true;
                _logger.LogWarning("Run {RunId}: no longer Running as attempt {Attempt} (taken over by another worker); stopping here", _runId, Attempt);
                if (!_cts.IsCancellationRequested) _cts.Cancel();
            }

            // A cancel pressed in another process (web UI while a separate worker trains) arrives through the row.
            if (!_cts.IsCancellationRequested && await db.Runs.AnyAsync(r => r.Id == _runId && r.CancelRequested, ct))
            {
                CancelRequestedByUser = true;
                _cts.Cancel();
            }
        }
    }

    /// <summary>Marks that the user asked for the cancel (as opposed to shutdown).</summary>
    public void NoteUserCancel() => CancelRequestedByUser = true;

    public async ValueTask DisposeAsync()
    {
        _stopLoop.Cancel();
        try { await _loop; } catch (OperationCanceledException) { }
        // The final flush must land before the run's final status is written; retry briefly on a busy database.
        for (int attempt = 1; ; attempt++)
        {
            try { await FlushAsync(CancellationToken.None); break; }
            catch (Exception e) when (attempt < 5)
            {
                _logger.LogWarning(e, "Final flush of run {RunId} failed (attempt {Attempt}); retrying", _runId, attempt);
                await Task.Delay(500 * attempt);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Final flush of run {RunId} failed; some metrics or log lines are lost", _runId);
                break;
            }
        }
        _stopLoop.Dispose();
        _flushLock.Dispose();
    }
}
