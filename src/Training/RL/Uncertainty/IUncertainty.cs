// One interface for every uncertainty measure UFLP and DDQN-Bonus can use (methods.md §4): batched u(s) and
// u(s, a), plus the visit stream the measure learns from. Larger = less known = more worth exploring.
namespace BonStudio.Training.RL.Uncertainty;

public interface IUncertainty : IDisposable
{
    /// <summary>"ensemble", "covariance", "counts" or "rnd".</summary>
    string Name { get; }
    /// <summary>False when u(s, a) is the same for every action (e.g. RND): UFLP then picks a0 uniformly.</summary>
    bool ActionDependent { get; }
    /// <summary>u(s, a) for a batch, row-major (B, A).</summary>
    float[] StateAction(IReadOnlyList<float[]> observations);
    /// <summary>u(s) for a batch, (B).</summary>
    float[] State(IReadOnlyList<float[]> observations);
    /// <summary>One visit: the agent was in <paramref name="observation"/> and took <paramref name="action"/>.</summary>
    void Observe(float[] observation, int action);
}

/// <summary>Builds a measure by name.</summary>
public static class UncertaintyFactory
{
    public static readonly string[] Names = ["ensemble", "covariance", "counts", "rnd"];
}
