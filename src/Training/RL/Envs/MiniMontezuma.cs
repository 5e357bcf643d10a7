// A small Montezuma's-Revenge-like world: four rooms, a key at the far end of a lava-lined bridge, a locked
// door, and treasure behind it. Rewards are sparse (key +1, opening the door +1, treasure +1 and the episode
// ends); stepping on lava ends the episode. A uniformly random policy practically never reaches the treasure
// (see the tests), so it needs deep exploration — or UFLP's restarts from uncertain states.
// Observation: one-hot position over the whole map, then [has key, door open, key taken].
// The time limit counts steps since the last Reset or Restore: time is not in the observation, so a restored
// state (UFLP) starts with a fresh budget instead of inheriting one that may be about to run out.
namespace BonStudio.Training.RL.Envs;

/// <summary>Mini Montezuma settings.</summary>
/// <param name="MaxSteps">Episode time limit in steps since Reset or Restore (a truncation).</param>
/// <param name="StickyActionProbability">Chance the previous action repeats instead of the chosen one (0 = deterministic).</param>
public sealed record MiniMontezumaConfig(int MaxSteps = 200, double StickyActionProbability = 0.0);

public sealed class MiniMontezuma : IGridEnvironment
{
    private sealed record State(int Row, int Col, bool HasKey, bool DoorOpen, bool KeyTaken, int LastAction, bool Ended, ulong Rng) : EnvSnapshot;

    // S start, K key, D door, T treasure, ~ lava, # wall. Rooms: start (left); bridge room (the key sits at the end of
    // a one-cell bridge between lava; the way on is back down past it); hall; vault (treasure, behind the door).
    public static readonly string[] Map =
    [
        "###########################",
        "#.....#~~~~~~~~~#.....#...#",
        "#.....#~~~~~~~~~#.....#.T.#",
        "#S.............K#.....D...#",
        "#.....#~~~~~~~~.#.....#...#",
        "#.....#.........#.....#...#",
        "#.....#.........#.....#...#",
        "#.....#...............#...#",
        "###########################",
    ];

    private static readonly (int Dr, int Dc)[] Moves = [(-1, 0), (1, 0), (0, -1), (0, 1)]; // up, down, left, right
    private readonly MiniMontezumaConfig _config;
    private readonly int _rows = Map.Length, _cols = Map[0].Length;
    private readonly (int Row, int Col) _start;
    private SplitMix64 _rng;
    private int _row, _col, _t, _lastAction;
    private bool _hasKey, _doorOpen, _keyTaken, _ended = true;

    public MiniMontezuma(MiniMontezumaConfig config, ulong seed)
    {
        _config = config;
        _rng = new SplitMix64(seed);
        _start = Find('S');
    }

    public string Name => "montezuma";
    public int ObservationSize => _rows * _cols + 3;
    public int ActionCount => 4;
    public int GridRows => _rows;
    public int GridCols => _cols;
    public (int Row, int Col) StateKey => (_row, _col);
    /// <summary>True after the last step reached the treasure.</summary>
    public bool Solved { get; private set; }

    public static (int Row, int Col) Find(char tile)
    {
        for (int r = 0; r < Map.Length; r++)
        {
            int c = Map[r].IndexOf(tile);
            if (c >= 0) return (r, c);
        }
        throw new InvalidOperationException($"MiniMontezuma map has no '{tile}'.");
    }

    public float[] Reset()
    {
        (_row, _col) = _start;
        _hasKey = _doorOpen = _keyTaken = _ended = Solved = false;
        _t = 0; _lastAction = 0;
        return Observation();
    }

    public StepResult Step(int action)
    {
        if (_ended) throw new InvalidOperationException("MiniMontezuma.Step called after the episode ended; call Reset or Restore.");
        if ((uint)action > 3) throw new ArgumentOutOfRangeException(nameof(action), $"MiniMontezuma action must be 0..3 (got {action}).");
        if (_config.StickyActionProbability > 0 && _rng.NextDouble() < _config.StickyActionProbability) action = _lastAction;
        _lastAction = action;
        _t++;
        float reward = 0;
        int r = _row + Moves[action].Dr, c = _col + Moves[action].Dc;
        char tile = Map[r][c];
        bool blocked = tile == '#' || (tile == 'D' && !_doorOpen && !_hasKey);
        if (tile == 'D' && !_doorOpen && _hasKey) { _doorOpen = true; _hasKey = false; reward += 1; }
        if (!blocked) (_row, _col) = (r, c);
        tile = Map[_row][_col];
        if (tile == 'K' && !_keyTaken) { _keyTaken = true; _hasKey = true; reward += 1; }
        bool terminal = false;
        if (tile == '~') terminal = true;
        if (tile == 'T') { terminal = true; Solved = true; reward += 1; }
        bool timeUp = _t >= _config.MaxSteps;
        _ended = terminal || timeUp;
        return new StepResult(Observation(), reward, _ended, Truncated: timeUp && !terminal);
    }

    public float[] Observation() => ObservationOf(_row, _col, _hasKey, _doorOpen, _keyTaken);

    private float[] ObservationOf(int row, int col, bool hasKey, bool doorOpen, bool keyTaken)
    {
        var obs = new float[ObservationSize];
        obs[row * _cols + col] = 1f;
        int k = _rows * _cols;
        obs[k] = hasKey ? 1f : 0f; obs[k + 1] = doorOpen ? 1f : 0f; obs[k + 2] = keyTaken ? 1f : 0f;
        return obs;
    }

    /// <summary>The cell with the current inventory (heatmaps show the uncertainty at today's progress).</summary>
    public float[]? ObservationAt(int row, int col) =>
        Map[row][col] is '#' or '~' ? null : ObservationOf(row, col, _hasKey, _doorOpen, _keyTaken);

    public EnvSnapshot Snapshot() => new State(_row, _col, _hasKey, _doorOpen, _keyTaken, _lastAction, _ended, _rng.State);

    public void Restore(EnvSnapshot snapshot)
    {
        if (snapshot is not State s) throw new ArgumentException($"MiniMontezuma cannot restore a {snapshot.GetType().Name}.");
        (_row, _col, _hasKey, _doorOpen, _keyTaken, _lastAction, _ended, _rng.State) =
            (s.Row, s.Col, s.HasKey, s.DoorOpen, s.KeyTaken, s.LastAction, s.Ended, s.Rng);
        _t = 0; // a fresh time budget (see the header)
        Solved = false;
    }
}
