// What the RL loop needs from an agent: act (exploring or greedy), learn from a transition, and the
// episode boundary (BootDDQN draws its head there). Agents own their replay buffer and optimiser.
using static TorchSharp.torch;

namespace BonStudio.Training.RL.Agents;

public interface IAgent : IDisposable
{
    /// <summary>"ddqn", "ddqn-bonus" or "bootddqn".</summary>
    string Name { get; }
    /// <summary>Called at the start of every data-collection episode.</summary>
    void BeginEpisode();
    /// <summary>The action to take while collecting data (explores).</summary>
    int Act(float[] observation);
    /// <summary>The greedy action used in evaluation episodes.</summary>
    int ActGreedy(float[] observation);
    /// <summary>Stores a transition and trains when due. Returns the TD loss of the update it ran, or NaN.</summary>
    double Observe(float[] observation, int action, float reward, float[] nextObservation, bool terminal);
    /// <summary>Gradient updates so far.</summary>
    long Updates { get; }
}

/// <summary>An agent that keeps an ensemble of Q-functions (for the ensemble-std uncertainty).</summary>
public interface IQEnsemble
{
    /// <summary>Q-values of every head: (B, obs) → (M, B, A), without gradients.</summary>
    Tensor HeadQValues(Tensor observations);
    Device Device { get; }
}

internal static class AgentUtil
{
    /// <summary>Index of the largest value; ties go to the lowest index.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>(1, obs) tensor on the device.</summary>
    public static Tensor Row(float[] observation, Device device) =>
        tensor(observation, [1, observation.Length]).to(device);
}
