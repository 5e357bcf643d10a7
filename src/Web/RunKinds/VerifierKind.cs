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

/// <summary>Configuration of a reward-model (verifier) run.</summary>
public sealed record VerifierRunConfig : IRunConfig
{
    [Description("Run id of the bon-eval whose samples (labelled by the checker) are the training data."), Range(1, int.MaxValue)]
    public int EvaluationRunId { get; init; } = 1;
    [Description("Model id of the GPT checkpoint whose backbone initialises the reward model (0 = the evaluated model)."), Range(0, int.MaxValue)]
    public int BaseModelId { get; init; } = 0;
    [Description("Fraction of prompts held out to measure AUROC and accuracy (split by prompt)."), Range(0.01, 0.9)]
    public double HeldOutFraction { get; init; } = 0.2;
    [Description("Number of optimizer steps."), Range(1, 10_000_000)]
    public int Steps { get; init; } = 400;
    [Description("Labelled samples per optimizer step."), Range(1, 4096)]
    public int BatchSize { get; init; } = 32;
    [Description("Peak learning rate (AdamW), cosine decay to a tenth of it."), Range(1e-7, 1.0)]
    public double LearningRate { get; init; } = 3e-4;
    [Description("AdamW weight decay on weight matrices."), Range(0.0, 1.0)]
    public double WeightDecay { get; init; } = 0.01;
    [Description("Clip the global gradient norm to this value (0 = no clipping)."), Range(0.0, 1000.0)]
    public double GradClip { get; init; } = 1.0;
    [Description("Balance the classes in the loss (positives weighted by #negatives/#positives).")]
    public bool BalanceClasses { get; init; } = true;
    [Description("Measure held-out AUROC and accuracy every K steps (0 = only at the end)."), Range(0, 1_000_000)]
    public int EvalEvery { get; init; } = 100;
    [Description("Seed for initialisation, data order and the held-out split."), Range(0, long.MaxValue)]
    public long Seed { get; init; } = 1;
    [Description("auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
    public string Device { get; init; } = "auto";
    [Description("libtorch intra-op threads (0 = default)."), Range(0, 256)]
    public int Threads { get; init; } = 0;
}

public sealed class VerifierKind : RunKind<VerifierRunConfig>
{
    public override string Name => RewardModelRun.Kind;
    public override string Title => "Verifier (learned reward model)";
    public override string Description =>
        "Train a reward model on a bon-eval's own samples labelled by the checker; reports held-out AUROC and accuracy and registers a model usable as a bon-eval verifier.";

    public override VerifierRunConfig DefaultConfig() => new();

    protected override void Execute(VerifierRunConfig config, string runDirectory, IRunReporter reporter)
    {
        var db = reporter as DbRunReporter
            ?? throw new InvalidOperationException("the verifier kind reads a stored evaluation: run it through the job or `run` (a DbRunReporter).");
        TorchRuntime.SetThreads(config.Threads);
        var store = new EvaluationStore(db.DbFactory);
        var (examples, evaluatedModelId) = store.RewardExamples(config.EvaluationRunId);
        int baseModelId = config.BaseModelId > 0 ? config.BaseModelId
            : evaluatedModelId ?? throw new ArgumentException($"baseModelId: evaluation {config.EvaluationRunId} records no model (an import?); give baseModelId.");
        var (basePath, baseName) = store.ModelPath(baseModelId);
        int positives = examples.Count(e => e.Correct);
        reporter.Log($"verifier: {examples.Count} labelled samples from evaluation {config.EvaluationRunId} ({positives} correct), backbone of model {baseModelId} ({baseName})");
        if (positives == 0 || positives == examples.Count)
            throw new ArgumentException($"evaluationRunId: evaluation {config.EvaluationRunId} has only {(positives == 0 ? "wrong" : "correct")} samples; a verifier needs both.");

        var result = RewardModelRun.Execute(new RewardModelConfig
        {
            BaseCheckpoint = basePath, HeldOutFraction = config.HeldOutFraction, Steps = config.Steps, BatchSize = config.BatchSize,
            LearningRate = config.LearningRate, WeightDecay = config.WeightDecay, GradClip = config.GradClip, BalanceClasses = config.BalanceClasses,
            EvalEvery = config.EvalEvery, Seed = config.Seed, Device = config.Device, Threads = config.Threads,
        }, examples, runDirectory, reporter);
        reporter.Log($"verifier: held-out AUROC {result.HeldOutAuroc:F3}, accuracy {result.HeldOutAccuracy:P1} on {result.HeldOutExamples} samples; checkpoint {result.CheckpointPath}");
    }
}
