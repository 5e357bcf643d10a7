// Learned verifiers for bon-eval and re-scoring: a reward model (a `verifier` run's checkpoint) registered as a Model row.
using BonStudio.Training.Verifiers;
using TorchSharp;

namespace BonStudio.Web.Services;

public static class EvaluationVerifiers
{
    /// <summary>Loads the reward model stored as model <paramref name="modelId"/>; its score layer is named "reward-model#id".</summary>
    public static IVerifier LoadRewardModel(EvaluationStore store, int modelId, torch.Device device)
    {
        var (path, _) = store.ModelPath(modelId);
        try { return RewardModelVerifier.Load(path, device, modelId.ToString(System.Globalization.CultureInfo.InvariantCulture)); }
        catch (InvalidDataException e) { throw new ArgumentException($"rewardModelId: model {modelId} is not a reward model ({e.Message})", e); }
    }
}
