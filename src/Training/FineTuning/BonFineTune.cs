// The `bon-finetune` run kind: Best-of-N-aware fine-tuning of a GPT on MiniMath (methods.md §2, issue #4), after
// "Inference-Aware Fine-Tuning for Best-of-N Sampling in Large Language Models". One file, top to bottom (CleanRL
// style): config, result, Execute (setup, resume, loop), the step, validation, helpers.
//
// Every method is one weighted log-likelihood step. Per step: draw PromptsPerStep training prompts, sample
// n = SamplesPerPrompt responses per prompt with the CURRENT policy (one batched KV-cached sampler call), check them,
// score them with the verifier, compute the weights with BonWeights (the one estimator), then minimise
//     L = −(1/P) Σ_prompts Σ_j a_j · log π(y_j | x)  +  β · (1/(P·n)) Σ_samples KL_seq(π ‖ π_start)
// where log π(y | x) is the SUM of the response's token log-probs (EOS included when it stopped) and P is the number
// of prompts in the step (so the learning rate does not depend on PromptsPerStep; the 1/n is inside the weights).
// KL_seq is Σ_t KL(π(·|x,y<t) ‖ π_start(·|x,y<t)) along the sampled responses (exact per position, over the vocabulary).
// sft and bon-sft add the MiniMath reference completion y* with weight a* = 1. sft still samples (for the logged
// reward/diversity and so every method spends the same sample budget), but its sample weights are 0.
//
// Metrics (IRunReporter, step = optimizer steps done): train/loss, train/lr, train/grad_norm, train/mean_reward
// (checker), train/mean_score (verifier), train/kl (every step when β > 0; else every KlLogEvery steps, first and last), weights/mean, weights/abs_mean, weights/positive_fraction,
// weights/negative_fraction (over the sampled responses), weights/abs_by_failure_bin_{b} (b = 0..4: mean over the
// step's prompts whose failure rate p̂ = 1 − c/n falls in [b/5, (b+1)/5), the last bin closed, of Σ_j |a_j|; only bins
// that hold a prompt are reported), diversity/distinct_answers, diversity/answer_entropy (nats; a missing answer is
// one more answer value), charts/samples_per_s, and every ValidationEvery steps val/pass_at_{k}, val/bon_at_{k}
// (k = 1, 4, 16, … ≤ ValidationSamples, plus ValidationSamples itself), val/mean_reward, val/distinct_answers.
// The raw (step, prompt, p̂, Σa, Σ|a|) pairs of the weight-vs-failure scatter go to weights_vs_failure.csv in the run
// directory (one row per training prompt per step) — the UI draws its scatter from that file or from the bins.
//
// Files: runDirectory/checkpoints/step-NNNNNNN.safetensors (+ .optim = AdamW state), weights_vs_failure.csv.
// Resume: re-running Execute in the same directory continues from the newest checkpoint. Everything random is a pure
// function of (Seed, step): the prompts of a step, the sampler's generator, the noisy verifier's flips and libtorch's
// global seed, so a resumed run takes exactly the step an uninterrupted one would.
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using BonStudio.Training.Verifiers;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BonStudio.Training.FineTuning;

/// <summary>Everything a `bon-finetune` run needs. The attributes drive the web form, API validation and `run`.</summary>
public sealed record BonFineTuneConfig : IRunConfig, IValidatableObject
{
    /// <summary>Method names as the form and config files spell them.</summary>
    public static IReadOnlyDictionary<string, BonMethod> Methods { get; } = new Dictionary<string, BonMethod>(StringComparer.Ordinal)
    {
        ["sft"] = BonMethod.Sft, ["rl"] = BonMethod.Rl, ["bon-sft"] = BonMethod.BonSft, ["bon-rl-v"] = BonMethod.BonRlV,
        ["bon-rl-s"] = BonMethod.BonRlS, ["bon-rlb"] = BonMethod.BonRlb, ["bon-rlb-p"] = BonMethod.BonRlbP,
    };

    // method
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
    /// <summary>Path of a reward-model checkpoint (from a `verifier` run), for Verifier = reward-model.</summary>
    [MaxLength(4096), Description("Reward model: path of the .safetensors checkpoint a `verifier` run produced.")]
    public string RewardModelPath { get; init; } = "";

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

    /// <summary>The parsed <see cref="Method"/> (not serialised: it is derived, and throws for an unknown method).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public BonMethod MethodKind => Methods.TryGetValue(Method, out var m) ? m
        : throw new ValidationException($"Method: '{Method}' is not one of {string.Join(", ", Methods.Keys)}.");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Methods.TryGetValue(Method ?? "", out var method))
        {
            if (method is BonMethod.Sft or BonMethod.Rl && NPrime != 1)
                yield return new ValidationResult($"NPrime must be 1 for method {Method} (an N'=1 baseline), got {NPrime}.", [nameof(NPrime)]);
            if (method == BonMethod.Rl && SamplesPerPrompt < 2)
                yield return new ValidationResult($"SamplesPerPrompt must be at least 2 for rl (leave-one-out baseline), got {SamplesPerPrompt}.", [nameof(SamplesPerPrompt)]);
            if (method is not (BonMethod.Sft or BonMethod.Rl) && SamplesPerPrompt < NPrime + 1)
                yield return new ValidationResult($"SamplesPerPrompt (n = {SamplesPerPrompt}) must be at least NPrime + 1 = {NPrime + 1} for {Method}.",
                    [nameof(SamplesPerPrompt), nameof(NPrime)]);
        }
        if (Verifier == "reward-model" && string.IsNullOrWhiteSpace(RewardModelPath))
            yield return new ValidationResult("RewardModelPath is required when Verifier is reward-model.", [nameof(RewardModelPath)]);
        if (Levels is { Length: > 0 })
        {
            foreach (var level in Levels)
                if (!MiniMath.Levels.Contains(level))
                    yield return new ValidationResult($"Levels: {level} is not a MiniMath level (1..5).", [nameof(Levels)]);
            if (Levels.Distinct().Count() != Levels.Length)
                yield return new ValidationResult("Levels: each level may appear once.", [nameof(Levels)]);
        }
        if (WarmupSteps > Steps)
            yield return new ValidationResult($"WarmupSteps ({WarmupSteps}) must not exceed Steps ({Steps}).", [nameof(WarmupSteps)]);
    }

    /// <summary>Runs every attribute and cross-field check; throws one <see cref="ValidationException"/> naming each field.</summary>
    public void EnsureValid()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
            throw new ValidationException("invalid bon-finetune config: " + string.Join("; ", results.Select(r =>
                r.MemberNames.Any() && !r.ErrorMessage!.StartsWith(r.MemberNames.First(), StringComparison.Ordinal)
                    ? $"{string.Join(", ", r.MemberNames)}: {r.ErrorMessage}" : r.ErrorMessage)));
    }
}

/// <summary>What a `bon-finetune` run produced.</summary>
/// <param name="Validation">The final validation metrics by name (val/pass_at_k, val/bon_at_k, …).</param>
public sealed record BonFineTuneResult(string FinalCheckpointPath, long Steps, IReadOnlyDictionary<string, double> Validation, double TrainSeconds);

/// <summary>What one training step did (returned for tests and logged as metrics).</summary>
public sealed record BonStepStats(double Loss, double MeanReward, double MeanScore, double Kl, double GradNorm,
    double[] SampleWeights, double[] FailureRates, double DistinctAnswers, double AnswerEntropy, int Samples);

public static class BonFineTune
{
    public const string Kind = "bon-finetune";
    public const string CheckpointFolder = "checkpoints";

    /// <summary>
    /// Runs (or resumes) a `bon-finetune` run from <paramref name="baseCheckpointPath"/> (any causal LM checkpoint: trained GPT, imported LLaMA or GPT-2) synchronously.
    /// Throws <see cref="ValidationException"/> for an invalid config, <see cref="OperationCanceledException"/> when the
    /// reporter's token fires (checked between steps).
    /// </summary>
    public static BonFineTuneResult Execute(BonFineTuneConfig config, string baseCheckpointPath, string runDirectory, IRunReporter reporter)
    {
        config.EnsureValid();
        var ct = reporter.CancellationToken;
        ct.ThrowIfCancellationRequested();
        if (!File.Exists(baseCheckpointPath)) throw new FileNotFoundException($"base checkpoint '{baseCheckpointPath}' does not exist.", baseCheckpointPath);
        var device = TorchRuntime.ResolveDevice(config.Device);
        TorchRuntime.SetThreads(config.Threads);
        var runDir = Path.GetFullPath(runDirectory);
        var checkpointDir = Path.Combine(runDir, CheckpointFolder);
        Directory.CreateDirectory(checkpointDir);
        var configJson = JsonSerializer.Serialize(config);
        reporter.Log($"{Kind}: method {config.Method}, N'={config.NPrime}, n={config.SamplesPerPrompt}, verifier {config.Verifier}; device {device.type}, threads {get_num_threads()}, {TorchRuntime.Versions}");
        reporter.Log($"hyperparameters: {configJson}");

        // TRY NOT TO MODIFY: seeding. Every random choice is a function of (Seed, step); see StepSeed.
        TorchRuntime.Seed(config.Seed);

        var (policy, baseMeta) = LoadPolicy(baseCheckpointPath, device);
        var (reference, _) = LoadPolicy(baseCheckpointPath, device); // frozen start model for the KL
        reference.eval();
        foreach (var p in reference.parameters()) p.requires_grad_(false);
        var tokenizer = TokenizerRegistry.Resolve(baseMeta.Tokenizer);
        using var verifier = MakeVerifier(config, device);
        var optimizer = MakeOptimizer(policy, config);
        CheckpointMetadata Metadata(long step) => new(baseMeta.Architecture, baseMeta.ModelConfigJson, tokenizer.Name, step, configJson);

        var train = MiniMath.Generate("train", config.TrainProblems, config.Levels, config.Seed);
        var validation = MiniMath.Generate("validation", config.ValidationProblems, config.Levels, config.Seed);

        long startStep = 0;
        if (LatestCheckpoint(checkpointDir) is { } resume)
        {
            Checkpoint.LoadInto(policy, resume.Path);
            optimizer.load_py(OptimizerPath(resume.Path));
            startStep = resume.Step;
            reporter.Log($"resumed from {resume.Path} at step {startStep}");
        }
        reporter.Log($"policy: {ParameterCount(policy):N0} parameters ({baseMeta.Architecture}) from {baseCheckpointPath}; {train.Count} train / {validation.Count} validation problems, levels [{string.Join(",", config.Levels)}]");

        var csvPath = Path.Combine(runDir, "weights_vs_failure.csv");
        if (startStep == 0 || !File.Exists(csvPath)) File.WriteAllText(csvPath, "step,prompt_id,level,failure_rate,weight_sum,weight_abs_sum\n");
        else TruncateCsvAfter(csvPath, startStep); // drop rows of steps the checkpoint does not contain

        // ALGO LOGIC: training loop.
        var clock = Stopwatch.StartNew();
        IReadOnlyDictionary<string, double> lastValidation = new Dictionary<string, double>();
        for (long step = startStep; step < config.Steps; step++)
        {
            ct.ThrowIfCancellationRequested();
            double lr = LearningRateAt(step, config);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            var stepClock = Stopwatch.StartNew();
            var prompts = PromptsOfStep(train, config, step);
            var (stats, rows) = TrainStep(policy, reference, optimizer, tokenizer, verifier, prompts, config, step);
            long done = step + 1;

            Report(reporter, done, lr, stats, stepClock.Elapsed.TotalSeconds);
            File.AppendAllLines(csvPath, rows);
            reporter.Progress(0.97 * done / config.Steps,
                $"step {done}/{config.Steps} loss {stats.Loss:F4} reward {stats.MeanReward:F3} kl {stats.Kl:F4}");

            bool last = done == config.Steps;
            if (last || (config.ValidationEvery > 0 && done % config.ValidationEvery == 0))
                lastValidation = Validate(policy, tokenizer, verifier, validation, config, done, reporter);
            if (!last && config.CheckpointEvery > 0 && done % config.CheckpointEvery == 0)
                SaveCheckpoint(checkpointDir, policy, optimizer, Metadata(done), reporter, isFinal: false);
        }
        if (startStep >= config.Steps) lastValidation = Validate(policy, tokenizer, verifier, validation, config, config.Steps, reporter);
        var finalPath = SaveCheckpoint(checkpointDir, policy, optimizer, Metadata(config.Steps), reporter, isFinal: true);
        reporter.Progress(1, "done");
        optimizer.Dispose(); policy.Dispose(); reference.Dispose();
        return new BonFineTuneResult(finalPath, config.Steps, lastValidation, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// One optimizer step on <paramref name="prompts"/> (public so tests can take a single step on a toy policy):
    /// sample, check, score, weight, and minimise the weighted negative log-likelihood (+ β·KL). Returns the step's
    /// statistics and the weight-vs-failure CSV rows.
    /// </summary>
    public static (BonStepStats Stats, List<string> CsvRows) TrainStep(Module<Tensor, Tensor> policy, Module<Tensor, Tensor> reference, AdamW optimizer, ITokenizer tokenizer,
        IVerifier verifier, IReadOnlyList<MathProblem> prompts, BonFineTuneConfig config, long step)
    {
        var method = config.MethodKind;
        int n = config.SamplesPerPrompt;
        int bos = tokenizer.BosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no BOS token.");
        int eos = tokenizer.EosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no EOS token.");
        manual_seed(StepSeed(config.Seed, step, 1)); // dropout, if the model has any

        // 1. Sample n responses per prompt with the current policy: one batch of P·n rows.
        policy.eval();
        var promptTokens = prompts.Select(p => (int[])[bos, .. tokenizer.Encode(MiniMath.Prompt(p))]).ToArray();
        var rowsPrompts = promptTokens.SelectMany(t => Enumerable.Repeat(t, n)).ToList();
        var sampler = new Sampler(Lm(policy), tokenizer);
        var samples = sampler.Sample(rowsPrompts, new SamplingOptions
        {
            Temperature = config.Temperature, MaxNewTokens = config.MaxNewTokens, StopTokenIds = [eos], Seed = StepSeed(config.Seed, step, 2),
        });

        // 2. Check and score; 3. weights per prompt.
        var sequences = new List<PromptCompletion>();
        var weights = new List<double>();
        var isSample = new List<bool>();
        var sampleWeights = new List<double>();
        var failureRates = new double[prompts.Count];
        var csv = new List<string>(prompts.Count);
        double rewardSum = 0, scoreSum = 0, distinctSum = 0, entropySum = 0;
        for (int p = 0; p < prompts.Count; p++)
        {
            var problem = prompts[p];
            var mine = Enumerable.Range(p * n, n).Select(i => samples[i]).ToArray();
            var texts = mine.Select(s => s.Text ?? tokenizer.Decode(s.TokenIds)).ToArray();
            var correct = texts.Select(t => MiniMath.IsCorrect(t, problem.Answer)).ToArray();
            var promptKey = $"{problem.Id}@{step}"; // the noisy oracle's flips differ from step to step
            var inputs = texts.Select((t, i) => new VerifierInput(promptKey, MiniMath.Prompt(problem), i, t, correct[i])).ToList();
            var demonstration = MiniMath.Completion(problem);
            if (method == BonMethod.BonSft) inputs.Add(new VerifierInput(promptKey, MiniMath.Prompt(problem), n, demonstration, true));
            var scores = verifier.Score(inputs);
            var sampleScores = scores.Take(n).ToArray();

            var (demoWeight, a) = WeightsForPrompt(method, correct, sampleScores, method == BonMethod.BonSft ? scores[n] : null,
                config.NPrime, config.WeightClip);

            if (demoWeight != 0)
            {
                sequences.Add(new PromptCompletion(promptTokens[p], [.. tokenizer.Encode(demonstration), eos]));
                weights.Add(demoWeight); isSample.Add(false);
            }
            for (int i = 0; i < n; i++)
            {
                int[] completion = mine[i].FinishReason == FinishReason.Stop ? [.. mine[i].TokenIds, eos] : mine[i].TokenIds;
                sequences.Add(new PromptCompletion(promptTokens[p], completion));
                weights.Add(a[i]); isSample.Add(true);
            }
            sampleWeights.AddRange(a);

            int c = correct.Count(x => x);
            failureRates[p] = 1 - (double)c / n;
            rewardSum += c; scoreSum += sampleScores.Sum();
            var (distinct, entropy) = AnswerDiversity(texts);
            distinctSum += distinct; entropySum += entropy;
            csv.Add(string.Create(CultureInfo.InvariantCulture,
                $"{step + 1},{problem.Id},{problem.Level},{failureRates[p]:G6},{a.Sum():G6},{a.Sum(Math.Abs):G6}"));
        }

        // 4. One weighted log-likelihood step (+ KL to the start model on the sampled responses).
        bool measureKl = step == 0 || (step + 1) % KlLogEvery == 0 || step + 1 == config.Steps;
        var (loss, kl, gradNorm) = WeightedStep(policy, reference, optimizer, sequences, weights, isSample, prompts.Count, config.KlCoefficient,
            config.GradClip, measureKl);
        if (!double.IsFinite(loss)) throw new InvalidOperationException($"training diverged at step {step + 1}: loss is {loss} (try a lower LearningRate or a WeightClip).");

        int count = prompts.Count * n;
        var stats = new BonStepStats(loss, rewardSum / count, scoreSum / count, kl, gradNorm, sampleWeights.ToArray(), failureRates,
            distinctSum / prompts.Count, entropySum / prompts.Count, count);
        return (stats, csv);
    }

    /// <summary>
    /// The weights of one prompt under <paramref name="method"/>: (demonstration weight a*, sample weights a_j).
    /// sft: a* = 1, a_j = 0. bon-sft: BonWeights.ForBonSft with the demonstration's verifier score
    /// <paramref name="demoScore"/>. RL methods: BonWeights.ForRl (N' = 1 for rl), a* = 0. Then |a_j| ≤ weightClip if > 0.
    /// </summary>
    public static (double Demonstration, double[] Samples) WeightsForPrompt(BonMethod method, IReadOnlyList<bool> correct,
        IReadOnlyList<double> sampleScores, double? demoScore, int nPrime, double weightClip)
    {
        (double Demo, double[] A) w = method switch
        {
            BonMethod.Sft => (1.0, new double[correct.Count]),
            BonMethod.BonSft => BonWeights.ForBonSft(demoScore ?? throw new ArgumentException("bon-sft needs the demonstration's verifier score.", nameof(demoScore)),
                sampleScores, nPrime),
            BonMethod.Rl => (0.0, BonWeights.ForRl(method, correct, sampleScores, 1)),
            _ => (0.0, BonWeights.ForRl(method, correct, sampleScores, nPrime)),
        };
        if (weightClip > 0) w.A = w.A.Select(x => Math.Clamp(x, -weightClip, weightClip)).ToArray();
        return w;
    }

    /// <summary>
    /// One optimizer step on L = −(1/promptCount) Σ_j a_j log π(y_j | x) + β · mean over sampled responses of KL_seq(π ‖ π_ref).
    /// Returns the loss, the mean KL over the sampled responses (NaN when not measured) and the gradient norm before clipping.
    /// When every weight is 0 and β = 0 the optimizer does not step (nothing to learn; AdamW's momentum alone would still
    /// move the model). With β = 0, sequences whose weight is 0 carry no gradient and are left out of the forward/backward
    /// (the same update, much less work: sft's samples, failed prompts); the KL is then measured separately, without
    /// gradient, only when <paramref name="measureKl"/> is set.
    /// </summary>
    public static (double Loss, double Kl, double GradNorm) WeightedStep(Module<Tensor, Tensor> policy, Module<Tensor, Tensor> reference, AdamW optimizer,
        IReadOnlyList<PromptCompletion> sequences, IReadOnlyList<double> weights, IReadOnlyList<bool> isSample, int promptCount,
        double klCoefficient, double gradClip, bool measureKl = true)
    {
        if (weights.Count != sequences.Count || isSample.Count != sequences.Count)
            throw new ArgumentException($"{sequences.Count} sequences but {weights.Count} weights and {isSample.Count} sample flags.");
        policy.train();
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        bool penalised = klCoefficient > 0;
        double klMeasured = double.NaN;
        if (!penalised && measureKl && isSample.Any(x => x))
            klMeasured = MeanCompletionKl(policy, reference, sequences.Where((_, i) => isSample[i]).ToList());
        // No signal (every weight 0 and no KL term, e.g. RL on prompts where all n samples failed): the loss is constant,
        // so skip the update. Otherwise AdamW would keep moving the model on stale momentum, and its normalised steps
        // do not shrink with the (zero) gradient; that drift collapsed sparse-reward RL runs here.
        if (!penalised && weights.All(w => w == 0)) return (0.0, klMeasured, 0.0);

        var used = Enumerable.Range(0, sequences.Count).Where(i => penalised || weights[i] != 0).ToList();
        var device = Lm(policy).Device;
        var batch = SequenceLikelihood.Collate(used.Select(i => sequences[i]).ToList(), device);
        var logProbs = SequenceLikelihood.CompletionLogProbs(policy, batch, out var logits);   // (S,)
        var a = tensor(used.Select(i => (float)weights[i]).ToArray()).to(device);             // (S,)
        var objective = -(a * logProbs).sum() / promptCount;
        var total = objective;
        if (penalised)
        {
            Tensor referenceLogits;
            using (no_grad()) referenceLogits = reference.forward(batch.Input);                // (S, T, V)
            var klPerSequence = SequenceLikelihood.CompletionKl(logits, referenceLogits, batch.CompletionMask); // (S,)
            var sampleMask = tensor(used.Select(i => isSample[i]).ToArray()).to(device);
            var klMean = isSample.Any(x => x) ? klPerSequence.masked_select(sampleMask).mean() : zeros(1).sum();
            total = objective + klCoefficient * klMean;
            klMeasured = klMean.item<float>();
        }
        total.backward();
        double gradNorm = gradClip > 0 ? nn.utils.clip_grad_norm_(policy.parameters(), gradClip) : GradNorm(policy);
        optimizer.step();
        return (total.item<float>(), klMeasured, gradNorm);
    }

    /// <summary>Mean KL_seq(π ‖ π_ref) over <paramref name="sequences"/>' completions, without gradient.</summary>
    private static double MeanCompletionKl(Module<Tensor, Tensor> policy, Module<Tensor, Tensor> reference, IReadOnlyList<PromptCompletion> sequences)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = SequenceLikelihood.Collate(sequences, Lm(policy).Device);
        var kl = SequenceLikelihood.CompletionKl(policy.forward(batch.Input), reference.forward(batch.Input), batch.CompletionMask); // (S,)
        return kl.mean().item<float>();
    }

    /// <summary>With β = 0 the KL to the start model is only logged (two extra forward passes): every this many steps,
    /// and at the first and last step.</summary>
    public const int KlLogEvery = 10;

    private static void Report(IRunReporter reporter, long step, double lr, BonStepStats s, double seconds)
    {
        reporter.Metric("train/loss", step, s.Loss);
        reporter.Metric("train/lr", step, lr);
        reporter.Metric("train/grad_norm", step, s.GradNorm);
        reporter.Metric("train/mean_reward", step, s.MeanReward);
        reporter.Metric("train/mean_score", step, s.MeanScore);
        if (double.IsFinite(s.Kl)) reporter.Metric("train/kl", step, s.Kl);
        var w = s.SampleWeights;
        reporter.Metric("weights/mean", step, w.Average());
        reporter.Metric("weights/abs_mean", step, w.Average(Math.Abs));
        reporter.Metric("weights/positive_fraction", step, w.Count(x => x > 0) / (double)w.Length);
        reporter.Metric("weights/negative_fraction", step, w.Count(x => x < 0) / (double)w.Length);
        int n = w.Length / s.FailureRates.Length;
        foreach (var bin in s.FailureRates.Select((f, p) => (Bin: FailureBin(f), Abs: w.Skip(p * n).Take(n).Sum(Math.Abs))).GroupBy(x => x.Bin))
            reporter.Metric($"weights/abs_by_failure_bin_{bin.Key}", step, bin.Average(x => x.Abs));
        reporter.Metric("diversity/distinct_answers", step, s.DistinctAnswers);
        reporter.Metric("diversity/answer_entropy", step, s.AnswerEntropy);
        reporter.Metric("charts/samples_per_s", step, s.Samples / Math.Max(seconds, 1e-9));
    }

    /// <summary>Bin b = 0..4 of a failure rate: [b/5, (b+1)/5), with 1.0 in bin 4.</summary>
    public static int FailureBin(double failureRate) => Math.Min(4, (int)Math.Floor(failureRate * 5));

    /// <summary>Number of distinct extracted answers and the entropy (nats) of their empirical distribution; a
    /// response without an answer counts as one more value.</summary>
    public static (int Distinct, double Entropy) AnswerDiversity(IReadOnlyList<string> responses)
    {
        var groups = responses.GroupBy(r => MiniMath.ExtractAnswer(r) ?? "\u2205").Select(g => (double)g.Count()).ToArray();
        double total = responses.Count;
        return (groups.Length, -groups.Sum(c => c / total * Math.Log(c / total)));
    }

    /// <summary>
    /// BoN@k and pass@k (exact, every listed k; methods.md §1, ties broken uniformly) on the validation prompts with
    /// <see cref="BonFineTuneConfig.ValidationSamples"/> samples each, at the training temperature, with a fixed seed
    /// per prompt (the same random numbers at every validation, so curves move only because the model does).
    /// </summary>
    public static IReadOnlyDictionary<string, double> Validate(Module<Tensor, Tensor> policy, ITokenizer tokenizer, IVerifier verifier,
        IReadOnlyList<MathProblem> problems, BonFineTuneConfig config, long step, IRunReporter reporter)
    {
        policy.eval();
        int n = config.ValidationSamples;
        var ks = ValidationKs(n);
        var passSums = new double[ks.Length];
        var bonSums = new double[ks.Length];
        double rewardSum = 0, distinctSum = 0;
        var sampler = new Sampler(Lm(policy), tokenizer);
        foreach (var (problem, index) in problems.Select((p, i) => (p, i)))
        {
            reporter.CancellationToken.ThrowIfCancellationRequested();
            var prompt = Sampler.EncodePrompt(tokenizer, MiniMath.Prompt(problem));
            var results = sampler.SampleN(prompt, n, new SamplingOptions
            {
                Temperature = config.Temperature, MaxNewTokens = config.MaxNewTokens, Seed = StepSeed(config.Seed, index, 3),
            });
            var texts = results.Select(r => r.Text ?? tokenizer.Decode(r.TokenIds)).ToArray();
            var correct = texts.Select(t => MiniMath.IsCorrect(t, problem.Answer)).ToArray();
            var r01 = correct.Select(c => c ? 1.0 : 0.0).ToArray();
            var scores = verifier.Score(texts.Select((t, i) => new VerifierInput($"{problem.Id}@val", MiniMath.Prompt(problem), i, t, correct[i])).ToList());
            var (pass, bon) = PromptCurves(correct, scores, ks);
            for (int j = 0; j < ks.Length; j++) { passSums[j] += pass[j]; bonSums[j] += bon[j]; }
            rewardSum += r01.Average();
            distinctSum += AnswerDiversity(texts).Distinct;
        }
        var metrics = new Dictionary<string, double>();
        for (int j = 0; j < ks.Length; j++)
        {
            metrics[$"val/pass_at_{ks[j]}"] = passSums[j] / problems.Count;
            metrics[$"val/bon_at_{ks[j]}"] = bonSums[j] / problems.Count;
        }
        metrics["val/mean_reward"] = rewardSum / problems.Count;
        metrics["val/distinct_answers"] = distinctSum / problems.Count;
        foreach (var (name, value) in metrics) reporter.Metric(name, step, value);
        reporter.Log($"step {step}: " + string.Join(", ", metrics.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:F3}"))));
        return metrics;
    }

    /// <summary>
    /// Exact pass@k and BoN@k of one prompt's n samples for each k (methods.md §1): pass@k = E[max R over a random
    /// k-subset], BoN@k = E[R of the highest score in a random k-subset], ties broken uniformly. Same order-statistic
    /// sums as the weights (BonWeights), so the trainer's numbers and its estimator agree by construction.
    /// </summary>
    public static (double[] PassAtK, double[] BonAtK) PromptCurves(IReadOnlyList<bool> correct, IReadOnlyList<double> scores, IReadOnlyList<int> ks)
    {
        int n = correct.Count;
        if (scores.Count != n) throw new ArgumentException($"{n} verdicts but {scores.Count} scores.", nameof(scores));
        var r = correct.Select(c => c ? 1.0 : 0.0).ToArray();
        var all = Enumerable.Range(0, n).ToArray();
        var pass = new double[ks.Count];
        var bon = new double[ks.Count];
        for (int j = 0; j < ks.Count; j++)
        {
            if (ks[j] < 1 || ks[j] > n) throw new ArgumentOutOfRangeException(nameof(ks), ks[j], $"k must be in 1..{n}.");
            pass[j] = BonWeights.ExpectedRewardOfMax(all, r, r, ks[j]);
            bon[j] = BonWeights.ExpectedRewardOfMax(all, scores, r, ks[j]);
        }
        return (pass, bon);
    }

    /// <summary>1, 4, 16, … up to n, and n itself.</summary>
    public static int[] ValidationKs(int n)
    {
        var ks = new List<int>();
        for (int k = 1; k <= n; k *= 4) ks.Add(k);
        if (ks[^1] != n) ks.Add(n);
        return ks.ToArray();
    }

    /// <summary>The step's training prompts: drawn with replacement by a generator seeded with (Seed, step).</summary>
    public static IReadOnlyList<MathProblem> PromptsOfStep(IReadOnlyList<MathProblem> pool, BonFineTuneConfig config, long step)
    {
        var rng = new Random(unchecked((int)StepSeed(config.Seed, step, 0)));
        return Enumerable.Range(0, config.PromptsPerStep).Select(_ => pool[rng.Next(pool.Count)]).ToList();
    }

    /// <summary>A seed for stream <paramref name="stream"/> of step <paramref name="step"/>: SplitMix64 of the three
    /// (stable across processes, unlike HashCode.Combine).</summary>
    public static long StepSeed(long seed, long step, int stream)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step * 0xBF58476D1CE4E5B9UL + (ulong)stream * 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (long)((z ^ (z >> 31)) >> 1);
    }

    /// <summary>Linear warm-up, then constant, cosine to 0, or linear to 0 at the last step.</summary>
    public static double LearningRateAt(long step, BonFineTuneConfig c)
    {
        if (step < c.WarmupSteps) return c.LearningRate * (step + 1) / c.WarmupSteps;
        double progress = Math.Min(1.0, (double)(step - c.WarmupSteps) / Math.Max(1, c.Steps - c.WarmupSteps));
        return c.Schedule switch
        {
            "cosine" => 0.5 * (1 + Math.Cos(Math.PI * progress)) * c.LearningRate,
            "linear" => (1 - progress) * c.LearningRate,
            _ => c.LearningRate,
        };
    }

    /// <summary>AdamW with weight decay on matrices/embeddings only.</summary>
    public static AdamW MakeOptimizer(Module<Tensor, Tensor> model, BonFineTuneConfig c)
    {
        var decay = model.parameters().Where(p => p.dim() >= 2).ToList();
        var noDecay = model.parameters().Where(p => p.dim() < 2).ToList();
        return optim.AdamW([
            new AdamW.ParamGroup(decay, new AdamW.Options { LearningRate = c.LearningRate, weight_decay = c.WeightDecay }),
            new AdamW.ParamGroup(noDecay, new AdamW.Options { LearningRate = c.LearningRate, weight_decay = 0 }),
        ], c.LearningRate, weight_decay: c.WeightDecay);
    }

    /// <summary>The verifier the config names. A reward-model path must be an existing .safetensors file.</summary>
    public static IDisposableVerifier MakeVerifier(BonFineTuneConfig config, Device device) => config.Verifier switch
    {
        "oracle" => new OwnedVerifier(new OracleVerifier()),
        "noisy-oracle" => new OwnedVerifier(new NoisyOracleVerifier(config.NoiseEpsilon, config.Seed)),
        "reward-model" => RewardModelVerifier.Load(config.RewardModelPath, device),
        _ => throw new ValidationException($"Verifier: '{config.Verifier}' is not one of oracle, noisy-oracle, reward-model."),
    };

    private sealed class OwnedVerifier(IVerifier inner) : IDisposableVerifier
    {
        public string Name => inner.Name;
        public double[] Score(IReadOnlyList<VerifierInput> samples) => inner.Score(samples);
        public void Dispose() { }
    }

    /// <summary>Loads a causal language model of any registered architecture (a trained GPT, an imported LLaMA or GPT-2)
    /// as a trainable module; reward models and other non-LM checkpoints are refused.</summary>
    public static (Module<Tensor, Tensor> Model, CheckpointMetadata Metadata) LoadPolicy(string path, Device device)
    {
        var (model, meta) = Checkpoint.Load(path, device);
        if (model is Module<Tensor, Tensor> lm and ICausalLM) return (lm, meta);
        model.Dispose();
        throw new InvalidDataException($"{path}: architecture '{meta.Architecture}' is not a causal language model (a policy must be one).");
    }

    /// <summary>The model as the sampler drives it (every architecture BonFineTune trains implements it).</summary>
    private static ICausalLM Lm(Module<Tensor, Tensor> model) =>
        model as ICausalLM ?? throw new ArgumentException($"{model.GetType().Name} is not a causal language model.", nameof(model));

    private static long ParameterCount(Module<Tensor, Tensor> model) => model.parameters().Sum(p => p.numel());

    private static double GradNorm(Module<Tensor, Tensor> model)
    {
        double sum = 0;
        foreach (var p in model.parameters()) if (p.grad is { } g) sum += g.pow(2).sum().item<float>();
        return Math.Sqrt(sum);
    }

    private static string OptimizerPath(string checkpointPath) => Path.ChangeExtension(checkpointPath, ".optim");

    private static string SaveCheckpoint(string dir, Module<Tensor, Tensor> model, AdamW optimizer, CheckpointMetadata meta, IRunReporter reporter, bool isFinal)
    {
        var path = Path.Combine(dir, $"step-{meta.Step:D7}.safetensors");
        // Optimizer first, model last (atomically): a model file always has its optimizer state next to it.
        var optimPath = OptimizerPath(path);
        optimizer.save_py(optimPath + ".tmp");
        File.Move(optimPath + ".tmp", optimPath, overwrite: true);
        Checkpoint.Save(path + ".tmp", model, meta);
        File.Move(path + ".tmp", path, overwrite: true);
        reporter.Checkpoint(new CheckpointInfo(path, meta.Step, meta.Architecture, meta.Tokenizer, ParameterCount(model), isFinal));
        return path;
    }

    /// <summary>The checkpoint with the highest step in <paramref name="checkpointDir"/> that has its optimizer state, or null.</summary>
    public static (string Path, long Step)? LatestCheckpoint(string checkpointDir)
    {
        if (!Directory.Exists(checkpointDir)) return null;
        return Directory.EnumerateFiles(checkpointDir, "step-*.safetensors")
            .Select(p => (Path: p, Ok: long.TryParse(System.IO.Path.GetFileNameWithoutExtension(p)["step-".Length..], CultureInfo.InvariantCulture, out var s), Step: s))
            .Where(x => x.Ok && File.Exists(OptimizerPath(x.Path)))
            .OrderByDescending(x => x.Step)
            .Select(x => ((string, long)?)(x.Path, x.Step))
            .FirstOrDefault();
    }

    private static void TruncateCsvAfter(string csvPath, long step)
    {
        var lines = File.ReadAllLines(csvPath);
        var kept = lines.Take(1).Concat(lines.Skip(1).Where(l =>
            long.TryParse(l.AsSpan(0, Math.Max(0, l.IndexOf(','))), CultureInfo.InvariantCulture, out var s) && s <= step));
        File.WriteAllLines(csvPath, kept);
    }
}
