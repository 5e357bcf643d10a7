// Replay buffer in flat arrays (one row per transition), sampled uniformly with replacement into reusable
// batch arrays so an update allocates only its tensors. Optional per-transition bootstrap masks for BootDDQN.
namespace BonStudio.Training.RL.Agents;

public sealed class ReplayBuffer
{
    private readonly float[] _obs, _nextObs, _rewards, _terminals, _masks;
    private readonly long[] _actions;
    private int _next;

    /// <param name="capacity">Transitions kept (FIFO).</param>
    /// <param name="observationSize">Length of one observation.</param>
    /// <param name="maskSize">Bootstrap mask entries per transition (0 = none).</param>
    public ReplayBuffer(int capacity, int observationSize, int maskSize = 0)
    {
        if (capacity < 1) throw new ArgumentException($"replay capacity must be ≥ 1 (got {capacity}).");
        Capacity = capacity; ObservationSize = observationSize; MaskSize = maskSize;
        _obs = new float[(long)capacity * observationSize];
        _nextObs = new float[(long)capacity * observationSize];
        _rewards = new float[capacity]; _terminals = new float[capacity]; _actions = new long[capacity];
        _masks = new float[(long)capacity * maskSize];
    }

    public int Capacity { get; }
    public int ObservationSize { get; }
    public int MaskSize { get; }
    public int Count { get; private set; }

    public void Add(ReadOnlySpan<float> obs, int action, float reward, ReadOnlySpan<float> nextObs, bool terminal, ReadOnlySpan<float> mask = default)
    {
        if (obs.Length != ObservationSize || nextObs.Length != ObservationSize)
            throw new ArgumentException($"replay: observation length {obs.Length}/{nextObs.Length}, expected {ObservationSize}.");
        int i = _next;
        obs.CopyTo(_obs.AsSpan(i * ObservationSize, ObservationSize));
        nextObs.CopyTo(_nextObs.AsSpan(i * ObservationSize, ObservationSize));
        _actions[i] = action; _rewards[i] = reward; _terminals[i] = terminal ? 1f : 0f;
        if (MaskSize > 0) mask.CopyTo(_masks.AsSpan(i * MaskSize, MaskSize));
        _next = (_next + 1) % Capacity;
        Count = Math.Min(Count + 1, Capacity);
    }

    /// <summary>A sampled batch; the arrays are reused by the next <see cref="Sample"/> call.</summary>
    public sealed class Batch(int size, int obsSize, int maskSize)
    {
        public readonly int Size = size;
        public readonly float[] Obs = new float[size * obsSize], NextObs = new float[size * obsSize];
        public readonly float[] Rewards = new float[size], Terminals = new float[size], NotDone = new float[size];
        public readonly long[] Actions = new long[size];
        /// <summary>(MaskSize, Size): head-major, ready for an (M, B) tensor.</summary>
        public readonly float[] Masks = new float[maskSize * size];
    }

    private Batch? _batch;

    public Batch Sample(int batchSize, Random rng)
    {
        if (Count == 0) throw new InvalidOperationException("replay: cannot sample from an empty buffer.");
        if (_batch is null || _batch.Size != batchSize) _batch = new Batch(batchSize, ObservationSize, MaskSize);
        var b = _batch;
        for (int j = 0; j < batchSize; j++)
        {
            int i = rng.Next(Count);
            Array.Copy(_obs, (long)i * ObservationSize, b.Obs, (long)j * ObservationSize, ObservationSize);
            Array.Copy(_nextObs, (long)i * ObservationSize, b.NextObs, (long)j * ObservationSize, ObservationSize);
            b.Actions[j] = _actions[i]; b.Rewards[j] = _rewards[i]; b.Terminals[j] = _terminals[i]; b.NotDone[j] = 1f - _terminals[i];
            for (int m = 0; m < MaskSize; m++) b.Masks[m * batchSize + j] = _masks[(long)i * MaskSize + m];
        }
        return b;
    }
}
