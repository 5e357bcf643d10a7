// Double DQN (van Hasselt et al. 2016) with ε-greedy exploration, CleanRL-style in one file: config record,
// Q-network, agent. The online network picks the next action, the target network values it.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BonStudio.Training.RL.Agents;

/// <summary>DDQN hyperparameters.</summary>
public sealed record DdqnConfig
{
    /// <summary>Units in each of the two hidden layers.</summary>
    public int Hidden { get; init; } = 64;
    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Discount factor γ.</summary>
    public double Gamma { get; init; } = 0.99;
    /// <summary>Transitions per gradient update.</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Transitions the replay buffer keeps.</summary>
    public int ReplayCapacity { get; init; } = 100_000;
    /// <summary>Transitions collected before the first update.</summary>
    public int LearningStarts { get; init; } = 256;
    /// <summary>One gradient update every this many transitions.</summary>
    public int TrainEvery { get; init; } = 1;
    /// <summary>Copy the online network to the target network every this many updates.</summary>
    public int TargetSyncEvery { get; init; } = 4;
    /// <summary>ε at the start of training.</summary>
    public double EpsilonStart { get; init; } = 1.0;
    /// <summary>ε after the decay.</summary>
    public double EpsilonEnd { get; init; } = 0.05;
    /// <summary>Transitions over which ε decays linearly.</summary>
    public long EpsilonDecaySteps { get; init; } = 50_000;
}

/// <summary>The Q-network: obs → hidden → hidden → one value per action.</summary>
public sealed class QNetwork : Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public QNetwork(int observationSize, int hidden, int actions) : base(nameof(QNetwork))
    {
        layers = Sequential(Linear(observationSize, hidden), ReLU(), Linear(hidden, hidden), ReLU(), Linear(hidden, actions));
        RegisterComponents();
    }

    public override Tensor forward(Tensor observations) => layers.call(observations); // (B, obs) → (B, A)
}

public class Ddqn : IAgent
{
    protected readonly DdqnConfig Config;
    protected readonly QNetwork Online, Target;
    protected readonly Device DeviceUsed;
    protected readonly Random Rng;
    protected readonly int ActionCount;
    private readonly RlAdam _optimizer;
    private readonly ReplayBuffer _replay;
    private readonly Scalar _gamma;
    private long _transitions;

    /// <param name="rng">The agent's own seeded RNG (ε draws, replay sampling).</param>
    public Ddqn(DdqnConfig config, int observationSize, int actionCount, Device device, Random rng)
    {
        Config = config; DeviceUsed = device; Rng = rng; ActionCount = actionCount;
        Online = new QNetwork(observationSize, config.Hidden, actionCount).to(device);
        Target = new QNetwork(observationSize, config.Hidden, actionCount).to(device);
        Target.load_state_dict(Online.state_dict());
        _optimizer = new RlAdam(Online.parameters(), config.LearningRate);
        _replay = new ReplayBuffer(config.ReplayCapacity, observationSize);
        _gamma = config.Gamma.ToScalar();
    }

    public virtual string Name => "ddqn";
    public long Updates { get; private set; }

    public double Epsilon => Math.Max(Config.EpsilonEnd,
        Config.EpsilonStart - (Config.EpsilonStart - Config.EpsilonEnd) * _transitions / Math.Max(1, Config.EpsilonDecaySteps));

    public void BeginEpisode() { }

    public virtual int Act(float[] observation) =>
        Rng.NextDouble() < Epsilon ? Rng.Next(ActionCount) : ActGreedy(observation);

    public int ActGreedy(float[] observation) => AgentUtil.ArgMax(QValues(observation));

    /// <summary>Q(s, ·) for one observation.</summary>
    public float[] QValues(float[] observation)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return Online.call(AgentUtil.Row(observation, DeviceUsed)).cpu().data<float>().ToArray(); // (1, A)
    }

    public double Observe(float[] observation, int action, float reward, float[] nextObservation, bool terminal)
    {
        _replay.Add(observation, action, reward, nextObservation, terminal);
        _transitions++;
        if (_replay.Count < Config.LearningStarts || _transitions % Config.TrainEvery != 0) return double.NaN;
        return Update();
    }

    // ALGO LOGIC: one double-DQN update on a uniform replay batch.
    private double Update()
    {
        using var scope = NewDisposeScope();
        var b = _replay.Sample(Config.BatchSize, Rng);
        int n = b.Size, d = _replay.ObservationSize;
        var obs = tensor(b.Obs, [n, d]).to(DeviceUsed);
        var nextObs = tensor(b.NextObs, [n, d]).to(DeviceUsed);
        var actions = tensor(b.Actions, [n, 1]).to(DeviceUsed);
        var rewards = tensor(b.Rewards, [n]).to(DeviceUsed);
        var notDone = tensor(b.NotDone, [n]).to(DeviceUsed);

        Tensor targets;
        using (no_grad())
        {
            var nextActions = Online.call(nextObs).argmax(1, keepdim: true);          // (B, 1)
            var nextValues = Target.call(nextObs).gather(1, nextActions).squeeze(1);   // (B)
            targets = notDone.mul(nextValues).mul_(_gamma).add_(rewards, Scalars.One); // r + γ(1 - done) Q'
        }
        var q = Online.call(obs).gather(1, actions).squeeze(1);                        // (B)
        var loss = functional.mse_loss(q, targets);
        _optimizer.ZeroGrad();
        loss.backward();
        _optimizer.Step();

        Updates++;
        if (Updates % Config.TargetSyncEvery == 0) Target.load_state_dict(Online.state_dict());
        return loss.item<float>();
    }

    public void Dispose()
    {
        Online.Dispose(); Target.Dispose(); _optimizer.Dispose(); _gamma.Dispose();
        GC.SuppressFinalize(this);
    }
}
