// Deep Sea (Osband et al., bsuite): an N×N grid where a random policy finds the only reward with
// probability 2^-N. Follows bsuite/environments/deep_sea.py: the agent starts top-left and moves down one
// row per step; in each cell a seeded coin decides which action index means "right"; "right" costs 0.01/N;
// moving right from the last column pays +1 (only possible on the last row), so the best return is 0.99.
// Stochastic ("windy") variant: "right" fails with probability 1/N and the two bottom corners add N(0,1)
// reward noise, exactly as bsuite. Observation: one-hot of (row, col), all zeros after the last step.
namespace BonStudio.Training.RL.Envs;

/// <summary>Deep Sea settings.</summary>
/// <param name="Size">N: the grid is N×N and every episode lasts N steps.</param>
/// <param name="Deterministic">False for the windy variant (right fails with probability 1/N, noisy end rewards).</param>
/// <param name="MoveCost">Unscaled cost of "right"; each right costs MoveCost/N (bsuite: 0.01).</param>
/// <param name="MappingSeed">Seed of the per-cell action mapping (bsuite's mapping_seed).</param>
/// <param name="RandomizeActions">False only for debugging: action 1 always means right.</param>
public sealed record DeepSeaConfig(int Size = 10, bool Deterministic = true, double MoveCost = 0.01, int MappingSeed = 0, bool RandomizeActions = true);

public sealed class DeepSea : IGridEnvironment
{
    private sealed record State(int Row, int Col, ulong Rng) : EnvSnapshot;

    private readonly DeepSeaConfig _config;
    private readonly bool[,] _rightIsOne; // per cell: does action 1 mean "right"?
    private SplitMix64 _rng;
    private int _row, _col;

    public DeepSea(DeepSeaConfig config, ulong seed)
    {
        if (config.Size < 2) throw new ArgumentException($"DeepSea Size must be ≥ 2 (got {config.Size}).");
        _config = config;
        _rng = new SplitMix64(seed);
        _rightIsOne = new bool[config.Size, config.Size];
        var mapping = new Random(config.MappingSeed);
        for (int r = 0; r < config.Size; r++)
            for (int c = 0; c < config.Size; c++)
                _rightIsOne[r, c] = !config.RandomizeActions || mapping.Next(2) == 1;
    }

    public string Name => "deepsea";
    public int Size => _config.Size;
    public int ObservationSize => Size * Size;
    public int ActionCount => 2;
    public int GridRows => Size;
    public int GridCols => Size;
    public (int Row, int Col) StateKey => (_row, _col);
    /// <summary>Best achievable expected return (bsuite's optimal_return).</summary>
    public double OptimalReturn => (_config.Deterministic ? 1.0 : Math.Pow(1 - 1.0 / Size, Size - 1)) - _config.MoveCost;

    /// <summary>The action index that means "right" in a cell.</summary>
    public int RightAction(int row, int col) => _rightIsOne[row, col] ? 1 : 0;

    public float[] Reset()
    {
        _row = 0; _col = 0;
        return Observation();
    }

    public StepResult Step(int action)
    {
        int n = Size;
        if (_row >= n) throw new InvalidOperationException("DeepSea.Step called after the episode ended; call Reset or Restore.");
        if ((uint)action > 1) throw new ArgumentOutOfRangeException(nameof(action), $"DeepSea action must be 0 or 1 (got {action}).");
        bool right = action == RightAction(_row, _col);
        double reward = 0;
        if (_col == n - 1 && right) reward += 1.0;
        if (!_config.Deterministic && _row == n - 1 && (_col == 0 || _col == n - 1)) reward += _rng.NextGaussian();
        if (right)
        {
            // bsuite draws the wind only in the stochastic variant.
            if (_config.Deterministic || _rng.NextDouble() > 1.0 / n) _col = Math.Min(_col + 1, n - 1);
            reward -= _config.MoveCost / n;
        }
        else _col = Math.Max(_col - 1, 0);
        _row++;
        return new StepResult(Observation(), (float)reward, _row == n);
    }

    public float[] Observation()
    {
        var obs = new float[Size * Size];
        if (_row < Size) obs[_row * Size + _col] = 1f;
        return obs;
    }

    public float[]? ObservationAt(int row, int col)
    {
        if (col > row) return null; // unreachable: the column never exceeds the row
        var obs = new float[Size * Size];
        obs[row * Size + col] = 1f;
        return obs;
    }

    public EnvSnapshot Snapshot() => new State(_row, _col, _rng.State);

    public void Restore(EnvSnapshot snapshot)
    {
        if (snapshot is not State s) throw new ArgumentException($"DeepSea cannot restore a {snapshot.GetType().Name}.");
        (_row, _col, _rng.State) = (s.Row, s.Col, s.Rng);
    }
}
