// The learned verifier (methods.md §2.4, issue #3 item 2): a GPT or LLaMA backbone with a scalar head, trained on
// (prompt, response, verdict) triples from a model's own samples (the sample sets of a bon-eval), with binary
// cross-entropy per sample ("bce"), a Bradley–Terry loss over (correct, wrong) pairs of the SAME prompt ("pairwise":
// what Best-of-N reranking needs, since BoN only compares samples of one prompt), or both ("bce+pairwise").
// Input: BOS + prompt + response + EOS; the head reads the final hidden state at the EOS, which has seen everything.
// The backbone starts from a base language-model checkpoint; the head starts at zero (every score 0.5 before training).
// One file: model, config, run (data split by prompt, AdamW loop, held-out AUROC/accuracy, checkpoint).
// Checkpoint architecture "gpt-rm" (GPT backbone) or "llama-rm" (LLaMA backbone, e.g. an imported model): tensors
// "backbone.*" and "head.*" (the scalar head).
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BonStudio.Training.Evaluation;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BonStudio.Training.Verifiers;

/// <summary>Language-model backbone (GPT, or LLaMA for imported models) + linear scalar head. <see cref="forward"/>
/// returns one logit of P(correct) per sequence.</summary>
public sealed class RewardModel : Module<Tensor, Tensor, Tensor>
{
    /// <summary>Architecture of a reward model on a GPT backbone.</summary>
    public const string Architecture = "gpt-rm";
    /// <summary>Architecture of a reward model on a LLaMA backbone.</summary>
    public const string LlamaArchitecture = "llama-rm";

    private readonly Module<Tensor, Tensor> backbone;
    private readonly Linear head;
    private readonly Func<Tensor, Tensor> hiddenStates;

    /// <summary>"gpt-rm" or "llama-rm".</summary>
    public string ArchitectureName { get; }
    /// <summary>The backbone's config as JSON (what the checkpoint stores).</summary>
    public string BackboneConfigJson { get; }
    public int ContextLength => ((ICausalLM)backbone).ContextLength;
    public Device Device => ((ICausalLM)backbone).Device;
    public long ParameterCount => parameters().Sum(p => p.numel());

    static RewardModel()
    {
        Checkpoint.RegisterArchitecture(Architecture,
            (meta, device) => new RewardModel(new Gpt(GptConfig.FromJson(meta.ModelConfigJson))).to(device));
        Checkpoint.RegisterArchitecture(LlamaArchitecture,
            (meta, device) => new RewardModel(new Models.Llama(LlamaConfig.FromJson(meta.ModelConfigJson))).to(device));
    }

    /// <summary>Makes sure <see cref="Checkpoint.Load"/> knows "gpt-rm" and "llama-rm" (runs the static constructor).</summary>
    public static void EnsureRegistered() { }

    public RewardModel(Gpt backbone) : this(backbone, backbone.Config.EmbeddingDim, backbone.HiddenStates, Architecture, backbone.Config.ToJson()) { }

    public RewardModel(Models.Llama backbone) : this(backbone, backbone.Config.Dim, backbone.HiddenStates, LlamaArchitecture, backbone.Config.ToJson()) { }

    /// <summary>A reward model on whichever language model a checkpoint holds (GPT or LLaMA).</summary>
    public static RewardModel For(nn.Module backbone, string where) => backbone switch
    {
        Gpt gpt => new RewardModel(gpt),
        Models.Llama llama => new RewardModel(llama),
        _ => throw new InvalidDataException($"{where}: a reward model needs a GPT or LLaMA language model as its backbone, not {backbone.GetType().Name}."),
    };

    private RewardModel(Module<Tensor, Tensor> backbone, int hiddenSize, Func<Tensor, Tensor> hiddenStates, string architecture, string configJson)
        : base(nameof(RewardModel))
    {
        this.backbone = backbone;
        this.hiddenStates = hiddenStates;
        ArchitectureName = architecture;
        BackboneConfigJson = configJson;
        head = Linear(hiddenSize, 1);
        using (no_grad()) { init.zeros_(head.weight!); init.zeros_(head.bias!); }
        RegisterComponents();
    }

    /// <param name="tokens">(B, T) right-padded token ids.</param>
    /// <param name="lastIndex">(B,) index of each row's last real token (its EOS).</param>
    /// <returns>(B,) logits.</returns>
    public override Tensor forward(Tensor tokens, Tensor lastIndex)
    {
        using var scope = NewDisposeScope();
        var hidden = hiddenStates(tokens);                                               // (B, T, C)
        var index = lastIndex.view(-1, 1, 1).expand(-1, 1, hidden.shape[2]);             // (B, 1, C)
        var last = hidden.gather(1, index).squeeze(1);                                   // (B, C)
        return head.call(last).squeeze(1).MoveToOuterDisposeScope();                    // (B,)
    }

    /// <summary>The head at every position: (B, T) logits. Process supervision trains and reads it at step ends.</summary>
    public Tensor PositionLogits(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        return head.call(hiddenStates(tokens)).squeeze(2).MoveToOuterDisposeScope();       // (B, T)
    }

    /// <summary>Right-padded (B, T) tokens of BOS + prompt + response + EOS and each row's last index.</summary>
    public static (Tensor Tokens, Tensor LastIndex) Encode(ITokenizer tokenizer, IReadOnlyList<(string Prompt, string Response)> items,
        int contextLength, Device device)
    {
        int bos = tokenizer.BosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no BOS token.");
        int eos = tokenizer.EosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no EOS token.");
        var rows = items.Select(it =>
        {
            int[] ids = [bos, .. tokenizer.Encode(it.Prompt), .. tokenizer.Encode(it.Response), eos];
            // Too long for the context: keep the end (the answer and EOS matter most), drop the start.
            return ids.Length <= contextLength ? ids : ids[^contextLength..];
        }).ToList();
        int t = rows.Max(r => r.Length);
        var data = new long[rows.Count * t];
        for (int b = 0; b < rows.Count; b++)
            for (int j = 0; j < rows[b].Length; j++) data[b * t + j] = rows[b][j];
        return (tensor(data, [rows.Count, t], ScalarType.Int64).to(device),
                tensor(rows.Select(r => (long)r.Length - 1).ToArray(), ScalarType.Int64).to(device));
    }
}

/// <summary>One labelled sample for the reward model.</summary>
/// <param name="PromptKey">Groups samples of one prompt; the held-out split is by prompt, never inside one.</param>
public sealed record RewardExample(string PromptKey, string Prompt, string Response, bool Correct)
{
    /// <summary>Every sample of a bon-eval's sample sets, labelled by the checker.</summary>
    public static List<RewardExample> FromEvaluation(IEnumerable<EvaluatedPrompt> sets) =>
        sets.SelectMany(s => s.Samples.Select(x => new RewardExample(s.Problem.Key, s.Problem.Prompt, x.Text, x.Correct))).ToList();
}

/// <summary>Hyperparameters of the `verifier` run kind. The attributes drive the web form, API validation and `run`.</summary>
public sealed record RewardModelConfig : IRunConfig, IValidatableObject
{
    /// <summary>The GPT or LLaMA checkpoint whose backbone initialises the reward model (usually the policy's base model).</summary>
    [Required, MaxLength(4096), Description("Path of the base GPT checkpoint whose transformer initialises the reward model.")]
    public string BaseCheckpoint { get; init; } = "";
    /// <summary>Share of prompts held out for AUROC/accuracy (split by prompt).</summary>
    [Range(0.01, 0.9), Description("Fraction of prompts held out to measure AUROC and accuracy (split by prompt, never inside one).")]
    public double HeldOutFraction { get; init; } = 0.2;
    /// <summary>Optimizer steps.</summary>
    [Range(1, 10_000_000), Description("Number of optimizer steps.")]
    public int Steps { get; init; } = 400;
    /// <summary>Samples per step (pairwise objectives: BatchSize/2 pairs, each a correct and a wrong sample of one prompt).</summary>
    [Range(2, 4096), Description("Labelled samples per optimizer step (pairwise: half as many (correct, wrong) pairs of one prompt each).")]
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak AdamW learning rate (cosine decay to 10% of it).</summary>
    [Range(1e-7, 1.0), Description("Peak learning rate (AdamW), cosine decay to a tenth of it.")]
    public double LearningRate { get; init; } = 3e-4;
    /// <summary>AdamW weight decay on matrices.</summary>
    [Range(0.0, 1.0), Description("AdamW weight decay on weight matrices.")]
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    [Range(0.0, 1000.0), Description("Clip the global gradient norm to this value (0 = no clipping).")]
    public double GradClip { get; init; } = 1.0;
    /// <summary>Training loss: "bce" = per-sample binary cross-entropy on the verdict (learns P(correct), including how
    /// hard the prompt is); "pairwise" = Bradley–Terry −log σ(s_correct − s_wrong) over (correct, wrong) pairs of one
    /// prompt (learns only which sample of a prompt is better: what BoN reranking uses); "bce+pairwise" = their sum;
    /// "process" = step-level (process) supervision: BCE at the end of every step of a chain ("4-2=2; 2-1=1 #### 1")
    /// on "every step so far matches a correct sample's chain of the same prompt" and at the EOS on the verdict; the
    /// sample's score is then the minimum over its steps and the EOS (a chain is only as good as its worst step).</summary>
    [Required, RegularExpression("^(bce|pairwise|bce\\+pairwise|process)$", ErrorMessage = "Objective must be bce, pairwise, bce+pairwise or process."),
     Description("Loss: bce (per-sample verdict), pairwise (Bradley–Terry over correct vs wrong samples of the same prompt; ranks within a prompt, as Best-of-N needs), bce+pairwise (their sum) or process (step-level labels: a step is good while the chain so far matches a correct sample of the same prompt; score = worst step).")]
    public string Objective { get; init; } = "bce";
    /// <summary>Weight positives by #negatives/#positives in the loss, so a rare class is not ignored.</summary>
    [Description("Balance the classes in the bce loss (positives weighted by #negatives/#positives; pairwise batches are balanced by construction).")]
    public bool BalanceClasses { get; init; } = true;
    /// <summary>Held-out evaluation every K steps (0 = only at the end).</summary>
    [Range(0, 1_000_000), Description("Measure held-out AUROC and accuracy every K steps (0 = only at the end).")]
    public int EvalEvery { get; init; } = 100;
    /// <summary>Seed for init, data order and the split.</summary>
    [Range(0, long.MaxValue), Description("Seed for every random number generator of the run.")]
    public long Seed { get; init; } = 1;
    /// <summary>"auto", "cpu", "cuda" or "cuda:N".</summary>
    [Required, RegularExpression(@"^(auto|cpu|cuda(:\d+)?)$", ErrorMessage = "Device must be auto, cpu, cuda or cuda:N."),
     Description("Device: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.")]
    public string Device { get; init; } = "auto";
    /// <summary>libtorch intra-op threads (0 = default).</summary>
    [Range(0, 256), Description("CPU threads for libtorch (0 = libtorch's default).")]
    public int Threads { get; init; } = 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(BaseCheckpoint) && !BaseCheckpoint.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            yield return new ValidationResult($"BaseCheckpoint must be a .safetensors file (got '{BaseCheckpoint}').", [nameof(BaseCheckpoint)]);
    }

    public void EnsureValid()
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true))
            throw new ValidationException("invalid verifier config: " + string.Join("; ", results.Select(r =>
                r.MemberNames.Any() && !r.ErrorMessage!.StartsWith(r.MemberNames.First(), StringComparison.Ordinal)
                    ? $"{string.Join(", ", r.MemberNames)}: {r.ErrorMessage}" : r.ErrorMessage)));
    }
}

/// <summary>What a `verifier` run produced.</summary>
public sealed record RewardModelResult(string CheckpointPath, double HeldOutAuroc, double HeldOutAccuracy, double TrainLoss,
    int TrainExamples, int HeldOutExamples, double HeldOutPositiveRate, double HeldOutWithinPromptAuroc = double.NaN);

public static class RewardModelRun
{
    public const string Kind = "verifier";

    /// <summary>
    /// Trains a reward model on <paramref name="trainingData"/> and writes <c>runDirectory/reward-model.safetensors</c>
    /// (architecture "gpt-rm"). Metrics: train/loss, verifier/auroc, verifier/accuracy, verifier/loss (held-out).
    /// </summary>
    public static RewardModelResult Execute(RewardModelConfig config, IReadOnlyList<RewardExample> trainingData, string runDirectory, IRunReporter reporter)
    {
        config.EnsureValid();
        var ct = reporter.CancellationToken;
        if (!File.Exists(config.BaseCheckpoint)) throw new FileNotFoundException($"BaseCheckpoint '{config.BaseCheckpoint}' does not exist.", config.BaseCheckpoint);
        if (trainingData.Count < 2) throw new ArgumentException($"the reward model needs labelled samples; got {trainingData.Count}.", nameof(trainingData));
        var device = TorchRuntime.ResolveDevice(config.Device);
        TorchRuntime.SetThreads(config.Threads);
        Directory.CreateDirectory(runDirectory);
        var configJson = JsonSerializer.Serialize(config);
        reporter.Log($"{Kind}: {trainingData.Count} labelled samples; hyperparameters: {configJson}");

        // TRY NOT TO MODIFY: seeding.
        TorchRuntime.Seed(config.Seed);
        var rng = new Random(unchecked((int)config.Seed));

        // Split by prompt so held-out numbers measure generalisation to new problems.
        var keys = trainingData.Select(e => e.PromptKey).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToList();
        var shuffled = keys.OrderBy(_ => rng.Next()).ToList();
        int heldCount = Math.Clamp((int)Math.Round(keys.Count * config.HeldOutFraction), 1, Math.Max(1, keys.Count - 1));
        var heldKeys = shuffled.Take(heldCount).ToHashSet(StringComparer.Ordinal);
        var train = trainingData.Where(e => !heldKeys.Contains(e.PromptKey)).ToList();
        var heldOut = trainingData.Where(e => heldKeys.Contains(e.PromptKey)).ToList();
        if (train.Count == 0) throw new ArgumentException("all samples fell into the held-out split (too few prompts).", nameof(trainingData));
        int positives = train.Count(e => e.Correct);
        double positiveWeight = config.BalanceClasses && positives > 0 ? (double)(train.Count - positives) / positives : 1.0;
        reporter.Log($"split by prompt: {train.Count} train samples ({positives} correct) / {heldOut.Count} held-out samples ({heldOut.Count(e => e.Correct)} correct)");
        bool useProcess = config.Objective == "process";
        bool useBce = config.Objective is "bce" or "bce+pairwise", usePairs = config.Objective is "pairwise" or "bce+pairwise" or "process";
        // Pairwise data: the train prompts with both a correct and a wrong sample (the others carry no within-prompt signal).
        var mixedPrompts = train.GroupBy(e => e.PromptKey, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Correct: g.Where(e => e.Correct).ToList(), Wrong: g.Where(e => !e.Correct).ToList()))
            .Where(g => g.Correct.Count > 0 && g.Wrong.Count > 0).ToList();
        if (usePairs && mixedPrompts.Count == 0)
            throw new ArgumentException($"objective {config.Objective}: no train prompt has both a correct and a wrong sample, so there are no pairs.", nameof(trainingData));
        if (usePairs) reporter.Log($"pairwise: {mixedPrompts.Count} train prompts with both correct and wrong samples");
        // Process labels come from the data itself: the step chains of a prompt's correct samples are its reference chains.
        var correctChains = useProcess
            ? mixedPrompts.ToDictionary(g => g.Correct[0].PromptKey, g => g.Correct.Select(e => Steps(e.Response).Steps).ToList(), StringComparer.Ordinal)
            : null;

        var (baseModel, meta) = Checkpoint.Load(config.BaseCheckpoint, device);
        var tokenizer = TokenizerRegistry.Resolve(meta.Tokenizer);
        using var model = RewardModel.For(baseModel, config.BaseCheckpoint).to(device);
        var decay = model.parameters().Where(p => p.dim() >= 2).ToList();
        var noDecay = model.parameters().Where(p => p.dim() < 2).ToList();
        using var optimizer = optim.AdamW([
            new AdamW.ParamGroup(decay, new AdamW.Options { LearningRate = config.LearningRate, weight_decay = config.WeightDecay }),
            new AdamW.ParamGroup(noDecay, new AdamW.Options { LearningRate = config.LearningRate, weight_decay = 0 }),
        ], config.LearningRate, weight_decay: config.WeightDecay);

        // ALGO LOGIC: binary cross-entropy on (prompt, response, verdict) and/or Bradley–Terry on within-prompt pairs.
        var clock = Stopwatch.StartNew();
        double windowLoss = 0; int windowSteps = 0; double lastLoss = double.NaN;
        (double Auroc, double Accuracy, double Loss, double WithinPromptAuroc) held = (double.NaN, double.NaN, double.NaN, double.NaN);
        int logEvery = Math.Max(1, Math.Min(20, config.Steps / 10));
        for (int step = 0; step < config.Steps; step++)
        {
            ct.ThrowIfCancellationRequested();
            double progress = (double)step / Math.Max(1, config.Steps);
            double lr = config.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            model.train();
            using (var scope = NewDisposeScope())
            {
                Tensor loss;
                if (usePairs)
                {
                    // P pairs: rows 0..P-1 are the correct samples, rows P..2P-1 the wrong sample of the same prompt.
                    int pairCount = config.BatchSize / 2;
                    var pairs = Enumerable.Range(0, pairCount).Select(_ =>
                    {
                        var g = mixedPrompts[rng.Next(mixedPrompts.Count)];
                        return (Good: g.Correct[rng.Next(g.Correct.Count)], Bad: g.Wrong[rng.Next(g.Wrong.Count)]);
                    }).ToList();
                    var batch = pairs.Select(p => p.Good).Concat(pairs.Select(p => p.Bad)).ToList();
                    var (tokens, last) = RewardModel.Encode(tokenizer, batch.Select(e => (e.Prompt, e.Response)).ToList(), model.ContextLength, device);
                    if (useProcess)
                    {
                        // BCE at every step end and at the EOS of both samples of each pair.
                        var (rows, cols, labels) = ProcessTargets(tokenizer, batch, correctChains!, model.ContextLength, last);
                        var all = model.PositionLogits(tokens);                                         // (2P, T)
                        long width = all.shape[1];
                        var flatIndex = tensor(rows.Zip(cols, (r, c) => r * width + c).ToArray(), ScalarType.Int64).to(device);
                        var picked = all.reshape(-1).index_select(0, flatIndex);
                        loss = functional.binary_cross_entropy_with_logits(picked, tensor(labels).to(device));
                    }
                    else
                    {
                        var logits = model.call(tokens, last);                                              // (2P,)
                        loss = RewardModelRun.PairwiseLoss(logits[..pairCount], logits[pairCount..]);
                        if (useBce)
                        {
                            // Pair batches are half correct by construction: no class weight.
                            var labels = cat([ones(pairCount), zeros(pairCount)]).to(device);
                            loss = loss + functional.binary_cross_entropy_with_logits(logits, labels);
                        }
                    }
                }
                else
                {
                    var batch = Enumerable.Range(0, config.BatchSize).Select(_ => train[rng.Next(train.Count)]).ToList();
                    var (tokens, last) = RewardModel.Encode(tokenizer, batch.Select(e => (e.Prompt, e.Response)).ToList(), model.ContextLength, device);
                    var labels = tensor(batch.Select(e => e.Correct ? 1f : 0f).ToArray()).to(device);
                    var logits = model.call(tokens, last);                                              // (B,)
                    loss = functional.binary_cross_entropy_with_logits(logits, labels,
                        pos_weights: tensor(new[] { (float)positiveWeight }).to(device));
                }
                optimizer.zero_grad();
                loss.backward();
                if (config.GradClip > 0) nn.utils.clip_grad_norm_(model.parameters(), config.GradClip);
                optimizer.step();
                lastLoss = loss.item<float>();
            }
            windowLoss += lastLoss; windowSteps++;
            int done = step + 1;
            if (done % logEvery == 0 || done == config.Steps)
            {
                reporter.Metric("train/loss", done, windowLoss / windowSteps);
                reporter.Progress(0.95 * done / config.Steps, $"step {done}/{config.Steps} loss {windowLoss / windowSteps:F4}");
                lastLoss = windowLoss / windowSteps;
                windowLoss = 0; windowSteps = 0;
            }
            if (heldOut.Count > 0 && (done == config.Steps || (config.EvalEvery > 0 && done % config.EvalEvery == 0)))
            {
                held = Evaluate(model, tokenizer, heldOut, useProcess, ct);
                reporter.Metric("verifier/auroc", done, held.Auroc);
                reporter.Metric("verifier/accuracy", done, held.Accuracy);
                reporter.Metric("verifier/loss", done, held.Loss);
                if (!double.IsNaN(held.WithinPromptAuroc)) reporter.Metric("verifier/within_prompt_auroc", done, held.WithinPromptAuroc);
                reporter.Log(string.Create(CultureInfo.InvariantCulture,
                    $"step {done}: held-out AUROC {held.Auroc:F3}, within-prompt AUROC {held.WithinPromptAuroc:F3}, accuracy {held.Accuracy:P1}, loss {held.Loss:F4}"));
            }
        }

        var path = Path.Combine(Path.GetFullPath(runDirectory), "reward-model.safetensors");
        Checkpoint.Save(path + ".tmp", model, new CheckpointMetadata(model.ArchitectureName, model.BackboneConfigJson, tokenizer.Name, config.Steps, configJson));
        File.Move(path + ".tmp", path, overwrite: true);
        reporter.Checkpoint(new CheckpointInfo(path, config.Steps, model.ArchitectureName, tokenizer.Name, model.ParameterCount, IsFinal: true));
        reporter.Log($"trained in {clock.Elapsed.TotalSeconds:F0} s; checkpoint {path}");
        reporter.Progress(1, "done");
        return new RewardModelResult(path, held.Auroc, held.Accuracy, lastLoss, train.Count, heldOut.Count,
            heldOut.Count == 0 ? double.NaN : heldOut.Average(e => e.Correct ? 1.0 : 0.0), held.WithinPromptAuroc);
    }

    /// <summary>The steps of a MiniMath-style chain ("4-2=2; 2-1=1 #### 1"): the text before the first "####" split at
    /// ';', trimmed, and for each step the character offset in <paramref name="response"/> of the delimiter that closes
    /// it (the ';' or the first '#' of the marker; a causal model only knows a step is complete once it sees it). A last
    /// step without a marker after it has no end. Model output is untrusted text: anything parses, nothing is evaluated.</summary>
    public static (List<string> Steps, List<int> Ends) Steps(string response)
    {
        int marker = response.IndexOf(Tasks.MiniMath.AnswerMarker, StringComparison.Ordinal);
        int stop = marker < 0 ? response.Length : marker;
        var steps = new List<string>();
        var ends = new List<int>();
        int start = 0;
        for (int i = 0; i <= stop; i++)
        {
            bool closes = i < stop ? response[i] == ';' : marker >= 0;
            if (!closes && i < stop) continue;
            var step = response[start..i].Trim();
            if (step.Length > 0 && closes) { steps.Add(step); ends.Add(i); }
            start = i + 1;
        }
        return (steps, ends);
    }

    /// <summary>Token index (in <see cref="RewardModel.Encode"/>'s row) of each step end of <paramref name="response"/>,
    /// dropping ends cut off by left truncation.</summary>
    public static List<long> StepEndIndices(ITokenizer tokenizer, string prompt, string response, int contextLength)
    {
        int promptTokens = tokenizer.Encode(prompt).Length;
        int total = 1 + promptTokens + tokenizer.Encode(response).Length + 1;
        int shift = Math.Max(0, total - contextLength);
        var result = new List<long>();
        foreach (var end in Steps(response).Ends)
        {
            // BOS at 0, prompt at 1..P, then the response: the delimiter is the last token of response[..end+1].
            long index = promptTokens + tokenizer.Encode(response[..(end + 1)]).Length - shift;
            if (index >= 0) result.Add(index);
        }
        return result;
    }

    /// <summary>Process label of each step of <paramref name="response"/>: true while the steps so far equal the first
    /// steps of one of the prompt's correct chains.</summary>
    public static List<bool> StepLabels(string response, IReadOnlyList<List<string>> correctChains)
    {
        var steps = Steps(response).Steps;
        var labels = new List<bool>(steps.Count);
        for (int j = 0; j < steps.Count; j++)
            labels.Add(correctChains.Any(c => c.Count > j && Enumerable.Range(0, j + 1).All(q => c[q] == steps[q])));
        return labels;
    }

    /// <summary>(row, column, label) of every process target of a batch: each step end, then the EOS with the verdict.</summary>
    private static (long[] Rows, long[] Cols, float[] Labels) ProcessTargets(ITokenizer tokenizer, List<RewardExample> batch,
        Dictionary<string, List<List<string>>> correctChains, int contextLength, Tensor lastIndex)
    {
        var last = lastIndex.cpu().data<long>().ToArray();
        var rows = new List<long>(); var cols = new List<long>(); var labels = new List<float>();
        for (int b = 0; b < batch.Count; b++)
        {
            var e = batch[b];
            var stepLabels = StepLabels(e.Response, correctChains[e.PromptKey]);
            var ends = StepEndIndices(tokenizer, e.Prompt, e.Response, contextLength);
            // Truncation drops the first ends: align labels to the surviving ones from the right.
            for (int j = 0; j < ends.Count; j++)
            {
                rows.Add(b); cols.Add(ends[j]); labels.Add(stepLabels[stepLabels.Count - ends.Count + j] ? 1f : 0f);
            }
            rows.Add(b); cols.Add(last[b]); labels.Add(e.Correct ? 1f : 0f);
        }
        return (rows.ToArray(), cols.ToArray(), labels.ToArray());
    }

    /// <summary>Bradley–Terry loss mean(−log σ(s_correct − s_wrong)) over pairs (row i of both tensors is one pair of the
    /// same prompt); softplus(−d) is the numerically stable form of −log σ(d).</summary>
    /// <param name="correctLogits">(P,) scores of the correct samples.</param>
    /// <param name="wrongLogits">(P,) scores of the wrong samples.</param>
    public static Tensor PairwiseLoss(Tensor correctLogits, Tensor wrongLogits) =>
        functional.softplus(wrongLogits - correctLogits).mean();

    /// <summary>Mean over prompts that have both a correct and a wrong sample of the AUROC among that prompt's samples
    /// (what Best-of-N depends on: ranking inside one prompt). NaN when no prompt has both classes.</summary>
    public static double WithinPromptAuroc(IReadOnlyList<string> promptKeys, IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        var values = Enumerable.Range(0, scores.Count).GroupBy(i => promptKeys[i], StringComparer.Ordinal)
            .Select(g => Auroc(g.Select(i => scores[i]).ToList(), g.Select(i => labels[i]).ToList()))
            .Where(a => !double.IsNaN(a)).ToList();
        return values.Count == 0 ? double.NaN : values.Average();
    }

    /// <summary>Held-out AUROC (ties count ½), accuracy at P = 0.5, mean BCE and mean within-prompt AUROC.</summary>
    private static (double Auroc, double Accuracy, double Loss, double WithinPromptAuroc) Evaluate(RewardModel model, ITokenizer tokenizer, List<RewardExample> data, bool minOverSteps, CancellationToken ct)
    {
        var scores = Score(model, tokenizer, data.Select(e => (e.Prompt, e.Response)).ToList(), ct, minOverSteps: minOverSteps);
        var labels = data.Select(e => e.Correct).ToArray();
        double loss = 0;
        for (int i = 0; i < scores.Length; i++)
            loss -= Math.Log(Math.Clamp(labels[i] ? scores[i] : 1 - scores[i], 1e-12, 1));
        double accuracy = scores.Select((s, i) => (s >= 0.5) == labels[i] ? 1.0 : 0.0).Average();
        return (Auroc(scores, labels), accuracy, loss / scores.Length, WithinPromptAuroc(data.Select(e => e.PromptKey).ToList(), scores, labels));
    }

    /// <summary>P(correct) for each (prompt, response), batched, under no_grad.</summary>
    /// <param name="minOverSteps">Process-trained models: the score is the minimum of P(good so far) over the step ends
    /// and the EOS (<see cref="StepEndIndices"/>), not the EOS alone.</param>
    public static double[] Score(RewardModel model, ITokenizer tokenizer, IReadOnlyList<(string Prompt, string Response)> items,
        CancellationToken ct = default, int batchSize = 64, bool minOverSteps = false)
    {
        model.eval();
        using var noGrad = no_grad();
        var result = new double[items.Count];
        for (int i = 0; i < items.Count; i += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var chunk = items.Skip(i).Take(batchSize).ToList();
            var (tokens, last) = RewardModel.Encode(tokenizer, chunk, model.ContextLength, model.Device);
            if (minOverSteps)
            {
                var all = model.PositionLogits(tokens).cpu();                                   // (B, T)
                var lastIndex = last.cpu().data<long>().ToArray();
                var flat = all.data<float>().ToArray();
                long t = all.shape[1];
                for (int j = 0; j < chunk.Count; j++)
                {
                    // The lowest logit is the lowest probability: the chain's worst step (or its verdict at the EOS).
                    double worst = flat[j * t + lastIndex[j]];
                    foreach (var col in StepEndIndices(tokenizer, chunk[j].Prompt, chunk[j].Response, model.ContextLength))
                        worst = Math.Min(worst, flat[j * t + col]);
                    result[i + j] = 1.0 / (1.0 + Math.Exp(-worst));
                }
                continue;
            }
            var logits = model.call(tokens, last).cpu().data<float>().ToArray();
            // Logistic in double: distinct logits stay distinct scores (no float saturation ties near 0 and 1).
            for (int j = 0; j < logits.Length; j++) result[i + j] = 1.0 / (1.0 + Math.Exp(-(double)logits[j]));
        }
        return result;
    }

    /// <summary>Area under the ROC curve = P(score of a random positive > score of a random negative), ties ½
    /// (Mann–Whitney with mid-ranks). NaN when one class is missing.</summary>
    public static double Auroc(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        int n = scores.Count, pos = labels.Count(l => l), neg = n - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        var order = Enumerable.Range(0, n).OrderBy(i => scores[i]).ToArray();
        double rankSumPositives = 0;
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && scores[order[end + 1]] == scores[order[start]]) end++;
            double midRank = (start + end) / 2.0 + 1; // 1-based
            for (int q = start; q <= end; q++) if (labels[order[q]]) rankSumPositives += midRank;
            start = end + 1;
        }
        return (rankSumPositives - pos * (pos + 1) / 2.0) / ((double)pos * neg);
    }
}
