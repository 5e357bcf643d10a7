// Bootstrapped double DQN with randomized prior functions (Osband et al. 2016, 2018): M Q-heads, each the sum of
// a trainable MLP and β times a fixed random MLP of the same shape; one head, drawn at random, acts for a whole
// episode (deep exploration by Thompson-like sampling). Optional bootstrap masks: each transition trains each
// head with probability MaskProbability. All heads live in batched (M, ·, ·) weights, so one bmm runs them all.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BonStudio.Training.RL.Agents;

/// <summary>BootDDQN hyperparameters.</summary>
public sealed record BootDdqnConfig
{
    /// <summary>M: number of heads.</summary>
    public int Heads { get; init; } = 10;
    /// <summary>Units in each of the two hidden layers of every head.</summary>
    public int Hidden { get; init; } = 32;
    /// <summary>β: scale of each head's fixed random prior network (0 = no prior).</summary>
    public double PriorScale { get; init; } = 3.0;
    /// <summary>Probability a transition trains a given head (1 = no bootstrapping, as bsuite's default).</summary>
    public double MaskProbability { get; init; } = 1.0;
    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Discount factor γ.</summary>
    public double Gamma { get; init; } = 0.99;
    /// <summary>Transitions per gradient update (shared by all heads).</summary>
    public int BatchSize { get; init; } = 64;
    /// <summary>Transitions the replay buffer keeps.</summary>
    public int ReplayCapacity { get; init; } = 100_000;
    /// <summary>Transitions collected before the first update.</summary>
    public int LearningStarts { get; init; } = 128;
    /// <summary>One gradient update every this many transitions.</summary>
    public int TrainEvery { get; init; } = 1;
    /// <summary>Copy the online heads to the target heads every this many updates.</summary>
    public int TargetSyncEvery { get; init; } = 4;
}

/// <summary>M independent MLPs obs → hidden → hidden → A, evaluated together with batched matmuls.</summary>
public sealed class EnsembleMlp : Module<Tensor, Tensor>
{
    private readonly Parameter w1, b1, w2, b2, w3, b3;

    public EnsembleMlp(int heads, int inputs, int hidden, int outputs, bool trainable = true) : base(nameof(EnsembleMlp))
    {
        // Same init as nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), independently per head.
        Parameter Uniform(long[] shape, int fanIn) =>
            new(empty(shape).uniform_(-1 / Math.Sqrt(fanIn), 1 / Math.Sqrt(fanIn)), requires_grad: trainable);
        w1 = Uniform([heads, inputs, hidden], inputs); b1 = Uniform([heads, 1, hidden], inputs);
        w2 = Uniform([heads, hidden, hidden], hidden); b2 = Uniform([heads, 1, hidden], hidden);
        w3 = Uniform([heads, hidden, outputs], hidden); b3 = Uniform([heads, 1, outputs], hidden);
        RegisterComponents();
    }

    public override Tensor forward(Tensor observations)
    {
        using var scope = NewDisposeScope();
        var x = observations.unsqueeze(0).expand(w1.shape[0], -1, -1);  // (M, B, obs)
        x = functional.relu(bmm(x, w1).add_(b1, Scalars.One));                          // (M, B, H)
        x = functional.relu(bmm(x, w2).add_(b2, Scalars.One));                          // (M, B, H)
        return bmm(x, w3).add_(b3, Scalars.One).MoveToOuterDisposeScope();               // (M, B, A)
    }
}

public sealed class BootDdqn : IAgent, IQEnsemble
{
    private readonly BootDdqnConfig _config;
    private readonly EnsembleMlp _online, _target, _prior;
    private readonly Device _device;
    private readonly Random _rng;
    private readonly RlAdam _optimizer;
    private readonly ReplayBuffer _replay;
    private readonly float[] _mask;
    private readonly Scalar _gamma, _priorScale;
    private long _transitions;

    public BootDdqn(BootDdqnConfig config, int observationSize, int actionCount, Device device, Random rng)
    {
        if (config.Heads < 1) throw new ArgumentException($"BootDdqn Heads must be ≥ 1 (got {config.Heads}).");
        _config = config; _device = device; _rng = rng;
        _online = new EnsembleMlp(config.Heads, observationSize, config.Hidden, actionCount).to(device);
        _target = new EnsembleMlp(config.Heads, observationSize, config.Hidden, actionCount, trainable: false).to(device);
        _prior = new EnsembleMlp(config.Heads, observationSize, config.Hidden, actionCount, trainable: false).to(device);
        SyncTarget();
        _optimizer = new RlAdam(_online.parameters(), config.LearningRate);
        _replay = new ReplayBuffer(config.ReplayCapacity, observationSize, config.Heads);
        _mask = new float[config.Heads];
        _gamma = config.Gamma.ToScalar(); _priorScale = config.PriorScale.ToScalar();
    }

    public string Name => "bootddqn";
    public long Updates { get; private set; }
    public Device Device => _device;
    /// <summary>The head acting in the current episode.</summary>
    public int ActiveHead { get; private set; }

    public void BeginEpisode() => ActiveHead = _rng.Next(_config.Heads);

    public Tensor HeadQValues(Tensor observations)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = observations.to(_device);
        return _online.call(x).add_(_prior.call(x), _priorScale).MoveToOuterDisposeScope(); // (M, B, A): Q_m + β·prior_m
    }

    public int Act(float[] observation)
    {
        using var scope = NewDisposeScope();
        var q = HeadQValues(AgentUtil.Row(observation, _device))[ActiveHead, 0]; // (A)
        return AgentUtil.ArgMax(q.cpu().data<float>().ToArray());
    }

    /// <summary>Greedy on the mean Q of all heads.</summary>
    public int ActGreedy(float[] observation)
    {
        using var scope = NewDisposeScope();
        var q = HeadQValues(AgentUtil.Row(observation, _device)).mean([0])[0]; // (A)
        return AgentUtil.ArgMax(q.cpu().data<float>().ToArray());
    }

    public double Observe(float[] observation, int action, float reward, float[] nextObservation, bool terminal)
    {
        for (int m = 0; m < _mask.Length; m++) _mask[m] = _config.MaskProbability >= 1 || _rng.NextDouble() < _config.MaskProbability ? 1f : 0f;
        _replay.Add(observation, action, reward, nextObservation, terminal, _mask);
        _transitions++;
        if (_replay.Count < _config.LearningStarts || _transitions % _config.TrainEvery != 0) return double.NaN;
        return Update();
    }

    // ALGO LOGIC: every head does a double-DQN update on the same batch, weighted by its bootstrap mask.
    private double Update()
    {
        using var scope = NewDisposeScope();
        var b = _replay.Sample(_config.BatchSize, _rng);
        int n = b.Size, d = _replay.ObservationSize, heads = _config.Heads;
        var obs = tensor(b.Obs, [n, d]).to(_device);
        var nextObs = tensor(b.NextObs, [n, d]).to(_device);
        var actions = tensor(b.Actions, [1, n, 1]).to(_device).expand(heads, -1, -1);   // (M, B, 1)
        var rewards = tensor(b.Rewards, [1, n]).to(_device);                              // (1, B)
        var notDone = tensor(b.NotDone, [1, n]).to(_device);
        var masks = tensor(b.Masks, [heads, n]).to(_device);                              // (M, B)

        Tensor targets, priorNow;
        using (no_grad())
        {
            var priorNext = _prior.call(nextObs).mul_(_priorScale);                           // (M, B, A)
            priorNow = _prior.call(obs).mul_(_priorScale);
            var nextActions = _online.call(nextObs).add_(priorNext, Scalars.One).argmax(2, keepdim: true); // (M, B, 1)
            var nextValues = _target.call(nextObs).add_(priorNext, Scalars.One).gather(2, nextActions).squeeze(2); // (M, B)
            targets = notDone.mul(nextValues).mul_(_gamma).add_(rewards, Scalars.One); // r + γ(1 - done) Q'
        }
        var q = _online.call(obs).add(priorNow, Scalars.One).gather(2, actions).squeeze(2); // (M, B)
        // Each head's mean squared TD error over its masked transitions, summed over heads.
        var perHead = q.sub(targets).square().mul(masks).sum(1).div(masks.sum(1).clamp_min(Scalars.One));
        var loss = perHead.sum();
        _optimizer.ZeroGrad();
        loss.backward();
        _optimizer.Step();

        Updates++;
        if (Updates % _config.TargetSyncEvery == 0) SyncTarget();
        return perHead.mean().item<float>();
    }

    private void SyncTarget()
    {
        using var _ = no_grad();
        foreach (var (t, o) in _target.parameters().Zip(_online.parameters())) t.copy_(o);
    }

    public void Dispose()
    {
        _online.Dispose(); _target.Dispose(); _prior.Dispose(); _optimizer.Dispose(); _gamma.Dispose(); _priorScale.Dispose();
    }
}
