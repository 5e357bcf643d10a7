namespace BonStudio.Training.Runtime;

/// <summary>
/// How a trainer or evaluator talks to whoever runs it (a Hangfire job, the CLI, a test).
/// Training never knows about databases or web hosts: it reports through this and checks
/// <see cref="CancellationToken"/> between steps.
/// </summary>
public interface IRunReporter
{
    /// <summary>Cancelled when the user presses cancel or the host shuts down.</summary>
    CancellationToken CancellationToken { get; }

    /// <summary>Fraction done in [0, 1] and an optional short status line.</summary>
    void Progress(double fraction, string? message = null);

    /// <summary>One point of a curve. Names are namespaced and shared by all trainers
    /// (e.g. <c>train/loss</c>, <c>eval/loss</c>, <c>eval/accuracy</c>, <c>charts/lr</c>).</summary>
    void Metric(string name, long step, double value);

    /// <summary>A human-readable log line (shown in the run's log tail).</summary>
    void Log(string message);

    /// <summary>A checkpoint was written to disk and may be registered as a model.</summary>
    void Checkpoint(CheckpointInfo checkpoint);
}

/// <summary>A checkpoint file a run produced.</summary>
/// <param name="Path">Absolute path of the .safetensors file.</param>
/// <param name="Step">Optimizer step it was taken at.</param>
/// <param name="Architecture">e.g. "gpt" or "llama".</param>
/// <param name="Tokenizer">Tokenizer id, e.g. "char:minimath".</param>
/// <param name="Parameters">Number of parameters.</param>
/// <param name="IsFinal">True for the checkpoint at the end of the run.</param>
public sealed record CheckpointInfo(string Path, long Step, string Architecture, string Tokenizer, long Parameters, bool IsFinal);

/// <summary>A reporter that writes to the console; used by tests and by the CLI when no database is wanted.</summary>
public sealed class ConsoleReporter(CancellationToken cancellationToken = default, TextWriter? output = null) : IRunReporter
{
    private readonly TextWriter _out = output ?? Console.Out;
    public CancellationToken CancellationToken => cancellationToken;
    public List<(string Name, long Step, double Value)> Metrics { get; } = [];
    public List<CheckpointInfo> Checkpoints { get; } = [];
    public void Progress(double fraction, string? message = null) => _out.WriteLine($"[{fraction,6:P1}] {message}");
    public void Metric(string name, long step, double value) { lock (Metrics) Metrics.Add((name, step, value)); }
    public void Log(string message) => _out.WriteLine(message);
    public void Checkpoint(CheckpointInfo checkpoint) { Checkpoints.Add(checkpoint); _out.WriteLine($"checkpoint {checkpoint.Path} @ {checkpoint.Step}"); }
}
