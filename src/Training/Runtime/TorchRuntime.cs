using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Runtime;

/// <summary>Device choice, thread count and seeding: the run-time knobs every trainer shares.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// Resolves a device name: "auto" (CUDA when available, else CPU), "cpu", "cuda", "cuda:N".
    /// Unknown names and CUDA on a machine without it are refused with a message naming the value.
    /// </summary>
    public static Device ResolveDevice(string? name)
    {
        var n = string.IsNullOrWhiteSpace(name) ? "auto" : name.Trim().ToLowerInvariant();
        if (n == "auto") return cuda.is_available() ? CUDA : CPU;
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new ArgumentException($"device '{name}': CUDA is not available on this machine (is the CUDA libtorch package installed? see README).");
            return new Device(n);
        }
        throw new ArgumentException($"device '{name}' is not one of auto, cpu, cuda, cuda:N.");
    }

    /// <summary>Sets the intra-op thread count (0 = leave libtorch's default).</summary>
    public static void SetThreads(int threads)
    {
        if (threads > 0) torch.set_num_threads(threads);
    }

    /// <summary>Seeds libtorch (CPU and CUDA) for a deterministic run on CPU. Managed RNGs are seeded by their owners.</summary>
    public static void Seed(long seed)
    {
        torch.manual_seed(seed);
        if (cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }

    /// <summary>TorchSharp and libtorch versions, for a run's reproducibility record.</summary>
    public static string Versions =>
        $"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {torch.__version__}";
}
