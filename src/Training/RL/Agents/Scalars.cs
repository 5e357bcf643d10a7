// TorchSharp 0.107 turns C# numbers into native Scalars implicitly (e.g. `t + u` passes alpha = 1, `t.add_(x)`
// passes alpha = 1) and does not keep those temporaries alive across the native call, so a GC in that window can
// finalise a Scalar that libtorch is still reading; long RL runs then die in c10::Scalar::toFloat ("Expected
// false to be true"). Hot RL code therefore passes only Scalars that something keeps alive: these statics, or
// fields of the agent.
using TorchSharp;

namespace BonStudio.Training.RL.Agents;

internal static class Scalars
{
    public static readonly Scalar One = 1.0.ToScalar();
}
