// Verifiers score sampled responses; Best-of-N returns the highest-scoring one (methods.md §2.4).
// Scores are real numbers, higher is better. The checker's verdict R ∈ {0,1} is given to every verifier so the
// oracle verifiers can be defined from it; a learned verifier ignores it.
namespace BonStudio.Training.Verifiers;

/// <summary>One sample as a verifier sees it.</summary>
/// <param name="Index">Position 0..n-1 within its prompt's sample set (stable, so noisy scores are reproducible).</param>
public sealed record VerifierInput(string PromptKey, string Prompt, int Index, string Response, bool Correct);

public interface IVerifier
{
    /// <summary>Name stored with the score layer, e.g. "oracle", "noisy-oracle(0.1,seed=0)", "reward-model#12".</summary>
    string Name { get; }

    /// <summary>Scores for the samples of one prompt, in order.</summary>
    double[] Score(IReadOnlyList<VerifierInput> samples);
}

/// <summary>The checker as verifier: 1 for a correct sample, 0 otherwise. Best-of-N with it is pass@N up to ties.</summary>
public sealed class OracleVerifier : IVerifier
{
    public string Name => "oracle";
    public double[] Score(IReadOnlyList<VerifierInput> samples) => samples.Select(s => s.Correct ? 1.0 : 0.0).ToArray();
}

/// <summary>
/// The oracle with each verdict flipped with probability ε, for controlled studies of verifier quality.
/// The flip of a sample depends only on (seed, prompt key, sample index), never on call order, so re-scoring the
/// same evaluation gives the same layer and scoring a subset agrees with scoring the whole.
/// </summary>
public sealed class NoisyOracleVerifier : IVerifier
{
    private readonly double _flipProbability;
    private readonly long _seed;

    public NoisyOracleVerifier(double flipProbability, long seed)
    {
        if (!(flipProbability >= 0 && flipProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(flipProbability), flipProbability, "the flip probability ε must be in [0, 1].");
        _flipProbability = flipProbability;
        _seed = seed;
    }

    public string Name => FormattableString.Invariant($"noisy-oracle({_flipProbability},seed={_seed})");

    public double[] Score(IReadOnlyList<VerifierInput> samples) =>
        samples.Select(s => (s.Correct ^ Flip(s.PromptKey, s.Index)) ? 1.0 : 0.0).ToArray();

    private bool Flip(string promptKey, int index)
    {
        // FNV-1a over (seed, key, index), finished with a SplitMix64 mix: a uniform draw in [0, 1).
        ulong h = 14695981039346656037UL ^ (ulong)_seed;
        foreach (char c in promptKey) { h ^= c; h *= 1099511628211UL; }
        h ^= (ulong)index; h *= 1099511628211UL;
        h += 0x9E3779B97F4A7C15UL;
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
        h ^= h >> 31;
        return (h >> 11) * (1.0 / (1UL << 53)) < _flipProbability;
    }
}
