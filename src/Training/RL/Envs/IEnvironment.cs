// The environment contract UFLP needs: ordinary Reset/Step plus Snapshot/Restore of the complete simulator
// state (including the environment's own random number generator), so a restored state replays the exact
// same future given the same actions. Definitions: docs methods.md §4.
namespace BonStudio.Training.RL.Envs;

/// <summary>The result of one simulator step.</summary>
/// <param name="Observation">Observation after the step (a fresh array the caller may keep).</param>
/// <param name="Reward">Reward for the step.</param>
/// <param name="Done">True when the episode ended (terminal state or time limit).</param>
/// <param name="Truncated">True when it ended only because of a time limit (value bootstrapping continues).</param>
public readonly record struct StepResult(float[] Observation, float Reward, bool Done, bool Truncated = false);

/// <summary>An opaque, immutable copy of an environment's full state. Each environment defines its own.</summary>
public abstract record EnvSnapshot;

/// <summary>A resettable, restorable simulator with discrete actions and a flat float observation.</summary>
public interface IEnvironment
{
    /// <summary>Short name, e.g. "deepsea".</summary>
    string Name { get; }
    /// <summary>Length of every observation vector.</summary>
    int ObservationSize { get; }
    /// <summary>Number of discrete actions (0 .. ActionCount-1).</summary>
    int ActionCount { get; }
    /// <summary>Starts a new episode from the initial distribution; returns the first observation.</summary>
    float[] Reset();
    /// <summary>Applies one action. Calling Step after Done is an error.</summary>
    StepResult Step(int action);
    /// <summary>The current observation (a fresh array).</summary>
    float[] Observation();
    /// <summary>Copies the complete state, including the environment's RNG.</summary>
    EnvSnapshot Snapshot();
    /// <summary>Returns to a state produced by <see cref="Snapshot"/> of an environment built with the same settings.</summary>
    void Restore(EnvSnapshot snapshot);
}

/// <summary>Environments laid out on a grid: a (row, col) key per state, for visitation and uncertainty heatmaps.</summary>
public interface IGridEnvironment : IEnvironment
{
    int GridRows { get; }
    int GridCols { get; }
    /// <summary>The cell the agent is in now.</summary>
    (int Row, int Col) StateKey { get; }
    /// <summary>A representative observation of the agent standing in a cell (null for walls / unreachable cells).</summary>
    float[]? ObservationAt(int row, int col);
}

/// <summary>
/// A tiny random number generator whose whole state is one <see cref="ulong"/> (SplitMix64), so environments
/// can put it in a snapshot. Not for cryptography.
/// </summary>
public struct SplitMix64(ulong state)
{
    public ulong State = state;

    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

/// <summary>Builds environments by name; the single place that knows every environment.</summary>
public static class EnvFactory
{
    public static readonly string[] Names = ["deepsea", "cartpole", "montezuma"];

    /// <param name="name">deepsea, cartpole or montezuma.</param>
    /// <param name="size">Deep Sea: N. Others: ignored (0).</param>
    /// <param name="stochastic">Deep Sea: windy transitions + noisy end rewards. Cartpole: ignored. Montezuma: sticky actions.</param>
    /// <param name="seed">Seed for the environment's RNG.</param>
    /// <param name="mappingSeed">Deep Sea's action-mapping seed.</param>
    public static IEnvironment Create(string name, int size, bool stochastic, ulong seed, int mappingSeed) => name switch
    {
        "deepsea" => new DeepSea(new DeepSeaConfig(size, !stochastic, MappingSeed: mappingSeed), seed),
        "cartpole" => new CartpoleSwingUp(new CartpoleSwingUpConfig(), seed),
        "montezuma" => new MiniMontezuma(new MiniMontezumaConfig(StickyActionProbability: stochastic ? 0.25 : 0.0), seed),
        _ => throw new ArgumentException($"env '{name}' is not one of {string.Join(", ", Names)}."),
    };
}
