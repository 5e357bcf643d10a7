// The reproducibility record of a run: code version (git commit, dirty flag), machine, runtime and library versions.
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using BonStudio.Training.Runtime;

namespace BonStudio.Web.Services;

public static class RunEnvironment
{
    private static readonly Lazy<string> LazyCodeVersion = new(DetectCodeVersion);

    /// <summary>"&lt;git commit&gt;" or "&lt;commit&gt;+dirty"; falls back to the build's informational version outside a checkout.</summary>
    public static string CodeVersion => LazyCodeVersion.Value;

    /// <summary>Who runs it: machine and process id.</summary>
    public static string WorkerName { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>JSON describing the machine and library versions (TorchSharp/libtorch included).</summary>
    public static string Describe(string device, int threads) => JsonSerializer.Serialize(new
    {
        machine = Environment.MachineName,
        os = RuntimeInformation.OSDescription,
        arch = RuntimeInformation.OSArchitecture.ToString(),
        dotnet = RuntimeInformation.FrameworkDescription,
        processors = Environment.ProcessorCount,
        torch = TorchRuntime.Versions,
        device,
        threads,
        codeVersion = CodeVersion,
    });

    private static string DetectCodeVersion()
    {
        var fallback = typeof(RunEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        try
        {
            var dir = AppContext.BaseDirectory;
            var commit = Git(dir, "rev-parse", "HEAD");
            if (string.IsNullOrWhiteSpace(commit)) return fallback;
            var status = Git(dir, "status", "--porcelain", "--untracked-files=no");
            return commit.Trim() + (string.IsNullOrWhiteSpace(status) ? "" : "+dirty");
        }
        catch (Exception)
        {
            return fallback; // no git on this machine (e.g. the container image)
        }
    }

    // Fixed arguments only: nothing user-supplied reaches the process.
    private static string? Git(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi);
        if (p is null) return null;
        var output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(5000)) { p.Kill(); return null; }
        return p.ExitCode == 0 ? output : null;
    }
}
