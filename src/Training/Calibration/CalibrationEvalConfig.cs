// Settings of the `calibration-eval` run kind in one record (defaults = the preset used by the study, minutes on a
// 2-core CPU with a ~0.8M-parameter GPT). The attributes drive the web form, the REST API validation and `run`.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using BonStudio.Training.Runtime;
using BonStudio.Training.Tasks;

namespace BonStudio.Training.Calibration;

public sealed record CalibrationEvalConfig : IRunConfig, IValidatableObject
{
    // what to measure
    /// <summary>Confidence sources to compute: "p-true", "consistency", "likelihood".</summary>
    [Required, MinLength(1), Description("Confidence sources to compute: p-true (self-evaluation), consistency (agreement of n samples with the greedy answer), likelihood (exp of the mean token log-prob).")]
    public string[] Sources { get; init; } = [ConfidenceSources.PTrue, ConfidenceSources.Consistency, ConfidenceSources.Likelihood];
    /// <summary>n: samples per question for the consistency source.</summary>
    [Range(1, 256), Description("Samples per question for the consistency source (n).")]
    public int ConsistencySamples { get; init; } = 10;
    /// <summary>Sampling temperature of the consistency samples.</summary>
    [Range(0.05, 5.0), Description("Sampling temperature of the consistency samples.")]
    public double ConsistencyTemperature { get; init; } = 1.0;

    // questions
    /// <summary>Questions answered and scored.</summary>
    [Range(1, 100_000), Description("Number of MiniMath questions to answer and score.")]
    public int Problems { get; init; } = 300;
    /// <summary>MiniMath levels, mixed round-robin.</summary>
    [Required, MinLength(1), Description("MiniMath difficulty levels (1 = easiest, 5 = hardest), mixed evenly; several levels give varied accuracy.")]
    public int[] Levels { get; init; } = [1, 2, 3, 4, 5];
    /// <summary>Split the questions come from ("test" or "validation"; teaching always uses "train").</summary>
    [Required, AllowedValues("test", "validation", ErrorMessage = "The {0} field must be test or validation."), Description("Split of the evaluated questions: test or validation (P(True) teaching always uses train).")]
    public string Split { get; init; } = "test";
    /// <summary>Longest response generated per question.</summary>
    [Range(8, 4096), Description("Most tokens generated per response.")]
    public int MaxNewTokens { get; init; } = 160;

    // P(True) teaching
    /// <summary>Teach the self-evaluation format to a copy of the model before measuring P(True) (needed unless the
    /// checkpoint already knows it).</summary>
    [Description("First teach a copy of the model the self-evaluation format (\"...\\nCorrect? yes|no\") on its own labelled answers to training questions; answers still come from the original model.")]
    public bool TeachPTrue { get; init; } = true;
    /// <summary>Training questions whose answers form the teaching data.</summary>
    [Range(1, 1_000_000), Description("Training questions whose own answers (greedy + samples, labelled by the checker) teach the P(True) format.")]
    public int TeachProblems { get; init; } = 1000;
    /// <summary>Sampled answers per teaching question, in addition to the greedy one.</summary>
    [Range(0, 64), Description("Temperature-1 sampled answers per teaching question, besides the greedy answer.")]
    public int TeachSamplesPerProblem { get; init; } = 2;
    /// <summary>Optimizer steps of the teaching.</summary>
    [Range(1, 1_000_000), Description("Optimizer steps teaching the P(True) format.")]
    public int TeachSteps { get; init; } = 300;
    /// <summary>Pairs per teaching step.</summary>
    [Range(1, 4096), Description("Examples per teaching step.")]
    public int TeachBatchSize { get; init; } = 32;
    /// <summary>Peak learning rate of the teaching.</summary>
    [Range(1e-6, 1.0), Description("Peak learning rate (AdamW) of the teaching.")]
    public double TeachLearningRate { get; init; } = 5e-4;

    // runtime
    /// <summary>Seed of question choice, sampling and teaching.</summary>
    [Range(0, long.MaxValue), Description("Seed for question choice, sampling and teaching.")]
    public long Seed { get; init; } = 1;
    /// <summary>"auto", "cpu", "cuda" or "cuda:N".</summary>
    [Required, RegularExpression(@"^(auto|cpu|cuda(:\d+)?)$", ErrorMessage = "Device must be auto, cpu, cuda or cuda:N."),
     Description("Device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
    public string Device { get; init; } = "auto";
    /// <summary>libtorch intra-op threads (0 = libtorch's default).</summary>
    [Range(0, 256), Description("CPU threads for libtorch (0 = libtorch's default).")]
    public int Threads { get; init; } = 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        ConfigChecks.Levels(Levels).Concat(ConfigChecks.Sources(Sources, nameof(Sources)));

    /// <summary>Throws one <see cref="ValidationException"/> listing every problem as "Member: message".</summary>
    public void EnsureValid() => ConfigChecks.EnsureValid(this, "calibration-eval");
}

/// <summary>Checks shared by the calibration configs.</summary>
internal static class ConfigChecks
{
    public static IEnumerable<ValidationResult> Levels(int[]? levels)
    {
        if (levels is not { Length: > 0 }) yield break;
        foreach (var level in levels)
            if (!MiniMath.Levels.Contains(level))
                yield return new ValidationResult($"Levels: {level} is not a MiniMath level (1..5).", ["Levels"]);
        if (levels.Distinct().Count() != levels.Length)
            yield return new ValidationResult("Levels: each level may appear once.", ["Levels"]);
    }

    public static IEnumerable<ValidationResult> Sources(string[]? sources, string field)
    {
        if (sources is null) yield break;
        foreach (var s in sources)
            if (!ConfidenceSources.Measurable.Contains(s))
                yield return new ValidationResult($"{field}: '{s}' is not a confidence source (one of {string.Join(", ", ConfidenceSources.Measurable)}).", [field]);
        if (sources.Distinct().Count() != sources.Length)
            yield return new ValidationResult($"{field}: each source may appear once.", [field]);
    }

    public static void EnsureValid(object config, string kind)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(config, new ValidationContext(config), results, validateAllProperties: true))
            throw new ValidationException($"invalid {kind} config: " + string.Join("; ",
                results.Select(r => r.MemberNames.Any() && !r.ErrorMessage!.StartsWith(r.MemberNames.First(), StringComparison.Ordinal)
                    ? $"{string.Join(", ", r.MemberNames)}: {r.ErrorMessage}" : r.ErrorMessage)));
    }
}
