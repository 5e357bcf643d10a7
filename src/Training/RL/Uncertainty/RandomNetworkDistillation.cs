// Random network distillation (Burda et al. 2018): a predictor network learns to imitate a fixed random target
// network on the states it is shown; its squared error stays high on states it has rarely seen.
// u(s) = mean squared prediction error; it does not depend on the action. Trained in small batches of the
// visits it observes.
using BonStudio.Training.RL.Agents;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BonStudio.Training.RL.Uncertainty;

/// <summary>RND settings.</summary>
public sealed record RndConfig
{
    /// <summary>Hidden units of target and predictor.</summary>
    public int Hidden { get; init; } = 64;
    /// <summary>Output size of target and predictor.</summary>
    public int Outputs { get; init; } = 32;
    /// <summary>Adam learning rate of the predictor.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Visits collected before one predictor update on them.</summary>
    public int UpdateBatch { get; init; } = 32;
}

public sealed class RandomNetworkDistillation : IUncertainty
{
    private readonly RndConfig _config;
    private readonly int _actions, _inputs;
    private readonly Device _device;
    private readonly Module<Tensor, Tensor> _target, _predictor;
    private readonly RlAdam _optimizer;
    private readonly List<float[]> _pending = [];

    public RandomNetworkDistillation(RndConfig config, int observationSize, int actionCount, Device device)
    {
        _config = config; _actions = actionCount; _inputs = observationSize; _device = device;
        _target = Sequential(Linear(observationSize, config.Hidden), ReLU(), Linear(config.Hidden, config.Outputs)).to(device);
        foreach (var p in _target.parameters()) p.requires_grad = false;
        _predictor = Sequential(Linear(observationSize, config.Hidden), ReLU(), Linear(config.Hidden, config.Hidden), ReLU(),
            Linear(config.Hidden, config.Outputs)).to(device);
        _optimizer = new RlAdam(_predictor.parameters(), config.LearningRate);
    }

    public string Name => "rnd";
    public bool ActionDependent => false;

    private Tensor Errors(Tensor x) => _predictor.call(x).sub(_target.call(x)).square().mean([1]); // (B)

    public float[] State(IReadOnlyList<float[]> observations)
    {
        if (observations.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return Errors(EnsembleStd.Stack(observations).to(_device)).cpu().data<float>().ToArray();
    }

    public float[] StateAction(IReadOnlyList<float[]> observations)
    {
        var s = State(observations);
        var u = new float[s.Length * _actions];
        for (int i = 0; i < s.Length; i++) for (int a = 0; a < _actions; a++) u[i * _actions + a] = s[i];
        return u;
    }

    public void Observe(float[] observation, int action)
    {
        _pending.Add(observation);
        if (_pending.Count < _config.UpdateBatch) return;
        using var scope = NewDisposeScope();
        var loss = Errors(EnsembleStd.Stack(_pending).to(_device)).mean();
        _optimizer.ZeroGrad();
        loss.backward();
        _optimizer.Step();
        _pending.Clear();
    }

    public void Dispose() { _target.Dispose(); _predictor.Dispose(); _optimizer.Dispose(); }
}
