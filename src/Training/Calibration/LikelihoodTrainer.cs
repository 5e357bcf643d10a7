// Weighted log-likelihood fine-tuning on (prompt, completion, weight) pairs: L = −Σ_j a_j · log π_θ(y_j | x_j),
// normalised by the number of completion tokens in the batch (so weight 1 everywhere is plain token-mean SFT).
// Calibration uses it twice: to teach the self-evaluation format (P(True)) and for linguistic-uncertainty SFT.
// The study also uses it with weight 1 to train its small base model from scratch.
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BonStudio.Training.Calibration;

/// <summary>One supervised example: the model reads BOS + <paramref name="Prompt"/> and is trained to continue with
/// <paramref name="Completion"/> + EOS; <paramref name="Weight"/> scales its log-likelihood (a_j of methods.md §2).</summary>
public sealed record TrainingPair(string Prompt, string Completion, double Weight = 1.0);

/// <summary>Hyperparameters of <see cref="LikelihoodTrainer.Train"/>.</summary>
public sealed record LikelihoodTrainingOptions
{
    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 300;
    /// <summary>Pairs per step, drawn with replacement from the data.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak AdamW learning rate (fine-tuning wants less than training from scratch).</summary>
    public double LearningRate { get; init; } = 5e-4;
    /// <summary>Learning rate at the end of the cosine decay.</summary>
    public double MinLearningRate { get; init; } = 5e-5;
    /// <summary>Linear warm-up steps.</summary>
    public int WarmupSteps { get; init; } = 20;
    /// <summary>AdamW weight decay on matrices and embeddings.</summary>
    public double WeightDecay { get; init; } = 0.0;
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>Seed of the batch order (each step's batch depends only on (seed, step)).</summary>
    public long Seed { get; init; } = 0;
    /// <summary>Parameters left as they are (name prefixes, e.g. "wte." for the tied token embedding / output head).</summary>
    public IReadOnlyList<string> FrozenParameterPrefixes { get; init; } = [];
    /// <summary>Report the loss every K steps.</summary>
    public int LogEvery { get; init; } = 20;

    public void Validate()
    {
        if (Steps < 0) throw new ArgumentException($"LikelihoodTrainingOptions.Steps must be ≥ 0 (got {Steps}).");
        if (BatchSize < 1) throw new ArgumentException($"LikelihoodTrainingOptions.BatchSize must be ≥ 1 (got {BatchSize}).");
        if (!(LearningRate > 0)) throw new ArgumentException($"LikelihoodTrainingOptions.LearningRate must be > 0 (got {LearningRate}).");
        if (MinLearningRate < 0 || MinLearningRate > LearningRate)
            throw new ArgumentException($"LikelihoodTrainingOptions.MinLearningRate must be in [0, LearningRate] (got {MinLearningRate}).");
        if (WarmupSteps < 0) throw new ArgumentException($"LikelihoodTrainingOptions.WarmupSteps must be ≥ 0 (got {WarmupSteps}).");
        if (LogEvery < 1) throw new ArgumentException($"LikelihoodTrainingOptions.LogEvery must be ≥ 1 (got {LogEvery}).");
    }
}

/// <summary>One encoded pair: BOS + prompt + completion + EOS and where the completion starts.</summary>
internal sealed record EncodedPair(long[] Tokens, int PromptLength, double Weight);

public static class LikelihoodTrainer
{
    /// <summary>
    /// Fine-tunes <paramref name="model"/> in place on <paramref name="pairs"/> with AdamW, warm-up + cosine decay
    /// and gradient clipping. Reports <c>{prefix}/loss</c> and <c>{prefix}/lr</c>. Returns the mean loss of the last
    /// logging window. Throws when a pair does not fit the model's context.
    /// </summary>
    public static double Train(ICausalLM model, ITokenizer tokenizer, IReadOnlyList<TrainingPair> pairs,
        LikelihoodTrainingOptions options, IRunReporter reporter, string metricPrefix = "train",
        Action<int, int>? onStep = null)
    {
        options.Validate();
        if (model is not nn.Module module) throw new ArgumentException("the model must be a TorchSharp module to be trained.", nameof(model));
        if (pairs.Count == 0) throw new ArgumentException("no training pairs.", nameof(pairs));
        var encoded = Encode(pairs, tokenizer, model.ContextLength);
        var trained = module.named_parameters()
            .Where(np => !options.FrozenParameterPrefixes.Any(prefix => np.name.StartsWith(prefix, StringComparison.Ordinal)))
            .Select(np => np.parameter).ToList();
        if (trained.Count == 0) throw new ArgumentException("FrozenParameterPrefixes freeze every parameter of the model.");
        var decay = trained.Where(p => p.dim() >= 2).ToList();
        var noDecay = trained.Where(p => p.dim() < 2).ToList();
        using var optimizer = optim.AdamW([
            new AdamW.ParamGroup(decay, new AdamW.Options { LearningRate = options.LearningRate, weight_decay = options.WeightDecay }),
            new AdamW.ParamGroup(noDecay, new AdamW.Options { LearningRate = options.LearningRate, weight_decay = 0 }),
        ], options.LearningRate);

        double windowLoss = 0, lastLoss = double.NaN; int windowSteps = 0;
        module.train();
        for (int step = 0; step < options.Steps; step++)
        {
            reporter.CancellationToken.ThrowIfCancellationRequested();
            double lr = LearningRateAt(step, options);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            double loss;
            using (var scope = NewDisposeScope())
            {
                var rng = new Random(BatchSeed(options.Seed, step));
                var batch = Enumerable.Range(0, options.BatchSize).Select(_ => encoded[rng.Next(encoded.Count)]).ToList();
                optimizer.zero_grad();
                var lossTensor = WeightedLoss(model, batch);
                lossTensor.backward();
                if (options.GradClip > 0) nn.utils.clip_grad_norm_(trained, options.GradClip);
                optimizer.step();
                loss = lossTensor.item<float>();
            }
            if (!double.IsFinite(loss)) throw new InvalidOperationException($"{metricPrefix}: loss is {loss} at step {step + 1} (try a lower learning rate).");
            windowLoss += loss; windowSteps++;
            int done = step + 1;
            if (done % options.LogEvery == 0 || done == options.Steps)
            {
                lastLoss = windowLoss / windowSteps;
                reporter.Metric($"{metricPrefix}/loss", done, lastLoss);
                reporter.Metric($"{metricPrefix}/lr", done, lr);
                windowLoss = 0; windowSteps = 0;
            }
            onStep?.Invoke(done, options.Steps);
        }
        module.eval();
        return lastLoss;
    }

    /// <summary>The seed of step <paramref name="step"/>'s batch draw: a fixed mix of (seed, step), the same in every
    /// process (HashCode.Combine is randomised per process, so it must not be used for this).</summary>
    internal static int BatchSeed(long seed, int step)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step * 0xBF58476D1CE4E5B9UL + 0x11cUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    /// <summary>Linear warm-up to the peak, then cosine decay to the minimum at the last step.</summary>
    public static double LearningRateAt(int step, LikelihoodTrainingOptions o)
    {
        if (step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        int decaySteps = Math.Max(1, o.Steps - o.WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - o.WarmupSteps) / decaySteps);
        return o.MinLearningRate + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (o.LearningRate - o.MinLearningRate);
    }

    internal static List<EncodedPair> Encode(IReadOnlyList<TrainingPair> pairs, ITokenizer tokenizer, int contextLength)
    {
        int bos = tokenizer.BosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no BOS token.");
        int eos = tokenizer.EosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no EOS token.");
        var result = new List<EncodedPair>(pairs.Count);
        for (int i = 0; i < pairs.Count; i++)
        {
            var p = pairs[i];
            if (!double.IsFinite(p.Weight)) throw new ArgumentException($"training pair {i} has weight {p.Weight}.");
            var prompt = tokenizer.Encode(p.Prompt);
            var completion = tokenizer.Encode(p.Completion);
            long[] tokens = [bos, .. prompt.Select(x => (long)x), .. completion.Select(x => (long)x), eos];
            // The last token is only a target, so T = len - 1 positions must fit.
            if (tokens.Length - 1 > contextLength)
                throw new ArgumentException($"training pair {i} needs {tokens.Length - 1} positions but the model's context length is {contextLength}.");
            result.Add(new EncodedPair(tokens, 1 + prompt.Length, p.Weight));
        }
        return result;
    }

    /// <summary>Σ_j a_j · NLL(completion_j + EOS) / Σ_j (completion tokens of j): a scalar with gradient.</summary>
    internal static Tensor WeightedLoss(ICausalLM model, IReadOnlyList<EncodedPair> batch)
    {
        int b = batch.Count, t = batch.Max(e => e.Tokens.Length) - 1;
        var input = new long[b * t];
        var target = new long[b * t];
        var weight = new float[b * t];
        Array.Fill(target, 0);
        long counted = 0;
        for (int i = 0; i < b; i++)
        {
            var tokens = batch[i].Tokens;
            for (int j = 0; j < tokens.Length - 1; j++)
            {
                input[i * t + j] = tokens[j];
                if (j + 1 >= batch[i].PromptLength) // position j predicts token j+1
                {
                    target[i * t + j] = tokens[j + 1];
                    weight[i * t + j] = (float)batch[i].Weight;
                    counted++;
                }
            }
        }
        var device = model.Device;
        var inputT = tensor(input, [b, t], ScalarType.Int64).to(device);
        var targetT = tensor(target, [b, t], ScalarType.Int64).to(device);
        var weightT = tensor(weight, [b, t], ScalarType.Float32).to(device);
        var positions = arange(t, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(b, -1);
        var logits = model.Forward(inputT, positions);                                          // (B, T, V)
        var nll = nn.functional.cross_entropy(logits.flatten(0, 1), targetT.flatten(), reduction: nn.Reduction.None); // (B*T)
        return (nll * weightT.flatten()).sum() / Math.Max(1, counted);
    }
}
