// An ensemble of learned verifiers: a sample's score is σ(mean of the members' logits). One reward model's top score
// among many samples often lands on an outlier it happens to overrate (reward over-optimisation); members trained
// differently rarely overrate the same outlier, so averaging damps exactly the errors Best-of-N@large k picks up.
namespace BonStudio.Training.Verifiers;

public sealed class EnsembleVerifier : IDisposableVerifier
{
    private readonly IReadOnlyList<IVerifier> _members;

    /// <param name="members">Verifiers whose scores are probabilities in [0, 1]; the ensemble owns (disposes) them.</param>
    public EnsembleVerifier(string name, IReadOnlyList<IVerifier> members)
    {
        if (members.Count < 2) throw new ArgumentException($"an ensemble needs at least two verifiers, got {members.Count}.", nameof(members));
        Name = name; _members = members;
    }

    public string Name { get; }

    public double[] Score(IReadOnlyList<VerifierInput> samples)
    {
        var sum = new double[samples.Count];
        foreach (var member in _members)
        {
            var p = member.Score(samples);
            for (int i = 0; i < sum.Length; i++)
            {
                // Clamp so a saturated member (p = 0 or 1) gives a large finite logit, not ±∞.
                double q = Math.Clamp(p[i], 1e-12, 1 - 1e-12);
                sum[i] += Math.Log(q / (1 - q));
            }
        }
        return sum.Select(s => 1.0 / (1.0 + Math.Exp(-s / _members.Count))).ToArray();
    }

    public void Dispose()
    {
        foreach (var member in _members) (member as IDisposable)?.Dispose();
    }
}
