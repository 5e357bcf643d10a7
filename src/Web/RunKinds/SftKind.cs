// Run kind "sft": train a character-level GPT on MiniMath worked solutions, then evaluate greedy exact match
// and loss on held-out test problems (stored as test/* metrics); checkpoints are registered as models.
// Executor = BonStudio.Training.FineTuning.SftRun; its defaults are the default preset (examples/sft-minimath.json).
using BonStudio.Training.FineTuning;
using BonStudio.Training.Runtime;

namespace BonStudio.Web.RunKinds;

public sealed class SftKind : RunKind<SftConfig>
{
    public override string Name => SftRun.Kind;
    public override string Title => "Train a GPT on MiniMath (pre-training / SFT)";
    public override string Description =>
        "Trains a small decoder-only transformer on generated MiniMath word problems with worked steps, evaluates validation loss and greedy accuracy during training, and greedy exact match per level on held-out test problems at the end.";

    public override SftConfig DefaultConfig() => new();

    protected override WorkEstimate Estimate(SftConfig c) => WorkEstimate.Of(
        ("optimizer steps", c.Steps),
        ("training sequences", (long)c.Steps * c.BatchSize),
        ("greedy answers (evaluation)", (c.EvalEvery > 0 ? (long)(c.Steps / c.EvalEvery) * c.ValidationProblems : 0) + (long)c.TestProblems * (c.EvalTemperatureOne ? 2 : 1)));

    protected override void Execute(SftConfig config, string runDirectory, IRunReporter reporter)
    {
        var result = SftRun.Execute(config, runDirectory, reporter);
        reporter.Log($"test accuracy {result.TestAccuracy:P1} (greedy exact match), test loss {result.TestLoss:F4}, " +
                     $"per level: {string.Join(", ", result.TestAccuracyByLevel.Select(kv => $"L{kv.Key} {kv.Value:P1}"))}");
    }
}
