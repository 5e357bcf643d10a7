// Cartpole swing-up (bsuite's cartpole_swingup, after Barto et al.'s cart-pole physics): the pole starts
// hanging down and must be swung up and balanced. Continuous physics (Euler, dt = 0.01 s), three discrete
// actions (push left, no push, push right). Hard sparse-reward variant: reward 1 only while the pole is near
// upright (cos θ > HeightThreshold) and the cart near the centre (|x| < CenterThreshold), minus a small cost
// for every push; leaving the track (|x| > TrackLimit) ends the episode.
namespace BonStudio.Training.RL.Envs;

/// <summary>Cartpole swing-up settings.</summary>
/// <param name="HeightThreshold">Reward only while cos θ exceeds this (0.9 ≈ within 26° of upright; the hard variant).</param>
/// <param name="CenterThreshold">Reward only while |x| is below this (metres).</param>
/// <param name="MoveCost">Cost of every push (actions 0 and 2).</param>
/// <param name="MaxSteps">Episode length in steps (time limit; a truncation, not a terminal state).</param>
/// <param name="TimeStep">Integration step in seconds.</param>
/// <param name="ForceMagnitude">Push force in newtons.</param>
/// <param name="TrackLimit">|x| beyond this ends the episode.</param>
/// <param name="InitNoise">Uniform noise on the initial state (the pole starts at θ = π ± noise).</param>
/// <param name="Sparse">False gives a dense shaped reward (1 + cos θ)/2 for debugging.</param>
public sealed record CartpoleSwingUpConfig(
    double HeightThreshold = 0.9, double CenterThreshold = 1.0, double MoveCost = 0.01, int MaxSteps = 1000,
    double TimeStep = 0.01, double ForceMagnitude = 10.0, double TrackLimit = 3.0, double InitNoise = 0.05, bool Sparse = true);

public sealed class CartpoleSwingUp(CartpoleSwingUpConfig config, ulong seed) : IEnvironment
{
    private sealed record State(double X, double XDot, double Theta, double ThetaDot, int T, bool Ended, ulong Rng) : EnvSnapshot;

    // Physical constants of the classic cart-pole.
    private const double Gravity = 9.8, CartMass = 1.0, PoleMass = 0.1, HalfPoleLength = 0.5;
    private const double TotalMass = CartMass + PoleMass, PoleMassLength = PoleMass * HalfPoleLength;

    private SplitMix64 _rng = new(seed);
    private double _x, _xDot, _theta, _thetaDot;
    private int _t;
    private bool _ended = true;

    public string Name => "cartpole";
    public int ObservationSize => 6;
    public int ActionCount => 3;
    public CartpoleSwingUpConfig Config => config;

    public float[] Reset()
    {
        double Noise() => (2 * _rng.NextDouble() - 1) * config.InitNoise;
        _x = Noise(); _xDot = Noise(); _theta = Math.PI + Noise(); _thetaDot = Noise();
        _t = 0; _ended = false;
        return Observation();
    }

    public StepResult Step(int action)
    {
        if (_ended) throw new InvalidOperationException("CartpoleSwingUp.Step called after the episode ended; call Reset or Restore.");
        if ((uint)action > 2) throw new ArgumentOutOfRangeException(nameof(action), $"CartpoleSwingUp action must be 0, 1 or 2 (got {action}).");
        double force = (action - 1) * config.ForceMagnitude;
        double cos = Math.Cos(_theta), sin = Math.Sin(_theta);
        double temp = (force + PoleMassLength * _thetaDot * _thetaDot * sin) / TotalMass;
        double thetaAcc = (Gravity * sin - cos * temp) / (HalfPoleLength * (4.0 / 3.0 - PoleMass * cos * cos / TotalMass));
        double xAcc = temp - PoleMassLength * thetaAcc * cos / TotalMass;
        double dt = config.TimeStep;
        _x += dt * _xDot; _xDot += dt * xAcc;
        _theta += dt * _thetaDot; _thetaDot += dt * thetaAcc;
        _theta = Math.IEEERemainder(_theta, 2 * Math.PI); // keep θ in [-π, π]
        _t++;

        double reward;
        if (config.Sparse) reward = Math.Cos(_theta) > config.HeightThreshold && Math.Abs(_x) < config.CenterThreshold ? 1.0 : 0.0;
        else reward = (1 + Math.Cos(_theta)) / 2;
        if (action != 1) reward -= config.MoveCost;

        bool offTrack = Math.Abs(_x) > config.TrackLimit;
        bool timeUp = _t >= config.MaxSteps;
        _ended = offTrack || timeUp;
        return new StepResult(Observation(), (float)reward, _ended, Truncated: timeUp && !offTrack);
    }

    public float[] Observation() =>
        [(float)_x, (float)_xDot, (float)Math.Sin(_theta), (float)Math.Cos(_theta), (float)_thetaDot, (float)(1.0 - (double)_t / config.MaxSteps)];

    public EnvSnapshot Snapshot() => new State(_x, _xDot, _theta, _thetaDot, _t, _ended, _rng.State);

    public void Restore(EnvSnapshot snapshot)
    {
        if (snapshot is not State s) throw new ArgumentException($"CartpoleSwingUp cannot restore a {snapshot.GetType().Name}.");
        (_x, _xDot, _theta, _thetaDot, _t, _ended, _rng.State) = (s.X, s.XDot, s.Theta, s.ThetaDot, s.T, s.Ended, s.Rng);
    }
}
