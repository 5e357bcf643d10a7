// Functional-correctness checker for HumanEval-format tasks (Chen et al. 2021): the program
// prompt + completion + "\n" + test + "\n" + "check(entry_point)" passes when it exits with code 0.
// Every run goes through CodeSandbox (untrusted code: never in-process). The verdict and its reason are what
// bon-eval stores with the sample (see ToEvalProblem).
using System.Text.Json;
using System.Text.RegularExpressions;
using BonStudio.Training.Evaluation;

namespace BonStudio.Training.Verifiers;

/// <summary>One HumanEval-format task.</summary>
public sealed record CodeTask(string TaskId, string Prompt, string CanonicalSolution, string Test, string EntryPoint)
{
    /// <summary>Reads a HumanEval JSONL file (task_id, prompt, canonical_solution, test, entry_point); errors name the line.</summary>
    public static IReadOnlyList<CodeTask> LoadJsonl(string path)
    {
        var tasks = new List<CodeTask>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                string Field(string name) => doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                    ? v.GetString()!
                    : throw new InvalidDataException($"{path}:{lineNumber}: field '{name}' is missing or not a string.");
                var task = new CodeTask(Field("task_id"), Field("prompt"), Field("canonical_solution"), Field("test"), Field("entry_point"));
                CodeVerifier.CheckEntryPoint(task.EntryPoint, $"{path}:{lineNumber}");
                tasks.Add(task);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: invalid JSON: {e.Message}", e);
            }
        }
        return tasks;
    }
}

public enum CodeVerdict { Passed, Failed, Timeout, Crash, ResourceLimit }

/// <summary>Outcome of one completion. <paramref name="Reason"/> says why in a line, e.g. "AssertionError" or
/// "ZeroDivisionError: division by zero"; <paramref name="Isolation"/> records which sandbox layers applied.</summary>
public sealed record CodeVerdictResult(CodeVerdict Verdict, string Reason, int ExitCode, TimeSpan Elapsed, string Stdout, string Stderr, string Isolation)
{
    public bool Passed => Verdict == CodeVerdict.Passed;
    /// <summary>"passed", "failed: AssertionError ...", "timeout: ...": the text stored with a sample.</summary>
    public string Summary => Verdict switch
    {
        CodeVerdict.Passed => "passed",
        CodeVerdict.Failed => $"failed: {Reason}",
        CodeVerdict.Timeout => $"timeout: {Reason}",
        CodeVerdict.Crash => $"crash: {Reason}",
        _ => $"resource limit: {Reason}",
    };
}

/// <summary>Settings of the code verifier.</summary>
public sealed record CodeVerifierConfig
{
    /// <summary>Limits applied to every run.</summary>
    public SandboxLimits Limits { get; init; } = new();
    /// <summary>Runs at once in <see cref="CodeVerifier.VerifyMany"/> (each is one Python process).</summary>
    public int MaxParallel { get; init; } = Math.Max(2, Environment.ProcessorCount * 2);
}

public sealed partial class CodeVerifier(CodeVerifierConfig? config = null)
{
    public CodeVerifierConfig Config { get; } = config ?? new CodeVerifierConfig();

    /// <summary>The program HumanEval runs: prompt + completion + "\n" + test + "\n" + check(entry_point).</summary>
    public static string BuildProgram(CodeTask task, string completion)
    {
        CheckEntryPoint(task.EntryPoint, task.TaskId);
        return task.Prompt + completion + "\n" + task.Test + "\n" + $"check({task.EntryPoint})\n";
    }

    /// <summary>Runs one completion in the sandbox and classifies the outcome.</summary>
    public CodeVerdictResult Verify(CodeTask task, string completion, CancellationToken ct = default)
    {
        var run = CodeSandbox.RunPython(BuildProgram(task, completion), Config.Limits, ct);
        var (verdict, reason) = Classify(run, Config.Limits);
        return new CodeVerdictResult(verdict, reason, run.ExitCode, run.Elapsed, run.Stdout, run.Stderr, run.Isolation);
    }

    /// <summary>Verifies many (task, completion) pairs, <see cref="CodeVerifierConfig.MaxParallel"/> at a time; results in input order.</summary>
    public IReadOnlyList<CodeVerdictResult> VerifyMany(IReadOnlyList<(CodeTask Task, string Completion)> items, CancellationToken ct = default)
    {
        var results = new CodeVerdictResult[items.Count];
        Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = Config.MaxParallel, CancellationToken = ct },
            i => results[i] = Verify(items[i].Task, items[i].Completion, ct));
        return results;
    }

    /// <summary>The task as a bon-eval problem: the "extracted answer" stored with each sample is the verdict and
    /// its reason (e.g. "failed: AssertionError"), and the sample is correct when the tests pass.</summary>
    public EvalProblem ToEvalProblem(CodeTask task) =>
        new(task.TaskId, task.Prompt, task.CanonicalSolution, null, completion =>
        {
            var result = Verify(task, completion);
            return (result.Summary, result.Passed);
        }) { CheckReturnsVerdict = true };

    /// <summary>Maps a sandbox run to a verdict. Exposed for tests.</summary>
    public static (CodeVerdict Verdict, string Reason) Classify(SandboxResult run, SandboxLimits limits)
    {
        if (run.TimedOut) return (CodeVerdict.Timeout, $"no exit within {limits.WallClock.TotalSeconds:0.#} s wall clock; process group killed");
        if (run.OutputLimitExceeded) return (CodeVerdict.ResourceLimit, $"output exceeded {limits.MaxOutputBytes} bytes; process group killed");
        if (run.ExitCode == 0) return (CodeVerdict.Passed, "exit code 0");
        if (run.ExitCode == 128 + 24) return (CodeVerdict.ResourceLimit, $"CPU time limit ({limits.CpuSeconds} s, SIGXCPU)");
        if (run.ExitCode == 128 + 25) return (CodeVerdict.ResourceLimit, $"file size limit ({limits.MaxFileBytes} bytes, SIGXFSZ)");

        // A fork bomb's children interleave their tracebacks, so the last line need not be the parent's: any
        // EAGAIN from fork/spawn means the process limit stopped it.
        bool processLimitHit = run.Stderr.Contains("[Errno 11]", StringComparison.Ordinal);
        var exception = LastException(run.Stderr);
        if (exception is { } e)
        {
            if (e.Type == "AssertionError") return (CodeVerdict.Failed, e.Message.Length > 0 ? $"AssertionError: {e.Message}" : "AssertionError");
            if (e.Type == "MemoryError") return (CodeVerdict.ResourceLimit, $"memory limit ({limits.MemoryBytes} bytes address space): MemoryError");
            if (e.Message.Contains("[Errno 11]") && e.Type is "BlockingIOError" or "OSError")
                return (CodeVerdict.ResourceLimit, $"process limit ({limits.MaxProcesses}): {e.Type}: {e.Message}");
            if (e.Message.Contains("[Errno 27]")) return (CodeVerdict.ResourceLimit, $"file size limit ({limits.MaxFileBytes} bytes): {e.Type}: {e.Message}");
            if (processLimitHit) return (CodeVerdict.ResourceLimit, $"process limit ({limits.MaxProcesses}): fork failed with EAGAIN");
            return (CodeVerdict.Crash, e.Message.Length > 0 ? $"{e.Type}: {e.Message}" : e.Type);
        }
        if (processLimitHit) return (CodeVerdict.ResourceLimit, $"process limit ({limits.MaxProcesses}): fork failed with EAGAIN");
        if (run.ExitCode > 128) return (CodeVerdict.Crash, $"killed by signal {run.ExitCode - 128}");
        return (CodeVerdict.Crash, $"exit code {run.ExitCode}");
    }

    /// <summary>The exception on the last line of a Python traceback, if stderr ends with one.</summary>
    private static (string Type, string Message)? LastException(string stderr)
    {
        // a traceback, or a SyntaxError report (which has no "Traceback" header), ends with "Type: message"
        var last = stderr.Split('\n').Select(l => l.TrimEnd('\r')).LastOrDefault(l => l.Length > 0 && !char.IsWhiteSpace(l[0]));
        if (last is null) return null;
        var m = ExceptionLine().Match(last);
        if (!m.Success) return null;
        var type = m.Groups[1].Value;
        if (!(type.EndsWith("Error") || type.EndsWith("Exception") || type.EndsWith("Exit") || type.EndsWith("Interrupt") || type.EndsWith("Warning")))
            return null;
        if (type.Contains('.')) type = type[(type.LastIndexOf('.') + 1)..];                // module-qualified names
        var message = m.Groups[2].Value.Trim();
        return (type, message.Length > 300 ? message[..300] + "…" : message);
    }

    [GeneratedRegex(@"^([A-Za-z_][\w.]*)(?::(.*))?$")]
    private static partial Regex ExceptionLine();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();

    /// <summary>The entry point is spliced into the program: it must be a plain Python identifier.</summary>
    internal static void CheckEntryPoint(string entryPoint, string where)
    {
        if (!Identifier().IsMatch(entryPoint))
            throw new InvalidDataException($"{where}: entry_point '{entryPoint}' is not a Python identifier.");
    }
}
