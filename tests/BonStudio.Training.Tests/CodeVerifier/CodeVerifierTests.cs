// The HumanEval code verifier and its sandbox: canonical solutions pass, `return None` bodies fail, and hostile
// programs (infinite loop, memory bomb, fork bomb, writes outside the directory, network, output flood) are
// contained and reported while the host stays unharmed.
using System.Diagnostics;
using BonStudio.Training.Verifiers;

namespace BonStudio.Training.Tests.CodeVerifier;

public sealed class CodeVerifierTests : IDisposable
{
    private static readonly string FixturePath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "humaneval", "humaneval-82.jsonl");
    private static readonly IReadOnlyList<CodeTask> Tasks = CodeTask.LoadJsonl(FixturePath);
    private static readonly CodeTask Add = new("t/add", "def add(a, b):\n    \"\"\"Sum.\"\"\"\n", "    return a + b\n",
        "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n", "add");

    private readonly string _hostDir = Directory.CreateTempSubdirectory("bon-host-").FullName;
    public void Dispose() => Directory.Delete(_hostDir, recursive: true);

    private static global::BonStudio.Training.Verifiers.CodeVerifier Verifier(double wallSeconds = 10) =>
        new(new CodeVerifierConfig { Limits = new SandboxLimits { WallClock = TimeSpan.FromSeconds(wallSeconds) } });

    [Fact]
    public void All_82_canonical_solutions_pass()
    {
        Assert.Equal(82, Tasks.Count);
        var watch = Stopwatch.StartNew();
        var results = Verifier().VerifyMany(Tasks.Select(t => (t, t.CanonicalSolution)).ToList());
        var failures = Tasks.Zip(results).Where(p => !p.Second.Passed).Select(p => $"{p.First.TaskId}: {p.Second.Summary} {p.Second.Stderr}").ToList();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.All(results, r => Assert.Contains("rlimits", r.Isolation));
        Console.WriteLine($"82 canonical solutions verified in {watch.Elapsed.TotalSeconds:F1} s; isolation: {results[0].Isolation}");
    }

    [Fact]
    public void Every_return_None_body_fails()
    {
        var results = Verifier().VerifyMany(Tasks.Select(t => (t, "    return None\n")).ToList());
        var passed = Tasks.Zip(results).Where(p => p.Second.Passed).Select(p => p.First.TaskId).ToList();
        Assert.True(passed.Count == 0, "passed with `return None`: " + string.Join(", ", passed));
        Assert.All(results, r => Assert.Contains(r.Verdict, new[] { CodeVerdict.Failed, CodeVerdict.Crash }));
        Assert.Contains(results, r => r.Verdict == CodeVerdict.Failed && r.Reason.StartsWith("AssertionError"));
    }

    [Fact]
    public void Verdicts_name_the_reason()
    {
        var v = Verifier();
        Assert.Equal(CodeVerdict.Passed, v.Verify(Add, Add.CanonicalSolution).Verdict);
        var wrong = v.Verify(Add, "    return a - b\n");
        Assert.Equal((CodeVerdict.Failed, "AssertionError"), (wrong.Verdict, wrong.Reason));
        Assert.Equal("failed: AssertionError", wrong.Summary);
        var crash = v.Verify(Add, "    return a / 0\n");
        Assert.Equal((CodeVerdict.Crash, "ZeroDivisionError: division by zero"), (crash.Verdict, crash.Reason));
        var syntax = v.Verify(Add, "    return (\n");
        Assert.Equal(CodeVerdict.Crash, syntax.Verdict);
        Assert.StartsWith("SyntaxError", syntax.Reason);
        // stdout alone does not make a pass
        var printing = v.Verify(Add, "    print(a + b)\n");
        Assert.NotEqual(CodeVerdict.Passed, printing.Verdict);
        Assert.Contains("5", printing.Stdout);
    }

    [Fact]
    public void An_infinite_loop_is_killed_at_the_timeout()
    {
        var watch = Stopwatch.StartNew();
        var r = Verifier(wallSeconds: 2).Verify(Add, "    while True:\n        pass\n");
        Assert.Equal(CodeVerdict.Timeout, r.Verdict);
        Assert.InRange(watch.Elapsed.TotalSeconds, 1.9, 8);
        Assert.Contains("process group killed", r.Reason);
    }

    [Fact]
    public void Children_that_leave_the_process_group_die_with_the_run()
    {
        var marker = Path.Combine(_hostDir, "survivor.txt");
        // a grandchild that starts its own session and sleeps: the group kill misses it, the PID namespace does not
        var body = "    import os, time\n    if os.fork() == 0:\n        os.setsid()\n        time.sleep(3)\n" +
                   $"        open({PythonString(marker)}, 'w').write('alive')\n        os._exit(0)\n    time.sleep(60)\n";
        var r = Verifier(wallSeconds: 1.5).Verify(Add, body);
        Assert.Equal(CodeVerdict.Timeout, r.Verdict);
        Thread.Sleep(2500);
        Assert.False(File.Exists(marker), "a process outlived the sandbox");
    }

    [Fact]
    public void A_memory_bomb_hits_the_memory_limit()
    {
        var r = Verifier().Verify(Add, "    chunks = []\n    while True:\n        chunks.append(bytearray(50 * 1024 * 1024))\n");
        Assert.Equal(CodeVerdict.ResourceLimit, r.Verdict);
        Assert.Contains("MemoryError", r.Reason);
    }

    [Fact]
    public void A_fork_bomb_is_contained_and_leaves_no_process_behind()
    {
        int before = ProcessesOf(CodeSandbox.NobodyUid);
        var r = Verifier(wallSeconds: 5).Verify(Add, "    import os\n    while True:\n        os.fork()\n");
        Assert.Contains(r.Verdict, new[] { CodeVerdict.ResourceLimit, CodeVerdict.Timeout });
        Thread.Sleep(300);
        Assert.True(ProcessesOf(CodeSandbox.NobodyUid) <= before, "fork-bomb processes survived the run");
    }

    [Fact]
    public void A_write_outside_its_directory_is_refused_and_the_host_file_is_not_created()
    {
        var outside = Path.Combine(_hostDir, "pwned.txt");
        var r = Verifier().Verify(Add, $"    open({PythonString(outside)}, 'w').write('x')\n    return a + b\n");
        Assert.Equal(CodeVerdict.Crash, r.Verdict);
        Assert.Matches("PermissionError|Read-only file system", r.Reason);
        Assert.False(File.Exists(outside));

        // relative escape to the parent (the system temp folder)
        var escapeName = $"bon-escape-{Guid.NewGuid():N}.txt";
        var r2 = Verifier().Verify(Add, $"    open('../{escapeName}', 'w').write('x')\n    return a + b\n");
        Assert.Equal(CodeVerdict.Crash, r2.Verdict);
        Assert.False(File.Exists(Path.Combine(Path.GetTempPath(), escapeName)));

        // but its own directory is writable
        var inside = Verifier().Verify(Add, "    open('scratch.txt', 'w').write('x')\n    return a + b\n");
        Assert.Equal(CodeVerdict.Passed, inside.Verdict);
    }

    [Fact]
    public void Network_is_unreachable_and_the_environment_is_scrubbed()
    {
        Environment.SetEnvironmentVariable("BON_SECRET_FOR_TEST", "hunter2");
        var r = Verifier().Verify(Add,
            "    import os, socket\n    print(sorted(os.environ))\n" +
            "    try:\n        socket.create_connection(('127.0.0.1', 1), timeout=2)\n    except OSError as e:\n        print('net-error', e.errno)\n    return a + b\n");
        Assert.Equal(CodeVerdict.Passed, r.Verdict);
        Assert.DoesNotContain("BON_SECRET_FOR_TEST", r.Stdout);
        Assert.Contains("net-error", r.Stdout);
        Assert.Contains("no network", r.Isolation);
    }

    [Fact]
    public void An_output_flood_is_cut_at_the_cap()
    {
        var v = new global::BonStudio.Training.Verifiers.CodeVerifier(new CodeVerifierConfig { Limits = new SandboxLimits { MaxOutputBytes = 10_000 } });
        var r = v.Verify(Add, "    while True:\n        print('x' * 1000)\n");
        Assert.Equal(CodeVerdict.ResourceLimit, r.Verdict);
        Assert.True(r.Stdout.Length <= 10_000);
    }

    [Fact]
    public void Entry_points_that_are_not_identifiers_are_refused()
    {
        var bad = Add with { EntryPoint = "add); import os; os.system('x'" };
        Assert.Throws<InvalidDataException>(() => global::BonStudio.Training.Verifiers.CodeVerifier.BuildProgram(bad, "    return 1\n"));
        Assert.Equal(Add.Prompt + "    return a + b\n" + "\n" + Add.Test + "\n" + "check(add)\n", global::BonStudio.Training.Verifiers.CodeVerifier.BuildProgram(Add, "    return a + b\n"));
    }

    [Fact]
    public void As_a_bon_eval_problem_the_verdict_is_stored_as_the_extracted_answer()
    {
        var problem = Verifier().ToEvalProblem(Add);
        Assert.Equal(("passed", true), problem.Check("    return a + b\n"));
        Assert.Equal(("failed: AssertionError", false), problem.Check("    return 0\n"));
    }

    private static string PythonString(string s) => "'" + s.Replace("\\", "\\\\").Replace("'", "\\'") + "'";

    private static int ProcessesOf(int uid) =>
        Directory.GetDirectories("/proc").Count(d =>
        {
            try
            {
                return int.TryParse(Path.GetFileName(d), out _) &&
                       File.ReadLines(Path.Combine(d, "status")).Any(l => l.StartsWith("Uid:") && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == uid.ToString());
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        });
}
