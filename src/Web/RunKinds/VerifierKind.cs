// Run kind "verifier" (issue #3 item 2): trains a learned reward model (Training's RewardModelRun: the GPT backbone
// with a scalar head, binary cross-entropy) on the labelled samples of a stored bon-eval, reports held-out AUROC and
// accuracy (verifier/auroc, verifier/accuracy), and registers its checkpoint as a Model (architecture "gpt-rm") that a
// bon-eval (rewardModelId) or re-scoring (verifier = reward-model, modelId) can use.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using BonStudio.Training.Runtime;
using BonStudio.Training.Verifiers;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;

namespace BonStudio.Web.RunKinds;

/// <summary>Configuration of a reward-model (verifier) run: <see cref="RewardModelConfig"/>'s parameters, with the
/// training data and the backbone named by run and model id.</summary>
[SetByRunKind(nameof(RewardModelConfig.BaseCheckpoint))]
public sealed record VerifierRunConfig : ComposedRunConfig<RewardModelConfig>
{
    [Description("Run id of the bon-eval whose samples (labelled by the checker) are the training data."), Range(1, int.MaxValue)]
    public int EvaluationRunId { get; init; } = 1;
    /// <summary>Stands for <see cref="RewardModelConfig.BaseCheckpoint"/>.</summary>
    [Description("Model id of the GPT checkpoint whose backbone initialises the reward model (0 = the evaluated model)."), Range(0, int.MaxValue)]
    public int BaseModelId { get; init; } = 0;
}

public sealed class VerifierKind : RunKind<VerifierRunConfig>
{
    public override string Name => RewardModelRun.Kind;
    public override string Title => "Verifier (learned reward model)";
    public override string Description =>
        "Train a reward model on a bon-eval's own samples labelled by the checker; reports held-out AUROC and accuracy and registers a model usable as a bon-eval verifier.";

    public override VerifierRunConfig DefaultConfig() => new();

    protected override WorkEstimate Estimate(VerifierRunConfig config)
    {
        var c = config.ToTraining();
        return WorkEstimate.Of(("optimizer steps", c.Steps), ("training sequences", (long)c.Steps * c.BatchSize));
    }

    protected override void Execute(VerifierRunConfig config, string runDirectory, IRunReporter reporter)
    {
        var db = RequireDatabase(reporter, "reads a stored evaluation");
        TorchRuntime.SetThreads(config.Training.Threads);
        var store = new EvaluationStore(db.DbFactory);
        var (examples, evaluatedModelId) = store.RewardExamples(config.EvaluationRunId);
        int baseModelId = config.BaseModelId > 0 ? config.BaseModelId
            : evaluatedModelId ?? throw new ArgumentException($"baseModelId: evaluation {config.EvaluationRunId} records no model (an import?); give baseModelId.");
        var (basePath, baseName) = store.ModelPath(baseModelId);
        int positives = examples.Count(e => e.Correct);
        reporter.Log($"verifier: {examples.Count} labelled samples from evaluation {config.EvaluationRunId} ({positives} correct), backbone of model {baseModelId} ({baseName})");
        if (positives == 0 || positives == examples.Count)
            throw new ArgumentException($"evaluationRunId: evaluation {config.EvaluationRunId} has only {(positives == 0 ? "wrong" : "correct")} samples; a verifier needs both.");

        var result = RewardModelRun.Execute(config.Training with { BaseCheckpoint = basePath }, examples, runDirectory, reporter);
        reporter.Log($"verifier: held-out AUROC {result.HeldOutAuroc:F3}, accuracy {result.HeldOutAccuracy:P1} on {result.HeldOutExamples} samples; checkpoint {result.CheckpointPath}");
    }
}
