// Ensemble uncertainty: u(s, a) = standard deviation over the M heads of Q_m(s, a) (BootDDQN's heads with their
// priors). Where the heads have been trained they agree; elsewhere their random priors keep them apart.
// u(s) = mean over actions of u(s, a). Learns nothing itself: the agent's training shrinks it.
using BonStudio.Training.RL.Agents;
using static TorchSharp.torch;

namespace BonStudio.Training.RL.Uncertainty;

public sealed class EnsembleStd(IQEnsemble ensemble, int actionCount) : IUncertainty
{
    public string Name => "ensemble";
    public bool ActionDependent => true;

    public float[] StateAction(IReadOnlyList<float[]> observations)
    {
        if (observations.Count == 0) return [];
        using var scope = NewDisposeScope();
        var q = ensemble.HeadQValues(Stack(observations));           // (M, B, A)
        var std = q.std(0, unbiased: false);                          // (B, A)
        return std.cpu().data<float>().ToArray();
    }

    public float[] State(IReadOnlyList<float[]> observations)
    {
        var sa = StateAction(observations);
        var u = new float[observations.Count];
        for (int i = 0; i < u.Length; i++)
        {
            double s = 0;
            for (int a = 0; a < actionCount; a++) s += sa[i * actionCount + a];
            u[i] = (float)(s / actionCount);
        }
        return u;
    }

    public void Observe(float[] observation, int action) { }

    internal static Tensor Stack(IReadOnlyList<float[]> observations)
    {
        int d = observations[0].Length;
        var flat = new float[observations.Count * d];
        for (int i = 0; i < observations.Count; i++) observations[i].CopyTo(flat, i * d);
        return tensor(flat, [observations.Count, d]);
    }

    public void Dispose() { }
}
