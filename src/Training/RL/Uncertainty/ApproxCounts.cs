// Approximate counts: discretise the observation into bins, count visits of each (bin, action) and each bin,
// and report u = (n + λ)^(-1/2). For one-hot grid worlds the bins are exactly the states.
namespace BonStudio.Training.RL.Uncertainty;

/// <summary>Count-based uncertainty settings.</summary>
public sealed record ApproxCountsConfig
{
    /// <summary>λ: pseudo-count added before the inverse square root (u of an unseen state = λ^-1/2).</summary>
    public double Lambda { get; init; } = 1.0;
    /// <summary>Bins per unit of each observation coordinate (observations are floored after scaling).</summary>
    public double BinsPerUnit { get; init; } = 4.0;
}

public sealed class ApproxCounts(ApproxCountsConfig config, int actionCount) : IUncertainty
{
    private readonly Dictionary<ulong, int> _stateCounts = [];
    private readonly Dictionary<ulong, int> _stateActionCounts = [];

    public string Name => "counts";
    public bool ActionDependent => true;

    /// <summary>A 64-bit hash of the discretised observation (FNV-1a over the bin indices).</summary>
    public ulong Key(float[] observation)
    {
        ulong h = 14695981039346656037UL;
        foreach (var x in observation)
        {
            long bin = (long)Math.Floor(x * config.BinsPerUnit);
            h = (h ^ (ulong)bin) * 1099511628211UL;
        }
        return h;
    }

    private static ulong WithAction(ulong key, int action) => (key ^ (ulong)(action + 1) * 0x9E3779B97F4A7C15UL) * 1099511628211UL;

    private float U(int n) => (float)(1.0 / Math.Sqrt(n + config.Lambda));

    public int Count(float[] observation) => _stateCounts.GetValueOrDefault(Key(observation));

    public float[] StateAction(IReadOnlyList<float[]> observations)
    {
        var u = new float[observations.Count * actionCount];
        for (int i = 0; i < observations.Count; i++)
        {
            ulong k = Key(observations[i]);
            for (int a = 0; a < actionCount; a++) u[i * actionCount + a] = U(_stateActionCounts.GetValueOrDefault(WithAction(k, a)));
        }
        return u;
    }

    public float[] State(IReadOnlyList<float[]> observations)
    {
        var u = new float[observations.Count];
        for (int i = 0; i < u.Length; i++) u[i] = U(_stateCounts.GetValueOrDefault(Key(observations[i])));
        return u;
    }

    public void Observe(float[] observation, int action)
    {
        ulong k = Key(observation);
        _stateCounts[k] = _stateCounts.GetValueOrDefault(k) + 1;
        ulong ka = WithAction(k, action);
        _stateActionCounts[ka] = _stateActionCounts.GetValueOrDefault(ka) + 1;
    }

    public void Dispose() { }
}
