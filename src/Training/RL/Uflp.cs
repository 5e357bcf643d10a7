// Uncertainty-first local planning (UFLP; "Sample Efficient Deep Reinforcement Learning via Local Planning",
// methods.md §4). Keeps a FIFO history H of restorable snapshots of visited states, separate from the replay
// buffer. Each data-collection episode starts, with probability p_init (or when H is empty), from the initial
// distribution; otherwise from the most uncertain of B entries of H: (s0, a0) = argmax u(s, a) over the batch
// and every action (state-action form) or s0 = argmax u(s) with a0 uniform (state form).
using BonStudio.Training.RL.Envs;
using BonStudio.Training.RL.Uncertainty;

namespace BonStudio.Training.RL;

/// <summary>How UFLP picks the start of a restarted episode.</summary>
public enum UflpSelection
{
    /// <summary>(s0, a0) = argmax over the batch and every action of u(s, a).</summary>
    StateAction,
    /// <summary>s0 = argmax over the batch of u(s); a0 uniform.</summary>
    State,
}

/// <summary>UFLP settings.</summary>
public sealed record UflpConfig
{
    /// <summary>Probability of starting an episode from the initial distribution (1 = ordinary online RL).</summary>
    public double PInit { get; init; } = 0.1;
    /// <summary>B: history entries drawn per restart; 0 (or ≥ |H|) means all of H.</summary>
    public int BatchSize { get; init; } = 0;
    /// <summary>C: snapshots the history keeps (FIFO).</summary>
    public int Capacity { get; init; } = 10_000;
    /// <summary>State-action or state selection.</summary>
    public UflpSelection Selection { get; init; } = UflpSelection.StateAction;
}

/// <summary>How an episode started.</summary>
/// <param name="FromInitial">True when it started from the initial distribution (a reset).</param>
/// <param name="Snapshot">The state to restore (null when FromInitial).</param>
/// <param name="Observation">Its observation (null when FromInitial).</param>
/// <param name="StateKey">Its grid cell, for grid worlds.</param>
/// <param name="FirstAction">a0 to take from it (null when FromInitial).</param>
/// <param name="Uncertainty">u(s0, a0) (state-action form) or u(s0) (state form); NaN when FromInitial.</param>
/// <param name="Candidates">Distinct states the argmax was taken over.</param>
public sealed record UflpStart(bool FromInitial, EnvSnapshot? Snapshot, float[]? Observation, (int Row, int Col)? StateKey,
    int? FirstAction, double Uncertainty, int Candidates)
{
    public static readonly UflpStart Initial = new(true, null, null, null, null, double.NaN, 0);
}

/// <summary>
/// The history H: a FIFO ring of snapshots with their observations. Identical observations have identical
/// uncertainty, so it also keeps one representative (the newest) per distinct observation, which makes
/// "B = all" cost one uncertainty evaluation per distinct state rather than per entry.
/// </summary>
public sealed class HistoryBuffer(int capacity)
{
    public readonly record struct Entry(EnvSnapshot Snapshot, float[] Observation, (int Row, int Col)? StateKey, ulong Hash);

    private readonly Entry[] _ring = new Entry[Math.Max(1, capacity)];
    private readonly Dictionary<ulong, (int Count, int Newest)> _distinct = [];
    private int _next;

    public int Capacity => _ring.Length;
    public int Count { get; private set; }
    /// <summary>Entry i, 0 = oldest.</summary>
    public Entry this[int i] => _ring[(_next - Count + i + 2 * Capacity) % Capacity];
    /// <summary>Number of distinct observations currently in H.</summary>
    public int DistinctCount => _distinct.Count;

    public void Add(EnvSnapshot snapshot, float[] observation, (int Row, int Col)? stateKey)
    {
        if (Count == Capacity) // evict the oldest
        {
            var old = _ring[_next];
            var (n, newest) = _distinct[old.Hash];
            if (n == 1) _distinct.Remove(old.Hash); else _distinct[old.Hash] = (n - 1, newest);
        }
        else Count++;
        ulong h = Hash(observation);
        _ring[_next] = new Entry(snapshot, observation, stateKey, h);
        _distinct[h] = (_distinct.GetValueOrDefault(h).Count + 1, _next);
        _next = (_next + 1) % Capacity;
    }

    /// <summary>Ring slots of one representative per distinct observation.</summary>
    public IEnumerable<Entry> DistinctEntries() => _distinct.Values.Select(v => _ring[v.Newest]);

    /// <summary>64-bit FNV-1a hash of the observation's bits (a collision between different states is ~2^-64).</summary>
    public static ulong Hash(float[] observation)
    {
        ulong h = 14695981039346656037UL;
        foreach (var x in observation) h = (h ^ BitConverter.SingleToUInt32Bits(x)) * 1099511628211UL;
        return h;
    }
}

public sealed class Uflp
{
    private readonly UflpConfig _config;
    private readonly IUncertainty _uncertainty;
    private readonly int _actionCount;
    private readonly Random _rng;
    private int[] _indices = [];

    /// <param name="rng">UFLP's own seeded RNG (p_init coin, batch draws, uniform a0).</param>
    public Uflp(UflpConfig config, IUncertainty uncertainty, int actionCount, Random rng)
    {
        if (config.PInit is < 0 or > 1) throw new ArgumentException($"UFLP PInit must be in [0, 1] (got {config.PInit}).");
        if (config.BatchSize < 0) throw new ArgumentException($"UFLP BatchSize must be ≥ 0, 0 = all (got {config.BatchSize}).");
        if (config.Capacity < 1) throw new ArgumentException($"UFLP Capacity must be ≥ 1 (got {config.Capacity}).");
        _config = config; _uncertainty = uncertainty; _actionCount = actionCount; _rng = rng;
        History = new HistoryBuffer(config.Capacity);
    }

    public HistoryBuffer History { get; }
    public UflpConfig Config => _config;

    /// <summary>Decides where the next data-collection episode starts.</summary>
    public UflpStart ChooseStart()
    {
        if (History.Count == 0 || _rng.NextDouble() < _config.PInit) return UflpStart.Initial;
        return SelectFrom(DrawBatch());
    }

    /// <summary>B entries of H (all when B = 0 or B ≥ |H|), one per distinct observation.</summary>
    private List<HistoryBuffer.Entry> DrawBatch()
    {
        int b = _config.BatchSize;
        if (b == 0 || b >= History.Count) return History.DistinctEntries().ToList();
        if (_indices.Length < History.Count) _indices = new int[History.Capacity];
        for (int i = 0; i < History.Count; i++) _indices[i] = i;
        var batch = new List<HistoryBuffer.Entry>(b);
        var seen = new HashSet<ulong>();
        for (int i = 0; i < b; i++) // partial Fisher–Yates: b draws without replacement
        {
            int j = i + _rng.Next(History.Count - i);
            (_indices[i], _indices[j]) = (_indices[j], _indices[i]);
            var e = History[_indices[i]];
            if (seen.Add(e.Hash)) batch.Add(e);
        }
        return batch;
    }

    /// <summary>The argmax-uncertainty start among <paramref name="batch"/> (public for tests).</summary>
    public UflpStart SelectFrom(IReadOnlyList<HistoryBuffer.Entry> batch)
    {
        if (batch.Count == 0) return UflpStart.Initial;
        var observations = batch.Select(e => e.Observation).ToList();
        bool byAction = _config.Selection == UflpSelection.StateAction && _uncertainty.ActionDependent;
        int best = 0, bestAction;
        double bestU;
        if (byAction)
        {
            var u = _uncertainty.StateAction(observations); // (B, A)
            int arg = 0;
            for (int i = 1; i < u.Length; i++) if (u[i] > u[arg]) arg = i;
            (best, bestAction, bestU) = (arg / _actionCount, arg % _actionCount, u[arg]);
        }
        else
        {
            var u = _uncertainty.State(observations); // (B)
            for (int i = 1; i < u.Length; i++) if (u[i] > u[best]) best = i;
            (bestAction, bestU) = (_rng.Next(_actionCount), u[best]);
        }
        var e = batch[best];
        return new UflpStart(false, e.Snapshot, e.Observation, e.StateKey, bestAction, bestU, batch.Count);
    }
}
