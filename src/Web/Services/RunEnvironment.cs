// The reproducibility record of a run: code version (git commit, dirty flag), machine, runtime and library versions.
using System.Runtime.InteropServices;
using System.Text.Json;
using BonStudio.Training.Runtime;

namespace BonStudio.Web.Services;

public static class RunEnvironment
{
    /// <summary>"&lt;git commit&gt;" or "&lt;commit&gt;+dirty", stamped at build time (build/GitVersion.targets).</summary>
    public static string CodeVersion => BonStudio.Training.Runtime.CodeVersion.Describe();

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
}
