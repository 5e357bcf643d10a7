// Adam (Kingma & Ba 2015) for the RL agents. TorchSharp 0.107's optim.Adam crashed once in a 300k-step DDQN run
// inside param.addcdiv_ ("Expected false to be true" from c10::Scalar::toFloat) — consistent with a temporary
// Scalar being finalised while native code still used it. Here every Scalar is created, used and disposed
// explicitly, and kept alive across the native call (see Scalars.cs).
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BonStudio.Training.RL.Agents;

public sealed class RlAdam : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _m, _v;
    private readonly double _lr, _beta1, _beta2, _eps;
    private long _step;

    public RlAdam(IEnumerable<Parameter> parameters, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        _parameters = parameters.Where(p => p.requires_grad).ToArray();
        _m = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _v = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        (_lr, _beta1, _beta2, _eps) = (lr, beta1, beta2, eps);
    }

    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            using var g = p.grad;
            g?.zero_();
        }
    }

    public void Step()
    {
        _step++;
        double bc1 = 1 - Math.Pow(_beta1, _step), bc2 = 1 - Math.Pow(_beta2, _step);
        using var beta1 = _beta1.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var invSqrtBc2 = (1 / Math.Sqrt(bc2)).ToScalar();
        using var eps = _eps.ToScalar();
        using var stepSize = (-_lr / bc1).ToScalar();
        using (no_grad())
        {
            for (int i = 0; i < _parameters.Length; i++)
            {
                using var grad = _parameters[i].grad;
                if (grad is null) continue;
                _m[i].mul_(beta1).add_(grad, oneMinusBeta1);
                _v[i].mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
                using var denom = _v[i].sqrt().mul_(invSqrtBc2).add_(eps, Scalars.One);
                _parameters[i].addcdiv_(_m[i], denom, stepSize);
            }
        }
        GC.KeepAlive(beta1); GC.KeepAlive(oneMinusBeta1); GC.KeepAlive(beta2); GC.KeepAlive(oneMinusBeta2);
        GC.KeepAlive(invSqrtBc2); GC.KeepAlive(eps); GC.KeepAlive(stepSize);
    }

    public void Dispose()
    {
        foreach (var t in _m) t.Dispose();
        foreach (var t in _v) t.Dispose();
    }
}
