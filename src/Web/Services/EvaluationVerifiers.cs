// Learned verifiers for bon-eval and re-scoring: a reward model registered as a Model row.
using BonStudio.Training.Verifiers;
using TorchSharp;

namespace BonStudio.Web.Services;

public static class EvaluationVerifiers
{
    /// <summary>Loads the reward model stored as model <paramref name="modelId"/>; its layer is named "reward-model#id".</summary>
    public static IVerifier LoadRewardModel(EvaluationStore store, int modelId, torch.Device device)
    {
        var (path, _) = store.ModelPath(modelId);
        throw new NotSupportedException($"rewardModelId: learned verifiers arrive with the reward model (RewardModelVerifier); model {modelId} at {path} cannot be loaded by this build yet.");
    }
}
