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

    /// <summary>
    /// True for TorchSharp 0.107's premature Scalar free: implicitly converted Scalars (alpha = 1 of every tensor `+`, a
    /// double multiplier) are not kept alive across the native call, so a GC in that window can finalise one libtorch is
    /// still reading, and the op fails in c10::Scalar::toFloat ("Expected false to be true"). Upstream fix: dotnet/TorchSharp
    /// pull 1434 (open). Seen here in session 4's BoN study (bon-rl-v, step 59 of 100, in the sampler). The check fails before the op
    /// computes anything, so nothing is corrupted: callers treat it as an interruption and resume from the last checkpoint.
    /// </summary>
    public static bool IsPrematureScalarFree(Exception e) =>
        e is System.Runtime.InteropServices.ExternalException
        && e.Message.Contains("Expected false to be true", StringComparison.Ordinal)
        && e.Message.Contains("c10/core/Scalar.h", StringComparison.Ordinal);

    /// <summary>TorchSharp and libtorch versions, for a run's reproducibility record.</summary>
    public static string Versions =>
        $"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {torch.__version__}";
}
