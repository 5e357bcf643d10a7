// Settings of the `calibration-sft` run kind (linguistic-uncertainty fine-tuning, methods.md §3) in one record.
// Defaults = the study's recipe (docs/results-calibration.md §5: p-true labels, 4000 questions, 800 steps, lr 3e-4). The attributes drive the web form, the REST API validation and `run`.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using BonStudio.Training.Runtime;

namespace BonStudio.Training.Calibration;

public sealed record CalibrationSftConfig : IRunConfig, IValidatableObject
{
    /// <summary>Label training answers with the ladder phrase nearest to the source's confidence.</summary>
    public const string LabelsFromSource = "source";
    /// <summary>Label every training answer with the ladder's top phrase (the trained always-confident baseline).</summary>
    public const string LabelsAlwaysConfident = "always-confident";

    // labels
    /// <summary>Confidence source whose value picks each training answer's phrase.</summary>
    [Required, AllowedValues(ConfidenceSources.PTrue, ConfidenceSources.Consistency, ConfidenceSources.Likelihood, ErrorMessage = "The {0} field must be p-true, consistency or likelihood."),
     Description("Confidence source that labels the training answers: p-true, consistency or likelihood.")]
    public string Source { get; init; } = ConfidenceSources.PTrue;
    /// <summary>"source" (calibrated labels) or "always-confident" (top phrase everywhere: the baseline).</summary>
    [Required, AllowedValues(LabelsFromSource, LabelsAlwaysConfident, ErrorMessage = "The {0} field must be source or always-confident."),
     Description("How training answers are labelled: source (nearest ladder phrase to the source's confidence) or always-confident (the top phrase for every answer; the baseline).")]
    public string Labels { get; init; } = LabelsFromSource;
    /// <summary>The ladder as "phrase=probability" entries.</summary>
    [Required, MinLength(2), Description("Phrase ladder, one \"phrase=probability\" per entry (default: methods.md §3, medians of a 123-person survey).")]
    public string[] Ladder { get; init; } = [.. PhraseLadderView.DefaultEntries];
    /// <summary>n for the consistency source.</summary>
    [Range(1, 256), Description("Samples per question for the consistency source (n).")]
    public int ConsistencySamples { get; init; } = 10;
    /// <summary>Temperature of the consistency samples.</summary>
    [Range(0.05, 5.0), Description("Sampling temperature of the consistency samples.")]
    public double ConsistencyTemperature { get; init; } = 1.0;

    // data
    /// <summary>MiniMath levels, mixed round-robin.</summary>
    [Required, MinLength(1), Description("MiniMath difficulty levels (1 = easiest, 5 = hardest), mixed evenly.")]
    public int[] Levels { get; init; } = [1, 2, 3, 4, 5];
    /// <summary>Training questions answered by the model and labelled.</summary>
    [Range(16, 1_000_000), Description("Training questions the model answers; its answers + phrases are the fine-tuning data.")]
    public int TrainProblems { get; init; } = 4000;
    /// <summary>Split of the evaluated questions ("test", or "validation" for choosing a recipe); training questions always come from "train".</summary>
    [Required, RegularExpression("^(test|validation)$", ErrorMessage = "Split must be test or validation."),
     Description("Split of the evaluated questions: test, or validation when tuning the recipe (training questions always come from train).")]
    public string Split { get; init; } = "test";
    /// <summary>Held-out questions for the evaluation.</summary>
    [Range(1, 100_000), Description("Test questions for the evaluation.")]
    public int TestProblems { get; init; } = 300;
    /// <summary>Longest generated response (the phrase line included).</summary>
    [Range(8, 4096), Description("Most tokens generated per response (including the confidence line).")]
    public int MaxNewTokens { get; init; } = 180;

    // fine-tuning
    /// <summary>Optimizer steps.</summary>
    [Range(1, 1_000_000), Description("Fine-tuning optimizer steps.")]
    public int Steps { get; init; } = 800;
    /// <summary>Train only the confidence line (the answer is part of the prompt), leaving the answers as the base wrote them.</summary>
    [Description("Put the model's own answer in the prompt and train only the \"Conf: <phrase>\" line (off: the whole answer + phrase is trained, as in the committed study).")]
    public bool PhraseOnlyLoss { get; init; } = false;
    /// <summary>Examples per step.</summary>
    [Range(1, 4096), Description("Examples per fine-tuning step.")]
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak AdamW learning rate.</summary>
    [Range(1e-6, 1.0), Description("Peak learning rate (AdamW) of the fine-tuning.")]
    public double LearningRate { get; init; } = 3e-4;

    // P(True) teaching (only when Source = p-true)
    /// <summary>Training questions for teaching the self-evaluation format.</summary>
    [Range(1, 1_000_000), Description("p-true only: training questions whose labelled answers teach the self-evaluation format.")]
    public int TeachProblems { get; init; } = 1000;
    /// <summary>Sampled answers per teaching question besides the greedy one.</summary>
    [Range(0, 64), Description("p-true only: sampled answers per teaching question besides the greedy one.")]
    public int TeachSamplesPerProblem { get; init; } = 2;
    /// <summary>p-true only: an already taught P(True) judge of this model (e.g. a calibration-eval run's
    /// ptrue-judge.safetensors); empty = teach one here.</summary>
    [Description("p-true only: path of an already taught P(True) judge for this model (a calibration-eval run's ptrue-judge.safetensors); empty = teach one in this run.")]
    public string JudgeCheckpoint { get; init; } = "";
    /// <summary>Teaching steps.</summary>
    [Range(1, 1_000_000), Description("p-true only: optimizer steps teaching the self-evaluation format.")]
    public int TeachSteps { get; init; } = 300;

    // runtime
    /// <summary>Seed of question choice, sampling and fine-tuning.</summary>
    [Range(0, long.MaxValue), Description("Seed for question choice, sampling and fine-tuning.")]
    public long Seed { get; init; } = 1;
    /// <summary>"auto", "cpu", "cuda" or "cuda:N".</summary>
    [Required, RegularExpression(@"^(auto|cpu|cuda(:\d+)?)$", ErrorMessage = "Device must be auto, cpu, cuda or cuda:N."),
     Description("Device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
    public string Device { get; init; } = "auto";
    /// <summary>libtorch intra-op threads (0 = libtorch's default).</summary>
    [Range(0, 256), Description("CPU threads for libtorch (0 = libtorch's default).")]
    public int Threads { get; init; } = 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var r in ConfigChecks.Levels(Levels)) yield return r;
        foreach (var r in ConfigChecks.Sources([Source], nameof(Source))) yield return r;
        string? ladderError = null;
        try { PhraseLadderView.Parse(Ladder, nameof(Ladder)); }
        catch (ArgumentException ex) { ladderError = ex.Message; }
        if (ladderError is not null) yield return new ValidationResult(ladderError, [nameof(Ladder)]);
        if (!string.IsNullOrEmpty(JudgeCheckpoint) && (!JudgeCheckpoint.EndsWith(".safetensors", StringComparison.Ordinal) || !File.Exists(JudgeCheckpoint)))
            yield return new ValidationResult($"JudgeCheckpoint: '{JudgeCheckpoint}' is not an existing .safetensors file.", [nameof(JudgeCheckpoint)]);
    }

    /// <summary>Throws one <see cref="ValidationException"/> listing every problem as "Member: message".</summary>
    public void EnsureValid() => ConfigChecks.EnsureValid(this, "calibration-sft");
}
