// Hyperparameters of the `sft` run kind (supervised training of a GPT on MiniMath worked solutions), in one record.
// The defaults ARE the default preset: they train in under 10 minutes on a 2-core CPU (see docs/bench-sampler.md).
// The attributes drive the web form, the REST API validation and the `run` command.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Tasks;

namespace BonStudio.Training.FineTuning;

public sealed record SftConfig : IRunConfig, IValidatableObject
{
    // data
    /// <summary>MiniMath levels mixed round-robin in train, validation and test problems.</summary>
    [Required, MinLength(1), Description("MiniMath difficulty levels to train and evaluate on (1 = easiest, 5 = hardest), mixed evenly.")]
    public int[] Levels { get; init; } = [1, 2, 3];
    /// <summary>Size of the training pool; each step draws its batch from it with replacement.</summary>
    [Range(16, 2_000_000), Description("Number of distinct training problems generated (batches are drawn from this pool).")]
    public int TrainProblems { get; init; } = 100_000;
    /// <summary>Validation problems for the periodic eval loss and greedy accuracy.</summary>
    [Range(1, 20_000), Description("Validation problems used for the periodic evaluation (loss and greedy accuracy).")]
    public int ValidationProblems { get; init; } = 200;
    /// <summary>Held-out test problems for the final evaluation.</summary>
    [Range(1, 50_000), Description("Held-out test problems for the final evaluation (greedy exact match per level, mean loss).")]
    public int TestProblems { get; init; } = 500;
    /// <summary>Also train on the question text (not only on the worked solution).</summary>
    [Description("Also put loss on the question tokens, not only on the answer (pre-training style).")]
    public bool TrainOnPrompt { get; init; } = false;

    // model
    /// <summary>Transformer blocks.</summary>
    [Range(1, 48), Description("Transformer blocks.")]
    public int Layers { get; init; } = 4;
    /// <summary>Attention heads (must divide EmbeddingDim).</summary>
    [Range(1, 64), Description("Attention heads per block (must divide the embedding size).")]
    public int Heads { get; init; } = 4;
    /// <summary>Residual stream width.</summary>
    [Range(8, 4096), Description("Width of the residual stream (embedding size).")]
    public int EmbeddingDim { get; init; } = 128;
    /// <summary>Positions; must hold BOS + the longest MiniMath prompt and completion + EOS.</summary>
    [Range(MiniMath.MaxChars + 2, 4096), Description("Context length in tokens (at least the longest MiniMath problem + 2).")]
    public int ContextLength { get; init; } = MiniMath.MaxChars + 2;
    /// <summary>Dropout while training.</summary>
    [Range(0.0, 0.9), Description("Dropout probability while training.")]
    public double Dropout { get; init; } = 0.0;

    // optimisation
    /// <summary>Optimizer steps.</summary>
    [Range(1, 10_000_000), Description("Number of optimizer steps.")]
    public int Steps { get; init; } = 1500;
    /// <summary>Sequences per step.</summary>
    [Range(1, 4096), Description("Problems (sequences) per optimizer step.")]
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak AdamW learning rate (after warm-up).</summary>
    [Range(1e-6, 1.0), Description("Peak learning rate (AdamW), reached after warm-up.")]
    public double LearningRate { get; init; } = 2e-3;
    /// <summary>Learning rate at the end of the cosine decay.</summary>
    [Range(0.0, 1.0), Description("Learning rate at the end of the cosine decay (at most the peak).")]
    public double MinLearningRate { get; init; } = 1e-4;
    /// <summary>Linear warm-up steps.</summary>
    [Range(0, 1_000_000), Description("Steps of linear learning-rate warm-up (at most Steps).")]
    public int WarmupSteps { get; init; } = 100;
    /// <summary>AdamW decoupled weight decay (applied to matrices, not biases/LayerNorms).</summary>
    [Range(0.0, 1.0), Description("AdamW weight decay on weight matrices and embeddings.")]
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>AdamW β1.</summary>
    [Range(0.0, 0.9999), Description("AdamW beta1.")]
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW β2 (0.99 suits small batches and short runs).</summary>
    [Range(0.0, 0.99999), Description("AdamW beta2.")]
    public double Beta2 { get; init; } = 0.99;
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    [Range(0.0, 1000.0), Description("Clip the global gradient norm to this value (0 = no clipping).")]
    public double GradClip { get; init; } = 1.0;

    // evaluation, logging, checkpoints
    /// <summary>Evaluate on the validation problems every K steps (0 = only at the end).</summary>
    [Range(0, 1_000_000), Description("Evaluate validation loss and greedy accuracy every K steps (0 = only at the end).")]
    public int EvalEvery { get; init; } = 250;
    /// <summary>Report training loss/lr/throughput every K steps.</summary>
    [Range(1, 100_000), Description("Report training loss, learning rate and throughput every K steps.")]
    public int LogEvery { get; init; } = 20;
    /// <summary>Write a checkpoint every K steps (0 = only the final one).</summary>
    [Range(0, 1_000_000), Description("Write a checkpoint every K steps (0 = only the final one). Runs resume from the last one.")]
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Also sample once per test problem at temperature 1 at the end (headroom for Best-of-N).</summary>
    [Description("Also measure test accuracy with one temperature-1 sample per problem at the end.")]
    public bool EvalTemperatureOne { get; init; } = true;

    // runtime
    /// <summary>Seed for model init, data order and sampling.</summary>
    [Range(0, long.MaxValue), Description("Seed for every random number generator of the run.")]
    public long Seed { get; init; } = 1;
    /// <summary>"auto", "cpu", "cuda" or "cuda:N".</summary>
    [Required, RegularExpression(@"^(auto|cpu|cuda(:\d+)?)$", ErrorMessage = "Device must be auto, cpu, cuda or cuda:N."),
     Description("Device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
    public string Device { get; init; } = "auto";
    /// <summary>libtorch intra-op threads (0 = libtorch's default).</summary>
    [Range(0, 256), Description("CPU threads for libtorch (0 = libtorch's default, usually all cores).")]
    public int Threads { get; init; } = 0;

    /// <summary>The GPT shape this config trains.</summary>
    public GptConfig ModelConfig(int vocabSize) => new()
    {
        VocabSize = vocabSize, ContextLength = ContextLength, Layers = Layers, Heads = Heads,
        EmbeddingDim = EmbeddingDim, Dropout = Dropout,
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Levels is { Length: > 0 })
        {
            foreach (var level in Levels)
                if (!MiniMath.Levels.Contains(level))
                    yield return new ValidationResult($"Levels: {level} is not a MiniMath level (1..5).", [nameof(Levels)]);
            if (Levels.Distinct().Count() != Levels.Length)
                yield return new ValidationResult("Levels: each level may appear once.", [nameof(Levels)]);
        }
        if (Heads > 0 && EmbeddingDim % Heads != 0)
            yield return new ValidationResult($"EmbeddingDim ({EmbeddingDim}) must be a multiple of Heads ({Heads}).", [nameof(EmbeddingDim), nameof(Heads)]);
        if (MinLearningRate > LearningRate)
            yield return new ValidationResult($"MinLearningRate ({MinLearningRate}) must not exceed LearningRate ({LearningRate}).", [nameof(MinLearningRate)]);
        if (WarmupSteps > Steps)
            yield return new ValidationResult($"WarmupSteps ({WarmupSteps}) must not exceed Steps ({Steps}).", [nameof(WarmupSteps)]);
    }

    /// <summary>Runs every attribute and cross-field check; throws one <see cref="ValidationException"/> listing
    /// each problem as "Member: message".</summary>
    public void EnsureValid()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
            throw new ValidationException("invalid sft config: " + string.Join("; ",
                results.Select(r => r.MemberNames.Any() && !r.ErrorMessage!.StartsWith(r.MemberNames.First(), StringComparison.Ordinal)
                    ? $"{string.Join(", ", r.MemberNames)}: {r.ErrorMessage}" : r.ErrorMessage)));
    }
}
