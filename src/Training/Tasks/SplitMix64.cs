// SplitMix64 (Steele, Lea & Flood 2014): a tiny deterministic generator we own, so seeded sequences
// (MiniMath splits, Monte Carlo metrics, bootstrap bands) never change with the .NET runtime.
namespace BonStudio.Training.Tasks;

public struct SplitMix64(ulong state)
{
    private ulong _state = state;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [lo, hi] (modulo bias below 1e-15 for small ranges).</summary>
    public int Range(int lo, int hi) => lo + (int)(Next() % (ulong)(hi - lo + 1));

    /// <summary>Uniform integer in [0, n) by Lemire's multiply-shift (bias below n/2^64).</summary>
    public int Below(int n) => (int)Math.BigMul(Next(), (ulong)n, out _);

    public bool Coin() => (Next() >> 63) == 1;

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
}
