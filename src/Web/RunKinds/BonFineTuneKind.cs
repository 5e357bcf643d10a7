// Run kind "bon-finetune" (issue #4): Best-of-N-aware fine-tuning of a stored model (Training's BonFineTune, methods.md §2).
// The config composes BonFineTuneConfig (its parameters are not re-declared here) and adds the starting model and the
// learned verifier as Model row ids (resolved to checkpoint paths here, like bon-eval does), and an optional continuation:
// when the fine-tune succeeds, queue a bon-eval of its final checkpoint with the settings of a given baseline bon-eval
// (ParentRunId = this run).
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using BonStudio.Data.Entities;
using BonStudio.Training.FineTuning;
using BonStudio.Training.Runtime;
using BonStudio.Web.Jobs;
using BonStudio.Web.Services;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.RunKinds;

/// <summary>Configuration of a bon-finetune run: <see cref="BonFineTuneConfig"/>'s parameters, with the models named by id.</summary>
[SetByRunKind(nameof(BonFineTuneConfig.RewardModelPath))]
public sealed record BonFineTuneRunConfig : ComposedRunConfig<BonFineTuneConfig>, IValidatableObject
{
    /// <summary>The model to fine-tune.</summary>
    [Description("Id of the starting model (a GPT or LLaMA checkpoint: an sft run's or an imported model): see the Models page or GET /api/models."), Range(1, int.MaxValue)]
    public int ModelId { get; init; } = 1;

    /// <summary>Baseline bon-eval whose settings evaluate the fine-tuned model afterwards (0 = none).</summary>
    [Description("Evaluate after: run id of a baseline bon-eval; when this fine-tune succeeds, a bon-eval of its final checkpoint with the same settings is queued (0 = none)."), Range(0, int.MaxValue)]
    public int EvaluateAfter { get; init; } = 0;

    /// <summary>Learned verifier: the Model row of a reward model (a `verifier` run's checkpoint); stands for RewardModelPath.</summary>
    [Range(0, int.MaxValue), Description("Reward model: model id of a `verifier` run's checkpoint (see the Models page); used when verifier = reward-model.")]
    public int RewardModelId { get; init; } = 0;

    /// <summary>The Training config, with the reward model's checkpoint path already resolved.</summary>
    public BonFineTuneConfig ToTraining(string rewardModelPath) => Training with { RewardModelPath = rewardModelPath };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Training.Verifier == "reward-model" && RewardModelId < 1)
            yield return new ValidationResult("The field rewardModelId must name a reward model when verifier is reward-model.", [nameof(RewardModelId)]);
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

    protected override WorkEstimate Estimate(BonFineTuneRunConfig config)
    {
        var c = config.ToTraining();
        long validations = c.ValidationEvery > 0 ? c.Steps / c.ValidationEvery : 0;
        return WorkEstimate.Of(
            ("optimizer steps", c.Steps),
            ("sampled responses (training)", (long)c.Steps * c.PromptsPerStep * c.SamplesPerPrompt),
            ("sampled responses (validation)", validations * c.ValidationProblems * c.ValidationSamples));
    }

    protected override void Execute(BonFineTuneRunConfig config, string runDirectory, IRunReporter reporter)
    {
        var db = RequireDatabase(reporter, "resolves model ids in the database");
        var store = new EvaluationStore(db.DbFactory);
        var (basePath, baseName) = store.ModelPath(config.ModelId);
        string rewardPath = config.Training.Verifier == "reward-model" ? store.ModelPath(config.RewardModelId).Path : "";
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
