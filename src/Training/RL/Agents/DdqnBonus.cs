// DDQN-Bonus: double DQN that explores by acting greedily on Q(s, a) + c·u(s, a), where u is any uncertainty
// measure (counts, feature covariance, RND). Learning is plain DDQN; only acting changes (methods.md §4).
using BonStudio.Training.RL.Uncertainty;
using static TorchSharp.torch;

namespace BonStudio.Training.RL.Agents;

/// <summary>DDQN-Bonus hyperparameters on top of <see cref="DdqnConfig"/>.</summary>
public sealed record DdqnBonusConfig
{
    /// <summary>The DDQN learner (ε is normally 0 here: the bonus explores).</summary>
    public DdqnConfig Ddqn { get; init; } = new() { EpsilonStart = 0.0, EpsilonEnd = 0.0 };
    /// <summary>c: weight of the uncertainty bonus when acting.</summary>
    public double BonusScale { get; init; } = 1.0;
}

public sealed class DdqnBonus(DdqnBonusConfig config, int observationSize, int actionCount, Device device, Random rng, IUncertainty uncertainty)
    : Ddqn(config.Ddqn, observationSize, actionCount, device, rng)
{
    public override string Name => "ddqn-bonus";

    public override int Act(float[] observation)
    {
        if (Rng.NextDouble() < Epsilon) return Rng.Next(ActionCount);
        var q = QValues(observation);
        var u = uncertainty.StateAction([observation]); // (1, A) flattened
        for (int a = 0; a < q.Length; a++) q[a] += (float)(config.BonusScale * u[a]);
        return AgentUtil.ArgMax(q);
    }
}
