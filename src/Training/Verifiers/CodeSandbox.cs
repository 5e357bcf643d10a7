// Runs an untrusted Python program in a child process that cannot harm the host. Layers, each chosen at run time
// and reported in SandboxResult.Isolation:
//  - a fresh temporary directory as the working directory (and HOME/TMPDIR), deleted afterwards;
//  - `setsid`: the child leads a new session/process group; on timeout or an output flood the WHOLE group is killed;
//  - `unshare --net --pid --fork --kill-child` when the kernel allows it: no network (a new, empty network
//    namespace) and a new PID namespace, so every process the program spawns dies with it, even one that left the
//    process group; without root this is done inside a new user namespace (`--map-root-user`);
//  - a small Python preamble (constant text, limits passed as argv) that sets RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE,
//    RLIMIT_NPROC and RLIMIT_CORE=0 with resource.setrlimit and then exec()s the program: the limits are set in
//    the process itself before any untrusted byte runs, portable to any Linux without prlimit(1), and inherited
//    by every child. When started as root it also drops to nobody/nogroup, so the program cannot write outside
//    its directory (it can only write where "other" may, e.g. its own directory, which is made world-writable)
//    and RLIMIT_NPROC is enforced (root bypasses it);
//  - a scrubbed environment (PATH, HOME, TMPDIR, LANG only) and python -I (ignores PYTHON* variables and user site);
//  - stdout/stderr read with a byte cap.
// Nothing from the program or task reaches a shell: arguments go through ProcessStartInfo.ArgumentList and the
// program text is written to a file.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;

namespace BonStudio.Training.Verifiers;

/// <summary>Limits of one sandboxed run.</summary>
public sealed record SandboxLimits
{
    /// <summary>Wall-clock limit; the process group is killed when it is reached.</summary>
    public TimeSpan WallClock { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>CPU seconds (RLIMIT_CPU), per process.</summary>
    public int CpuSeconds { get; init; } = 10;
    /// <summary>Address space in bytes (RLIMIT_AS), per process.</summary>
    public long MemoryBytes { get; init; } = 512L << 20;
    /// <summary>Processes of the sandbox user (RLIMIT_NPROC); enforced when the sandbox runs as a non-root user.</summary>
    public int MaxProcesses { get; init; } = 32;
    /// <summary>Largest file the program may write (RLIMIT_FSIZE).</summary>
    public long MaxFileBytes { get; init; } = 16L << 20;
    /// <summary>Bytes of stdout and of stderr kept; more output kills the run.</summary>
    public int MaxOutputBytes { get; init; } = 1 << 20;

    public void Validate()
    {
        if (WallClock <= TimeSpan.Zero) throw new ArgumentException($"SandboxLimits.WallClock must be positive (got {WallClock}).");
        if (CpuSeconds <= 0) throw new ArgumentException($"SandboxLimits.CpuSeconds must be positive (got {CpuSeconds}).");
        if (MemoryBytes < 64L << 20) throw new ArgumentException($"SandboxLimits.MemoryBytes must be at least 64 MiB for Python to start (got {MemoryBytes}).");
        if (MaxProcesses <= 0) throw new ArgumentException($"SandboxLimits.MaxProcesses must be positive (got {MaxProcesses}).");
        if (MaxFileBytes <= 0) throw new ArgumentException($"SandboxLimits.MaxFileBytes must be positive (got {MaxFileBytes}).");
        if (MaxOutputBytes <= 0) throw new ArgumentException($"SandboxLimits.MaxOutputBytes must be positive (got {MaxOutputBytes}).");
    }
}

/// <summary>What happened to a sandboxed run. ExitCode follows .NET: 128 + signal when killed by a signal.</summary>
public sealed record SandboxResult(int ExitCode, bool TimedOut, bool OutputLimitExceeded, string Stdout, string Stderr, TimeSpan Elapsed, string Isolation);

public static class CodeSandbox
{
    public const int NobodyUid = 65534;

    // Runs as `python -I -B -c PREAMBLE cpu mem nproc fsize uid readonly sandbox program.py`. Constant text: no task
    // data in it. With readonly=1 (inside a new mount namespace) every mount is remounted read-only except the
    // sandbox directory, so nothing outside it can be written whoever the process runs as.
    private const string Preamble = """
import os, resource, sys
cpu, mem, nproc, fsize, uid, readonly = (int(a) for a in sys.argv[1:7])
sandbox, program = sys.argv[7], sys.argv[8]
if readonly:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    def mount(target, flags, source="none"):
        if libc.mount(source.encode(), target.encode(), None, ctypes.c_ulong(flags), None) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "sandbox setup: mount " + target + ": " + os.strerror(err))
    MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
    KEEP = 2 | 4 | 8 | 1024 | 2048 | 4096   # nosuid, nodev, noexec, noatime, nodiratime, relatime (locked in user namespaces)
    mount("/", MS_REC | MS_PRIVATE)
    mount(sandbox, MS_BIND | MS_REC, source=sandbox)
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4].encode().decode("unicode_escape") for line in f]
    for point in points:
        try:
            flags = os.statvfs(point).f_flag & KEEP
        except OSError:
            continue
        try:
            mount(point, MS_BIND | MS_REMOUNT | MS_RDONLY | flags)
        except OSError:
            if not (point.startswith("/proc") or point.startswith("/sys")):
                raise
    mount(sandbox, MS_BIND | MS_REMOUNT | (os.statvfs(sandbox).f_flag & KEEP))
    os.chdir(sandbox)   # the inherited cwd still points into the read-only mount underneath the bind mount
def limit(kind, value):
    resource.setrlimit(kind, (value, value))
limit(resource.RLIMIT_CORE, 0)
limit(resource.RLIMIT_CPU, cpu)
limit(resource.RLIMIT_FSIZE, fsize)
if uid >= 0:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
limit(resource.RLIMIT_NPROC, nproc)
limit(resource.RLIMIT_AS, mem)
os.execv(sys.executable, [sys.executable, "-I", "-B", program])
""";

    /// <summary>How processes are launched: command prefix before python, whether the preamble makes the filesystem read-only.</summary>
    private sealed record LaunchMode(string[] Prefix, bool ReadOnlyFileSystem, string Description);

    private static readonly Lazy<string> Python = new(FindPython);
    private static readonly Lazy<LaunchMode> Launcher = new(ChooseLauncher);

    /// <summary>Absolute path of the Python interpreter used (resolved once: shims such as pyenv's need the normal environment).</summary>
    public static string PythonPath => Python.Value;

    /// <summary>Which isolation layers this machine allows, e.g. "setsid process group, unshare net+pid namespaces, uid nobody, rlimits".</summary>
    public static string Isolation => Launcher.Value.Description + (IsRoot ? ", uid nobody" : ", same uid");

    /// <summary>Runs <paramref name="program"/> (Python source) under <paramref name="limits"/>.</summary>
    public static SandboxResult RunPython(string program, SandboxLimits limits, CancellationToken ct = default)
    {
        limits.Validate();
        return Run(Launcher.Value, program, limits, ct);
    }

    private static SandboxResult Run(LaunchMode mode, string program, SandboxLimits limits, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("bon-sandbox-");
        try
        {
            var programPath = Path.Combine(dir.FullName, "program.py");
            File.WriteAllText(programPath, program, new UTF8Encoding(false));
            bool dropToNobody = IsRoot;
            if (dropToNobody)
            {
                // nobody must be able to read the program and write (only) here
                File.SetUnixFileMode(programPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                File.SetUnixFileMode(dir.FullName, (UnixFileMode)0b111_111_111);
            }

            bool launched = mode.Prefix.Length > 0;
            var psi = new ProcessStartInfo
            {
                FileName = launched ? mode.Prefix[0] : PythonPath,
                WorkingDirectory = dir.FullName,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in mode.Prefix.Skip(1)) psi.ArgumentList.Add(a);
            if (launched) psi.ArgumentList.Add(PythonPath);
            foreach (var a in new[]
                     {
                         "-I", "-B", "-c", Preamble,
                         limits.CpuSeconds.ToString(), limits.MemoryBytes.ToString(), limits.MaxProcesses.ToString(),
                         limits.MaxFileBytes.ToString(), (dropToNobody ? NobodyUid : -1).ToString(), mode.ReadOnlyFileSystem ? "1" : "0",
                         dir.FullName, programPath,
                     })
                psi.ArgumentList.Add(a);
            psi.Environment.Clear();
            psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
            psi.Environment["HOME"] = dir.FullName;
            psi.Environment["TMPDIR"] = dir.FullName;
            psi.Environment["LANG"] = "C.UTF-8";

            var watch = Stopwatch.StartNew();
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the sandbox process.");
            process.StandardInput.Close();                                             // the program reads nothing
            int groupId = process.Id;                                                  // setsid: the child leads its own group
            bool outputExceeded = false;
            void KillGroup()
            {
                if (launched) _ = kill(-groupId, SIGKILL);                             // the whole process group
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
            var stdout = ReadCapped(process.StandardOutput.BaseStream, limits.MaxOutputBytes, () => { outputExceeded = true; KillGroup(); });
            var stderr = ReadCapped(process.StandardError.BaseStream, limits.MaxOutputBytes, () => { outputExceeded = true; KillGroup(); });

            bool exited = WaitForExit(process, limits.WallClock, ct);
            bool timedOut = !exited && !ct.IsCancellationRequested;
            KillGroup();                                                               // also whatever a finished program left behind
            process.WaitForExit();
            Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(5));
            watch.Stop();
            ct.ThrowIfCancellationRequested();
            return new SandboxResult(process.ExitCode, timedOut, outputExceeded, Text(stdout), Text(stderr), watch.Elapsed,
                mode.Description + (dropToNobody ? ", uid nobody" : ", same uid (not root: no privilege drop)"));
        }
        finally
        {
            try { dir.Delete(recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* best effort: it is a temp dir */ }
        }
    }

    private static bool WaitForExit(Process process, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (!ct.IsCancellationRequested)
        {
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero) return process.HasExited;
            if (process.WaitForExit((int)Math.Min(100, Math.Ceiling(left.TotalMilliseconds)))) return true;
        }
        return false;
    }

    private static string Text(Task<byte[]> read) =>
        read.IsCompletedSuccessfully ? Encoding.UTF8.GetString(read.Result) : "";

    private static async Task<byte[]> ReadCapped(Stream stream, int cap, Action onExceeded)
    {
        var kept = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        bool exceeded = false;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            int room = cap - (int)kept.Length;
            if (room > 0) kept.Write(buffer, 0, Math.Min(room, n));
            if (n > room && !exceeded) { exceeded = true; onExceeded(); }
        }
        return kept.ToArray();
    }

    /// <summary>Running as root (Unix only: Windows has no euid, and the file-mode and privilege-drop steps that follow are Unix's).</summary>
    [UnsupportedOSPlatformGuard("windows")]
    private static bool IsRoot => !OperatingSystem.IsWindows() && geteuid() == 0;

    private static string FindPython()
    {
        // Resolve python3 with the normal environment once, then run the real binary with a scrubbed one.
        string? resolved = null;
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("import sys; print(sys.executable)");
        try
        {
            using var p = Process.Start(psi)!;
            var path = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            if (p.ExitCode == 0 && File.Exists(path)) resolved = path;
        }
        catch (System.ComponentModel.Win32Exception) { }
        string?[] candidates = [resolved, "/usr/bin/python3", "/usr/local/bin/python3"];
        // run as nobody, the interpreter must be reachable by "others" (e.g. pyenv under a 0700 /root is not)
        var usable = candidates.Where(c => c is not null && File.Exists(c) && (!IsRoot || OthersCanExecute(c))).FirstOrDefault();
        return usable ?? throw new InvalidOperationException(
            resolved is null
                ? "python3 was not found on PATH: the code verifier needs a Python 3 interpreter."
                : $"python3 ({resolved}) is not executable by the sandbox user 'nobody' (a parent directory is closed); install a system python3 (/usr/bin/python3).");
    }

    /// <summary>True when every directory above <paramref name="path"/> (symlinks resolved) is searchable by others and the file is executable by others.</summary>
    [UnsupportedOSPlatform("windows")]
    private static bool OthersCanExecute(string path)
    {
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);
        if ((File.GetUnixFileMode(target) & UnixFileMode.OtherExecute) == 0) return false;
        for (var d = Path.GetDirectoryName(target); !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
            if ((File.GetUnixFileMode(d) & UnixFileMode.OtherExecute) == 0) return false;
        return true;
    }

    /// <summary>Tries the strongest launch mode first; each is probed once by running a small program through it.</summary>
    private static LaunchMode ChooseLauncher()
    {
        var candidates = new List<LaunchMode>();
        string? setsid = FindExecutable("setsid"), unshare = FindExecutable("unshare");
        if (OperatingSystem.IsLinux() && setsid is not null)
        {
            string[] user = IsRoot ? [] : ["--user", "--map-root-user"];
            string users = IsRoot ? "" : "user+";
            if (unshare is not null)
            {
                candidates.Add(new([setsid, unshare, .. user, "--mount", "--net", "--pid", "--fork", "--kill-child", "--"], true,
                    $"setsid process group, unshare {users}mount+net+pid namespaces (no network, filesystem read-only outside the sandbox directory), rlimits"));
                candidates.Add(new([setsid, unshare, .. user, "--net", "--pid", "--fork", "--kill-child", "--"], false,
                    $"setsid process group, unshare {users}net+pid namespaces (no network; mount namespace unavailable), rlimits"));
            }
            candidates.Add(new([setsid, "--"], false, "setsid process group, rlimits (namespaces unavailable: network NOT isolated)"));
        }
        candidates.Add(new([], false, "rlimits only (no setsid: no process-group kill; network NOT isolated)"));

        var probeLimits = new SandboxLimits { WallClock = TimeSpan.FromSeconds(20) };
        foreach (var mode in candidates)
        {
            try
            {
                var r = Run(mode, "print('sandbox-ok')\n", probeLimits, CancellationToken.None);
                if (r.ExitCode == 0 && r.Stdout.Trim() == "sandbox-ok") return mode;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException) { }
        }
        throw new InvalidOperationException("no sandbox launch mode works on this machine (is python3 installed?).");
    }

    private static string? FindExecutable(string name) =>
        new[] { "/usr/bin", "/bin", "/usr/sbin", "/sbin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private const int SIGKILL = 9;
    [DllImport("libc", SetLastError = true)] private static extern int kill(int pid, int sig);
    [DllImport("libc")] private static extern uint geteuid();
}
