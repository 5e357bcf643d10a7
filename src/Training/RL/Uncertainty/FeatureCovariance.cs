// Feature-covariance (elliptical, LinUCB-style) uncertainty: u(s, a) = sqrt(φᵀ (λI + Σ φφᵀ)^-1 φ), with one
// inverse Gram matrix per action kept up to date by Sherman–Morrison rank-one updates. φ is the observation
// itself (one-hot grid worlds make this exactly a count) or, for low-dimensional continuous observations,
// fixed random Fourier features. Updates skip zero entries, so sparse features stay cheap.
namespace BonStudio.Training.RL.Uncertainty;

/// <summary>Feature-covariance settings.</summary>
public sealed record FeatureCovarianceConfig
{
    /// <summary>λ: ridge on the Gram matrix (u of an unseen direction = λ^-1/2).</summary>
    public double Lambda { get; init; } = 1.0;
    /// <summary>0 = use the raw observation as φ; otherwise this many random Fourier features cos(Wx + b).</summary>
    public int RandomFeatures { get; init; } = 0;
    /// <summary>Scale of the random Fourier frequencies (larger = more local features).</summary>
    public double Bandwidth { get; init; } = 2.0;
    /// <summary>Seed of the random features.</summary>
    public int Seed { get; init; } = 0;
}

public sealed class FeatureCovariance : IUncertainty
{
    private readonly FeatureCovarianceConfig _config;
    private readonly int _actions, _inputs, _dim;
    private readonly double[][] _inverse;   // per action: (d, d) row-major inverse Gram matrix
    private readonly double[]? _w, _b;       // random Fourier features: (d, inputs), (d)
    private readonly double[] _v;
    private readonly List<int> _nonZero = [];

    public FeatureCovariance(FeatureCovarianceConfig config, int observationSize, int actionCount)
    {
        if (config.Lambda <= 0) throw new ArgumentException($"FeatureCovariance Lambda must be > 0 (got {config.Lambda}).");
        _config = config; _actions = actionCount; _inputs = observationSize;
        _dim = config.RandomFeatures > 0 ? config.RandomFeatures : observationSize;
        if ((long)_dim * _dim * actionCount > 50_000_000)
            throw new ArgumentException($"FeatureCovariance: {_dim} features × {actionCount} actions is too large; set RandomFeatures.");
        if (config.RandomFeatures > 0)
        {
            var rng = new Random(config.Seed);
            _w = new double[_dim * _inputs]; _b = new double[_dim];
            for (int i = 0; i < _w.Length; i++) _w[i] = config.Bandwidth * Gaussian(rng);
            for (int i = 0; i < _dim; i++) _b[i] = 2 * Math.PI * rng.NextDouble();
        }
        _inverse = new double[actionCount][];
        for (int a = 0; a < actionCount; a++)
        {
            _inverse[a] = new double[_dim * _dim];
            for (int i = 0; i < _dim; i++) _inverse[a][i * _dim + i] = 1.0 / config.Lambda;
        }
        _v = new double[_dim];
    }

    public string Name => "covariance";
    public bool ActionDependent => true;

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private double[] Features(float[] observation)
    {
        var phi = new double[_dim];
        if (_w is null) { for (int i = 0; i < _dim; i++) phi[i] = observation[i]; return phi; }
        double norm = Math.Sqrt(2.0 / _dim);
        for (int j = 0; j < _dim; j++)
        {
            double z = _b![j];
            for (int i = 0; i < _inputs; i++) z += _w[j * _inputs + i] * observation[i];
            phi[j] = norm * Math.Cos(z);
        }
        return phi;
    }

    /// <summary>v = A⁻¹ φ using only φ's non-zero entries; returns φᵀ A⁻¹ φ.</summary>
    private double Solve(double[] inverse, double[] phi)
    {
        _nonZero.Clear();
        for (int i = 0; i < _dim; i++) if (phi[i] != 0) _nonZero.Add(i);
        Array.Clear(_v);
        foreach (int j in _nonZero)
        {
            double p = phi[j];
            for (int i = 0; i < _dim; i++) _v[i] += inverse[i * _dim + j] * p; // A⁻¹ is symmetric
        }
        double quad = 0;
        foreach (int j in _nonZero) quad += phi[j] * _v[j];
        return quad;
    }

    public float[] StateAction(IReadOnlyList<float[]> observations)
    {
        var u = new float[observations.Count * _actions];
        for (int k = 0; k < observations.Count; k++)
        {
            var phi = Features(observations[k]);
            for (int a = 0; a < _actions; a++) u[k * _actions + a] = (float)Math.Sqrt(Math.Max(0, Solve(_inverse[a], phi)));
        }
        return u;
    }

    /// <summary>u(s) = mean over actions of u(s, a).</summary>
    public float[] State(IReadOnlyList<float[]> observations)
    {
        var sa = StateAction(observations);
        var u = new float[observations.Count];
        for (int k = 0; k < u.Length; k++)
        {
            double s = 0;
            for (int a = 0; a < _actions; a++) s += sa[k * _actions + a];
            u[k] = (float)(s / _actions);
        }
        return u;
    }

    /// <summary>Sherman–Morrison: A⁻¹ ← A⁻¹ − (A⁻¹φ)(A⁻¹φ)ᵀ / (1 + φᵀA⁻¹φ).</summary>
    public void Observe(float[] observation, int action)
    {
        var inverse = _inverse[action];
        double quad = Solve(inverse, Features(observation));
        double scale = 1.0 / (1.0 + quad);
        _nonZero.Clear();
        for (int i = 0; i < _dim; i++) if (_v[i] != 0) _nonZero.Add(i);
        foreach (int i in _nonZero)
        {
            double vi = _v[i] * scale;
            foreach (int j in _nonZero) inverse[i * _dim + j] -= vi * _v[j];
        }
    }

    public void Dispose() { }
}
