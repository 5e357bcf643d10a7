// The `sft` run kind: train a GPT from scratch on MiniMath worked solutions (supervised: loss on the answer
// tokens), with AdamW, linear warm-up + cosine decay, gradient clipping, periodic validation, checkpoints and
// resume, then a final greedy exact-match evaluation per level on held-out test problems.
// One file, top to bottom (CleanRL style): data, schedule, Execute (setup, resume, loop, final eval), helpers.
using System.Diagnostics;
using System.Text.Json;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace BonStudio.Training.FineTuning;

/// <summary>What an `sft` run produced. Accuracies are in [0, 1].</summary>
public sealed record SftResult(
    string FinalCheckpointPath,
    long Steps,
    double TestAccuracy,
    IReadOnlyDictionary<int, double> TestAccuracyByLevel,
    double TestLoss,
    double? TestAccuracyTemperatureOne,
    IReadOnlyDictionary<int, double>? TestAccuracyTemperatureOneByLevel,
    double TrainSeconds,
    double TrainCpuSeconds,
    double TokensPerSecond,
    long Parameters);

/// <summary>One MiniMath problem as tokens: BOS + prompt + completion + EOS, and where the completion starts.</summary>
public sealed record SftExample(MathProblem Problem, long[] Tokens, int PromptLength);

public static class SftRun
{
    public const string Kind = "sft";
    public const string CheckpointFolder = "checkpoints";

    /// <summary>
    /// Runs the whole `sft` run synchronously on the calling thread (hosts wrap it in Task.Run) and returns the final
    /// figures. Writes checkpoints to <c>runDirectory/checkpoints/step-NNNNNNN.safetensors</c> (+ <c>.optim</c> with the
    /// optimizer state) and resumes from the newest one found there. Throws <see cref="OperationCanceledException"/>
    /// when <see cref="IRunReporter.CancellationToken"/> fires (checked between steps; nothing half-written remains),
    /// and <see cref="System.ComponentModel.DataAnnotations.ValidationException"/> for an invalid config.
    /// Metrics: train/loss, train/lr, train/grad_norm, charts/tokens_per_s, eval/loss, eval/accuracy,
    /// eval/accuracy_level_{L} (validation split), and at the end test/loss, test/accuracy, test/accuracy_level_{L},
    /// test/accuracy_t1, test/accuracy_t1_level_{L} (test split).
    /// </summary>
    public static SftResult Execute(SftConfig config, string runDirectory, IRunReporter reporter)
    {
        config.EnsureValid();
        var ct = reporter.CancellationToken;
        ct.ThrowIfCancellationRequested();
        var tokenizer = CharTokenizer.Instance;
        var device = TorchRuntime.ResolveDevice(config.Device);
        TorchRuntime.SetThreads(config.Threads);
        var checkpointDir = Path.Combine(Path.GetFullPath(runDirectory), CheckpointFolder);
        Directory.CreateDirectory(checkpointDir);
        var configJson = JsonSerializer.Serialize(config);
        reporter.Log($"sft: device {device.type}, threads {torch.get_num_threads()}, {TorchRuntime.Versions}");
        reporter.Log($"hyperparameters: {configJson}");

        // TRY NOT TO MODIFY: seeding. Model init uses libtorch's global RNG; data order uses a Random per step
        // (so a resumed run draws exactly the batches an uninterrupted one would); sampling uses its own generator.
        TorchRuntime.Seed(config.Seed);

        // Data: MiniMath splits are disjoint by construction; the seed picks which problems.
        reporter.Progress(0, "generating MiniMath problems");
        var train = Encode(MiniMath.Generate("train", config.TrainProblems, config.Levels, config.Seed), tokenizer);
        var validation = Encode(MiniMath.Generate("validation", config.ValidationProblems, config.Levels, config.Seed), tokenizer);
        var test = Encode(MiniMath.Generate("test", config.TestProblems, config.Levels, config.Seed), tokenizer);
        int longest = train.Concat(validation).Concat(test).Max(e => e.Tokens.Length);
        if (longest > config.ContextLength)
            throw new ArgumentException($"ContextLength {config.ContextLength} is shorter than the longest problem ({longest} tokens with BOS/EOS).");

        var modelConfig = config.ModelConfig(tokenizer.VocabSize);
        using var model = new Gpt(modelConfig).to(device);
        var optimizer = MakeOptimizer(model, config);
        var metadata = (long step) => new CheckpointMetadata(Gpt.Architecture, modelConfig.ToJson(), tokenizer.Name, step, configJson);

        // Resume from the newest complete checkpoint, if any.
        long startStep = 0;
        if (LatestCheckpoint(checkpointDir) is { } resume)
        {
            Checkpoint.LoadInto(model, resume.Path);
            if (File.Exists(OptimizerPath(resume.Path))) optimizer.load_py(OptimizerPath(resume.Path));
            else reporter.Log($"resume: no optimizer state next to {resume.Path}; AdamW moments restart from zero.");
            startStep = resume.Step;
            torch.manual_seed(config.Seed + startStep); // dropout RNG continues deterministically from here
            reporter.Log($"resumed from {resume.Path} at step {startStep}");
        }
        reporter.Log($"model: {model.ParameterCount:N0} parameters, {config.Layers} layers, d={config.EmbeddingDim}, ctx={config.ContextLength}; " +
                     $"{train.Count} train / {validation.Count} validation / {test.Count} test problems, levels [{string.Join(",", config.Levels)}]");

        // ALGO LOGIC: training loop.
        var clock = Stopwatch.StartNew();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime; // CPU time: honest on a shared machine
        var windowClock = Stopwatch.StartNew();
        double windowLoss = 0; long windowTokens = 0; int windowSteps = 0; long trainTokens = 0;
        string? lastCheckpoint = null;
        long lastSavedStep = startStep;
        for (long step = startStep; step < config.Steps; step++)
        {
            if (ct.IsCancellationRequested)
            {
                // Stopping between steps (host shutting down, or a cancel): everything of step `step` is reported,
                // so checkpoint here and a resumed run continues exactly where this one stopped.
                if (step > lastSavedStep) SaveCheckpoint(checkpointDir, model, optimizer, metadata(step), reporter, isFinal: false);
                ct.ThrowIfCancellationRequested();
            }
            double lr = LearningRateAt(step, config);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;

            model.train();
            double loss, gradNorm; long tokens;
            using (var scope = NewDisposeScope())
            {
                var batch = SampleBatch(train, config.BatchSize, config.Seed, step);
                var (input, target, real) = Collate(batch, device, config.TrainOnPrompt);
                optimizer.zero_grad();
                var logits = model.forward(input);                                                   // (B, T, V)
                var lossTensor = nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index: -100);
                lossTensor.backward();
                gradNorm = config.GradClip > 0
                    ? nn.utils.clip_grad_norm_(model.parameters(), config.GradClip)
                    : double.NaN;
                optimizer.step();
                loss = lossTensor.item<float>();
                tokens = real;
            }
            if (!double.IsFinite(loss)) throw new InvalidOperationException($"training diverged at step {step + 1}: loss is {loss} (try a lower LearningRate).");
            windowLoss += loss; windowTokens += tokens; windowSteps++; trainTokens += tokens;
            long done = step + 1;

            if (done % config.LogEvery == 0 || done == config.Steps)
            {
                double seconds = Math.Max(windowClock.Elapsed.TotalSeconds, 1e-9);
                reporter.Metric("train/loss", done, windowLoss / windowSteps);
                reporter.Metric("train/lr", done, lr);
                if (double.IsFinite(gradNorm)) reporter.Metric("train/grad_norm", done, gradNorm);
                reporter.Metric("charts/tokens_per_s", done, windowTokens / seconds);
                reporter.Progress(0.95 * done / config.Steps, $"step {done}/{config.Steps} loss {windowLoss / windowSteps:F4} lr {lr:G3} {windowTokens / seconds:F0} tok/s");
                windowLoss = 0; windowTokens = 0; windowSteps = 0; windowClock.Restart();
            }
            if (config.EvalEvery > 0 && done % config.EvalEvery == 0 && done != config.Steps)
            {
                Evaluate(model, tokenizer, validation, "eval", done, config, reporter, temperatureOne: false);
                windowClock.Restart(); // do not count evaluation time as training throughput
            }
            if (config.CheckpointEvery > 0 && done % config.CheckpointEvery == 0 && done != config.Steps)
            {
                lastCheckpoint = SaveCheckpoint(checkpointDir, model, optimizer, metadata(done), reporter, isFinal: false);
                lastSavedStep = done;
                windowClock.Restart();
            }
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;
        double trainCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds;
        ct.ThrowIfCancellationRequested();

        // Final checkpoint (even when resuming a finished run, so the host always gets one), validation, test.
        var finalPath = SaveCheckpoint(checkpointDir, model, optimizer, metadata(config.Steps), reporter, isFinal: true);
        Evaluate(model, tokenizer, validation, "eval", config.Steps, config, reporter, temperatureOne: false);
        reporter.Progress(0.97, "final evaluation on test problems");
        var final = Evaluate(model, tokenizer, test, "test", config.Steps, config, reporter, temperatureOne: config.EvalTemperatureOne);
        double tokensPerSecond = (config.Steps - startStep) == 0 ? 0 : trainTokens / Math.Max(trainSeconds, 1e-9);
        reporter.Log($"test: greedy accuracy {final.Accuracy:P1} ({string.Join(", ", final.ByLevel.Select(kv => $"L{kv.Key} {kv.Value:P1}"))}), loss {final.Loss:F4}" +
                     (final.AccuracyT1 is { } t1 ? $"; temperature-1 accuracy {t1:P1} ({string.Join(", ", final.ByLevelT1!.Select(kv => $"L{kv.Key} {kv.Value:P1}"))})" : "") +
                     $"; trained {config.Steps - startStep} steps ({trainTokens:N0} tokens) in {trainSeconds:F0} s wall, {trainCpuSeconds:F0} s CPU, at {tokensPerSecond:F0} tok/s");
        reporter.Progress(1, "done");
        optimizer.Dispose();
        return new SftResult(finalPath, config.Steps, final.Accuracy, final.ByLevel, final.Loss, final.AccuracyT1, final.ByLevelT1,
            trainSeconds, trainCpuSeconds, tokensPerSecond, model.ParameterCount);
    }

    /// <summary>BOS + prompt + completion + EOS per problem.</summary>
    public static List<SftExample> Encode(IEnumerable<MathProblem> problems, ITokenizer tokenizer)
    {
        int bos = tokenizer.BosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no BOS token.");
        int eos = tokenizer.EosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no EOS token.");
        return problems.Select(p =>
        {
            var prompt = tokenizer.Encode(MiniMath.Prompt(p));
            var completion = tokenizer.Encode(MiniMath.Completion(p));
            long[] tokens = [bos, .. prompt.Select(x => (long)x), .. completion.Select(x => (long)x), eos];
            return new SftExample(p, tokens, 1 + prompt.Length);
        }).ToList();
    }

    /// <summary>Linear warm-up to the peak, then cosine decay to the minimum at the last step.</summary>
    public static double LearningRateAt(long step, SftConfig c)
    {
        if (step < c.WarmupSteps) return c.LearningRate * (step + 1) / c.WarmupSteps;
        long decaySteps = Math.Max(1, c.Steps - c.WarmupSteps);
        double progress = Math.Min(1.0, (double)(step - c.WarmupSteps) / decaySteps);
        return c.MinLearningRate + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (c.LearningRate - c.MinLearningRate);
    }

    /// <summary>AdamW with weight decay on matrices/embeddings only (nanoGPT's configure_optimizers).</summary>
    private static AdamW MakeOptimizer(Gpt model, SftConfig c)
    {
        var decay = model.parameters().Where(p => p.dim() >= 2).ToList();
        var noDecay = model.parameters().Where(p => p.dim() < 2).ToList();
        return optim.AdamW([
            new AdamW.ParamGroup(decay, new AdamW.Options { LearningRate = c.LearningRate, weight_decay = c.WeightDecay, beta1 = c.Beta1, beta2 = c.Beta2 }),
            new AdamW.ParamGroup(noDecay, new AdamW.Options { LearningRate = c.LearningRate, weight_decay = 0, beta1 = c.Beta1, beta2 = c.Beta2 }),
        ], c.LearningRate, c.Beta1, c.Beta2, weight_decay: c.WeightDecay);
    }

    /// <summary>The step's batch: indices drawn with replacement from a Random seeded by (seed, step).</summary>
    private static List<SftExample> SampleBatch(List<SftExample> pool, int batchSize, long seed, long step)
    {
        var rng = new Random(StepSeed(seed, step));
        var batch = new List<SftExample>(batchSize);
        for (int i = 0; i < batchSize; i++) batch.Add(pool[rng.Next(pool.Count)]);
        return batch;
    }

    /// <summary>A well-mixed 32-bit seed from (seed, step), the same in every process (unlike HashCode.Combine).</summary>
    private static int StepSeed(long seed, long step)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    /// <summary>Right-padded inputs (B, T) and targets (B, T) shifted by one; targets outside the loss are -100.
    /// Also returns the number of real (non-pad) input tokens.</summary>
    internal static (Tensor Input, Tensor Target, long RealTokens) Collate(IReadOnlyList<SftExample> batch, Device device, bool trainOnPrompt)
    {
        int t = batch.Max(e => e.Tokens.Length) - 1;
        var input = new long[batch.Count * t];
        var target = new long[batch.Count * t];
        Array.Fill(target, -100);
        long real = 0;
        for (int b = 0; b < batch.Count; b++)
        {
            var tokens = batch[b].Tokens;
            for (int j = 0; j < tokens.Length - 1; j++)
            {
                input[b * t + j] = tokens[j];
                // Position j predicts token j+1; answer tokens start at PromptLength.
                if (trainOnPrompt || j + 1 >= batch[b].PromptLength) target[b * t + j] = tokens[j + 1];
            }
            real += tokens.Length - 1;
        }
        return (tensor(input, [batch.Count, t], ScalarType.Int64).to(device),
                tensor(target, [batch.Count, t], ScalarType.Int64).to(device), real);
    }

    private sealed record EvalResult(double Loss, double Accuracy, Dictionary<int, double> ByLevel, double? AccuracyT1, Dictionary<int, double>? ByLevelT1);

    /// <summary>Mean answer-token loss and greedy exact-match accuracy (overall and per level) on <paramref name="examples"/>,
    /// reported as {prefix}/loss, {prefix}/accuracy, {prefix}/accuracy_level_{L} (and _t1 variants when asked).</summary>
    private static EvalResult Evaluate(Gpt model, ITokenizer tokenizer, List<SftExample> examples, string prefix, long step,
        SftConfig config, IRunReporter reporter, bool temperatureOne)
    {
        model.eval();
        using var noGrad = no_grad();
        const int batchSize = 64;
        double lossSum = 0; long lossCount = 0;
        for (int i = 0; i < examples.Count; i += batchSize)
        {
            reporter.CancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var batch = examples.Skip(i).Take(batchSize).ToList();
            var (input, target, _) = Collate(batch, model.Device, trainOnPrompt: false);
            var logits = model.forward(input);
            var sum = nn.functional.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index: -100, reduction: nn.Reduction.Sum);
            lossSum += sum.item<float>();
            lossCount += target.ne(-100).sum().item<long>();
        }
        double loss = lossSum / Math.Max(1, lossCount);

        var greedy = Accuracy(model, tokenizer, examples, new SamplingOptions { Temperature = 0 }, reporter.CancellationToken);
        reporter.Metric($"{prefix}/loss", step, loss);
        reporter.Metric($"{prefix}/accuracy", step, greedy.Overall);
        foreach (var (level, acc) in greedy.ByLevel) reporter.Metric($"{prefix}/accuracy_level_{level}", step, acc);
        (double Overall, Dictionary<int, double> ByLevel)? t1 = null;
        if (temperatureOne)
        {
            t1 = Accuracy(model, tokenizer, examples, new SamplingOptions { Temperature = 1, Seed = config.Seed }, reporter.CancellationToken);
            reporter.Metric($"{prefix}/accuracy_t1", step, t1.Value.Overall);
            foreach (var (level, acc) in t1.Value.ByLevel) reporter.Metric($"{prefix}/accuracy_t1_level_{level}", step, acc);
        }
        reporter.Log($"step {step}: {prefix}/loss {loss:F4}, {prefix}/accuracy {greedy.Overall:P1} " +
                     $"({string.Join(", ", greedy.ByLevel.Select(kv => $"L{kv.Key} {kv.Value:P1}"))})");
        return new EvalResult(loss, greedy.Overall, greedy.ByLevel, t1?.Overall, t1?.ByLevel);
    }

    /// <summary>Exact-match accuracy of one sample per problem (batched, KV cache), overall and per level.</summary>
    public static (double Overall, Dictionary<int, double> ByLevel) Accuracy(ICausalLM model, ITokenizer tokenizer,
        IReadOnlyList<SftExample> examples, SamplingOptions options, CancellationToken ct = default)
    {
        var sampler = new Sampler(model, tokenizer);
        var correct = new bool[examples.Count];
        const int batchSize = 64;
        for (int i = 0; i < examples.Count; i += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            var batch = examples.Skip(i).Take(batchSize).ToList();
            var prompts = batch.Select(e => e.Tokens.Take(e.PromptLength).Select(x => (int)x).ToArray()).ToList();
            var results = sampler.Sample(prompts, options with
            {
                MaxNewTokens = model.ContextLength - prompts.Max(p => p.Length) + 1,
                Seed = options.Seed + i, // a different stream per batch, still deterministic
            });
            for (int j = 0; j < batch.Count; j++) correct[i + j] = MiniMath.IsCorrect(results[j].Text!, batch[j].Problem.Answer);
        }
        var byLevel = examples.Select((e, i) => (e.Problem.Level, correct[i])).GroupBy(x => x.Level).OrderBy(g => g.Key)
            .ToDictionary(g => g.Key, g => g.Average(x => x.Item2 ? 1.0 : 0.0));
        return (correct.Length == 0 ? 0 : correct.Average(c => c ? 1.0 : 0.0), byLevel);
    }

    private static string OptimizerPath(string checkpointPath) => Path.ChangeExtension(checkpointPath, ".optim");

    private static string SaveCheckpoint(string dir, Gpt model, AdamW optimizer, CheckpointMetadata meta, IRunReporter reporter, bool isFinal)
    {
        var path = Path.Combine(dir, $"step-{meta.Step:D7}.safetensors");
        // Optimizer state first: a model file without its .optim would still resume, never the other way round.
        var optimPath = OptimizerPath(path);
        optimizer.save_py(optimPath + ".tmp");
        File.Move(optimPath + ".tmp", optimPath, overwrite: true);
        Checkpoint.Save(path, model, meta);
        reporter.Checkpoint(new CheckpointInfo(path, meta.Step, meta.Architecture, meta.Tokenizer, model.ParameterCount, isFinal));
        return path;
    }

    /// <summary>The checkpoint with the highest step in <paramref name="checkpointDir"/>, or null.</summary>
    public static (string Path, long Step)? LatestCheckpoint(string checkpointDir)
    {
        if (!Directory.Exists(checkpointDir)) return null;
        return Directory.EnumerateFiles(checkpointDir, "step-*.safetensors")
            .Select(p => (Path: p, Ok: long.TryParse(System.IO.Path.GetFileNameWithoutExtension(p)["step-".Length..], out var s), Step: s))
            .Where(x => x.Ok)
            .OrderByDescending(x => x.Step)
            .Select(x => ((string, long)?)(x.Path, x.Step))
            .FirstOrDefault();
    }
}
