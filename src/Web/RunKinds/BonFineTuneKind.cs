// Run kind "bon-finetune" (issue #4): Best-of-N-aware fine-tuning of a stored model (Training's BonFineTune, methods.md §2).
// The config is BonFineTuneConfig's fields plus the starting model and the learned verifier as Model row ids (resolved
// to checkpoint paths here, like bon-eval does), and an optional continuation: when the fine-tune succeeds, queue a
// bon-eval of its final checkpoint with the settings of a given baseline bon-eval (ParentRunId = this run).
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;
using BonStudio.Training.FineTuning;
using BonStudio.Training.Runtime;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.RunKinds;

/// <summary>Configuration of a bon-finetune run: <see cref="BonFineTuneConfig"/> with models named by id.</summary>
public sealed record BonFineTuneRunConfig : IRunConfig, IValidatableObject
{
    // starting model
    /// <summary>The model to fine-tune.</summary>
    [Description("Id of the starting model (a \"gpt\" checkpoint, e.g. an sft run's): see the Models page or GET /api/models."), Range(1, int.MaxValue)]
    public int ModelId { get; init; } = 1;

    // continuation
    /// <summary>Baseline bon-eval whose settings evaluate the fine-tuned model afterwards (0 = none).</summary>
    [Description("Evaluate after: run id of a baseline bon-eval; when this fine-tune succeeds, a bon-eval of its final checkpoint with the same settings is queued (0 = none)."), Range(0, int.MaxValue)]
    public int EvaluateAfter { get; init; } = 0;

    /// <summary>Which objective (methods.md §2): sft and rl are the N' = 1 baselines.</summary>
    [Required, AllowedValues("sft", "rl", "bon-sft", "bon-rl-v", "bon-rl-s", "bon-rlb", "bon-rlb-p"),
     Description("Method: sft, rl (RLOO, N'=1), bon-sft (imitation through BoN), bon-rl-v (select+reward by verifier), bon-rl-s (select by verifier, reward by checker), bon-rlb (pass@N'), bon-rlb-p (pass@N', positives only).")]
    public string Method { get; init; } = "bon-rlb";
    /// <summary>N', the Best-of-N the training targets (1 for sft and rl).</summary>
    [Range(1, 1024), Description("N': the Best-of-N the training targets (must be 1 for sft and rl).")]
    public int NPrime { get; init; } = 4;
    /// <summary>n, responses sampled per prompt per step (≥ N' + 1 for the leave-one-out estimator).</summary>
    [Range(1, 1024), Description("n: responses sampled per prompt per step with the current policy (at least N'+1; at least 2 for rl).")]
    public int SamplesPerPrompt { get; init; } = 8;
    /// <summary>Sampling temperature used for training samples and validation.</summary>
    [Range(0.05, 5.0), Description("Sampling temperature for training samples and validation.")]
    public double Temperature { get; init; } = 1.0;
    /// <summary>Most tokens per sampled response.</summary>
    [Range(1, 4096), Description("Most tokens generated per response (also limited by the model's context).")]
    public int MaxNewTokens { get; init; } = 96;

    // verifier
    /// <summary>The verifier s(x, y) that Best-of-N selects by.</summary>
    [Required, AllowedValues("oracle", "noisy-oracle", "reward-model"),
     Description("Verifier: oracle (the checker), noisy-oracle (checker with verdicts flipped with probability ε) or reward-model (a learned verifier checkpoint).")]
    public string Verifier { get; init; } = "oracle";
    /// <summary>ε of the noisy oracle.</summary>
    [Range(0.0, 1.0), Description("Noisy oracle: probability ε that a verdict is flipped.")]
    public double NoiseEpsilon { get; init; } = 0.1;
    /// <summary>Learned verifier: the Model row of a reward model (a `verifier` run's checkpoint).</summary>
    [Range(0, int.MaxValue), Description("Reward model: model id of a `verifier` run's checkpoint (see the Models page); used when verifier = reward-model.")]
    public int RewardModelId { get; init; } = 0;

    // optimisation
    /// <summary>Peak AdamW learning rate.</summary>
    [Range(1e-8, 1.0), Description("Peak learning rate (AdamW).")]
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>Learning-rate schedule after warm-up.</summary>
    [Required, AllowedValues("constant", "cosine", "linear"), Description("Schedule after warm-up: constant, cosine (to 0) or linear (to 0).")]
    public string Schedule { get; init; } = "constant";
    /// <summary>Linear warm-up steps.</summary>
    [Range(0, 1_000_000), Description("Steps of linear learning-rate warm-up (at most Steps).")]
    public int WarmupSteps { get; init; } = 0;
    /// <summary>AdamW decoupled weight decay (matrices only).</summary>
    [Range(0.0, 1.0), Description("AdamW weight decay on weight matrices (0 = none, usual for fine-tuning).")]
    public double WeightDecay { get; init; } = 0.0;
    /// <summary>Optimizer steps.</summary>
    [Range(1, 10_000_000), Description("Number of optimizer steps.")]
    public int Steps { get; init; } = 200;
    /// <summary>Training prompts per step (P).</summary>
    [Range(1, 4096), Description("Training prompts per step; each gets n sampled responses.")]
    public int PromptsPerStep { get; init; } = 8;
    /// <summary>β of the KL penalty to the starting model (0 = off).</summary>
    [Range(0.0, 100.0), Description("KL penalty coefficient β to the frozen starting model (0 = off; train/kl is logged either way: every step when β > 0, else every 10 steps).")]
    public double KlCoefficient { get; init; } = 0.0;
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    [Range(0.0, 1000.0), Description("Clip the global gradient norm to this value (0 = no clipping).")]
    public double GradClip { get; init; } = 1.0;
    /// <summary>Clip every weight a_j to [−c, c] (0 = off); the demonstration's a* = 1 is never clipped.</summary>
    [Range(0.0, 1000.0), Description("Clip each sample weight to [−c, c] (0 = no clipping).")]
    public double WeightClip { get; init; } = 0.0;

    // data
    /// <summary>MiniMath levels, mixed round-robin.</summary>
    [Required, MinLength(1), Description("MiniMath difficulty levels to train and validate on (1..5), mixed evenly.")]
    public int[] Levels { get; init; } = [1, 2, 3];
    /// <summary>Size of the pool training prompts are drawn from (with replacement, seeded per step).</summary>
    [Range(1, 2_000_000), Description("Number of distinct training problems generated; each step draws its prompts from this pool.")]
    public int TrainProblems { get; init; } = 20_000;

    // validation and checkpoints
    /// <summary>Validate every K steps (0 = only at the end).</summary>
    [Range(0, 1_000_000), Description("Measure BoN@k and pass@k on the validation split every K steps (0 = only at the end).")]
    public int ValidationEvery { get; init; } = 50;
    /// <summary>Validation prompts.</summary>
    [Range(1, 100_000), Description("Validation problems (the same ones every time).")]
    public int ValidationProblems { get; init; } = 64;
    /// <summary>Samples per validation prompt (the largest k reported).</summary>
    [Range(1, 1024), Description("Samples per validation prompt; BoN@k and pass@k are reported for k = 1, 4, 16, … up to it.")]
    public int ValidationSamples { get; init; } = 16;
    /// <summary>Checkpoint every K steps (0 = only the final one).</summary>
    [Range(0, 1_000_000), Description("Write a checkpoint every K steps (0 = only the final one). Runs resume from the newest.")]
    public int CheckpointEvery { get; init; } = 50;

    // runtime
    /// <summary>Seed of every random choice of the run.</summary>
    [Range(0, long.MaxValue), Description("Seed for every random number generator of the run.")]
    public long Seed { get; init; } = 1;
    /// <summary>"auto", "cpu", "cuda" or "cuda:N".</summary>
    [Required, RegularExpression(@"^(auto|cpu|cuda(:\d+)?)$", ErrorMessage = "Device must be auto, cpu, cuda or cuda:N."),
     Description("Device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
    public string Device { get; init; } = "auto";
    /// <summary>libtorch intra-op threads (0 = default).</summary>
    [Range(0, 256), Description("CPU threads for libtorch (0 = libtorch's default).")]
    public int Threads { get; init; } = 0;

    /// <summary>The Training config, with the reward model's checkpoint path already resolved.</summary>
    public BonFineTuneConfig ToTraining(string rewardModelPath) =>
        JsonSerializer.Deserialize<BonFineTuneConfig>(JsonSerializer.Serialize(this))! with { RewardModelPath = rewardModelPath };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Verifier == "reward-model" && RewardModelId < 1)
            yield return new ValidationResult("The field rewardModelId must name a reward model when verifier is reward-model.", [nameof(RewardModelId)]);
        // The Training record's cross-field rules (N' vs n, levels, warm-up); the reward model path is checked above.
        var training = ToTraining(RewardModelId > 0 ? $"model#{RewardModelId}" : "");
        foreach (var r in training.Validate(new ValidationContext(training)))
            if (!r.MemberNames.Contains(nameof(BonFineTuneConfig.RewardModelPath)))
                yield return r;
    }
}

public sealed class BonFineTuneKind : RunKind<BonFineTuneRunConfig>
{
    private readonly IServiceScopeFactory? _scopes;

    /// <summary>Without services (tests that only bind configs): evaluateAfter cannot queue and says so.</summary>
    public BonFineTuneKind() { }

    /// <summary>The host's constructor: the scope factory reaches RunService to queue the follow-up evaluation.</summary>
    public BonFineTuneKind(IServiceScopeFactory scopes) => _scopes = scopes;

    public override string Name => BonFineTune.Kind;
    public override string Title => "BoN-aware fine-tuning";
    public override string Description =>
        "Fine-tune a stored model for Best-of-N sampling (BoN-SFT, BoN-RL-V/S, BoN-RLB(-P), or the SFT/RL baselines) on MiniMath, with validation BoN@k and pass@k; optionally evaluate the result like a baseline bon-eval.";

    public override BonFineTuneRunConfig DefaultConfig() => new();

    protected override void Execute(BonFineTuneRunConfig config, string runDirectory, IRunReporter reporter)
    {
        var db = reporter as DbRunReporter
            ?? throw new InvalidOperationException("bon-finetune resolves model ids in the database: run it through the job or `run` (a DbRunReporter).");
        var store = new EvaluationStore(db.DbFactory);
        var (basePath, baseName) = store.ModelPath(config.ModelId);
        string rewardPath = config.Verifier == "reward-model" ? store.ModelPath(config.RewardModelId).Path : "";
        if (config.EvaluateAfter > 0) BaselineConfig(db, config.EvaluateAfter); // fail before training, not after
        store.SetRunModel(db.RunId, config.ModelId);
        reporter.Log($"bon-finetune: starting model {config.ModelId} ({baseName})");

        var result = BonFineTune.Execute(config.ToTraining(rewardPath), basePath, runDirectory, reporter);
        // The final checkpoint must be a Model row before the continuation can name it.
        db.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
        if (config.EvaluateAfter > 0) QueueEvaluation(db, config.EvaluateAfter, result.FinalCheckpointPath, reporter);
    }

    /// <summary>The baseline bon-eval's stored config (throws naming evaluateAfter when it is not a bon-eval run).</summary>
    private static JsonObject BaselineConfig(DbRunReporter db, int baselineRunId)
    {
        using var ctx = db.DbFactory.CreateDbContext();
        var baseline = ctx.Runs.AsNoTracking().Where(r => r.Id == baselineRunId).Select(r => new { r.Kind, r.ConfigJson }).FirstOrDefault()
            ?? throw new ArgumentException($"evaluateAfter: run {baselineRunId} does not exist.");
        if (baseline.Kind != BonEvalKind.KindName)
            throw new ArgumentException($"evaluateAfter: run {baselineRunId} is a '{baseline.Kind}' run, not a {BonEvalKind.KindName}.");
        return JsonNode.Parse(baseline.ConfigJson) as JsonObject
            ?? throw new ArgumentException($"evaluateAfter: run {baselineRunId} has no config object.");
    }

    /// <summary>Queues (once: a resumed run finds the earlier one) a bon-eval of the final checkpoint with the baseline's settings.</summary>
    private void QueueEvaluation(DbRunReporter db, int baselineRunId, string finalCheckpointPath, IRunReporter reporter)
    {
        if (_scopes is null) throw new InvalidOperationException("evaluateAfter needs the host's services (run through the job or `run`).");
        int modelId;
        int? experimentId;
        string runName;
        using (var ctx = db.DbFactory.CreateDbContext())
        {
            var existing = ctx.Runs.AsNoTracking().Where(r => r.ParentRunId == db.RunId && r.Kind == BonEvalKind.KindName).Select(r => (int?)r.Id).FirstOrDefault();
            if (existing is int id) { reporter.Log($"evaluateAfter: bon-eval run {id} was already queued"); return; }
            var full = Path.GetFullPath(finalCheckpointPath);
            modelId = ctx.Models.AsNoTracking().Where(m => m.ProducedByRunId == db.RunId && m.Path == full).Select(m => (int?)m.Id).FirstOrDefault()
                ?? ctx.Models.AsNoTracking().Where(m => m.ProducedByRunId == db.RunId && m.IsFinal).OrderByDescending(m => m.Id).Select(m => (int?)m.Id).FirstOrDefault()
                ?? throw new InvalidOperationException($"evaluateAfter: the final checkpoint {finalCheckpointPath} was not registered as a model.");
            var self = ctx.Runs.AsNoTracking().Where(r => r.Id == db.RunId).Select(r => new { r.ExperimentId, r.Name }).First();
            experimentId = self.ExperimentId;
            runName = $"{self.Name} · eval like #{baselineRunId}";
        }
        var evalConfig = BaselineConfig(db, baselineRunId);
        evalConfig["modelId"] = modelId;

        using var scope = _scopes.CreateScope();
        var runs = scope.ServiceProvider.GetRequiredService<RunService>();
        var created = runs.CreateAsync(new CreateRunRequest(BonEvalKind.KindName, runName, evalConfig, ["after-finetune"], ExperimentId: experimentId))
            .GetAwaiter().GetResult();
        if (!created.IsValid)
            throw new InvalidOperationException("evaluateAfter: the follow-up bon-eval is invalid: " + string.Join("; ", created.ErrorLines));
        using (var ctx = db.DbFactory.CreateDbContext())
            ctx.Runs.Where(r => r.Id == created.RunId).ExecuteUpdate(s => s.SetProperty(r => r.ParentRunId, db.RunId));
        reporter.Log($"evaluateAfter: queued bon-eval run {created.RunId} of model {modelId} with the settings of run {baselineRunId}");
    }
}
