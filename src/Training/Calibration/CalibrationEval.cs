// The `calibration-eval` run kind: answer MiniMath questions greedily with a checkpoint and record, per confidence
// source, one raw (question, answer, confidence, correct) pair per question through ICalibrationSink; summarise at
// the end as run metrics. Sources: p-true (a copy of the model taught the self-evaluation format judges the original
// model's answers), consistency (n samples), likelihood (greedy token log-probs). methods.md §3.
using System.Text.Json;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using TorchSharp;

namespace BonStudio.Training.Calibration;

/// <summary>What a calibration-eval run measured.</summary>
public sealed record CalibrationEvalResult(
    int Problems,
    double Accuracy,
    IReadOnlyDictionary<int, double> AccuracyByLevel,
    IReadOnlyList<CalibrationSummary> Summaries,
    string? JudgeCheckpointPath);

/// <summary>How to teach the P(True) format (shared by calibration-eval and calibration-sft).</summary>
internal sealed record PTrueTeaching(int Problems, int SamplesPerProblem, int Steps, int BatchSize, double LearningRate, int MaxNewTokens, long Seed);

public static class CalibrationEval
{
    public const string Kind = "calibration-eval";
    public const string JudgeFileName = "ptrue-judge.safetensors";

    /// <summary>
    /// Runs a calibration-eval synchronously. Writes the P(True) judge (when taught) to
    /// <c>runDirectory/ptrue-judge.safetensors</c> and announces it through <see cref="IRunReporter.Checkpoint"/>.
    /// Metrics (step 0): <c>accuracy</c>, <c>accuracy_level_{L}</c>, <c>calibration/{source}/ece|brier|auroc|mean_confidence</c>
    /// (ECE: 15 equal-width bins), <c>ptrue_teach/loss</c>, <c>ptrue_teach/yes_share</c>. Throws
    /// <see cref="System.ComponentModel.DataAnnotations.ValidationException"/> for a bad config and
    /// <see cref="OperationCanceledException"/> on cancel.
    /// </summary>
    public static CalibrationEvalResult Execute(CalibrationEvalConfig config, string modelCheckpointPath, string runDirectory,
        IRunReporter reporter, ICalibrationSink sink)
    {
        config.EnsureValid();
        var ct = reporter.CancellationToken;
        ct.ThrowIfCancellationRequested();
        var device = TorchRuntime.ResolveDevice(config.Device);
        TorchRuntime.SetThreads(config.Threads);
        Directory.CreateDirectory(runDirectory);
        reporter.Log($"{Kind}: model {modelCheckpointPath}, device {device.type}, threads {torch.get_num_threads()}, {TorchRuntime.Versions}");
        reporter.Log($"hyperparameters: {JsonSerializer.Serialize(config)}");

        // TRY NOT TO MODIFY: seeding (teaching draws dropout from libtorch's global RNG; samplers have their own generators).
        TorchRuntime.Seed(config.Seed);

        var (model, meta) = Checkpoint.LoadCausalLM(modelCheckpointPath, device);
        using var modelModule = (torch.nn.Module)model;
        var tokenizer = TokenizerRegistry.Resolve(meta.Tokenizer);
        var problems = MiniMath.Generate(config.Split, config.Problems, config.Levels, config.Seed);

        // ALGO LOGIC: greedy answers, then one confidence per question and source.
        reporter.Progress(0, $"answering {problems.Count} questions");
        var answered = ConfidenceSources.AnswerGreedy(model, tokenizer, problems, config.MaxNewTokens, ct,
            onBatch: done => reporter.Progress(0.2 * done / problems.Count, $"answered {done}/{problems.Count}"));
        var (accuracy, byLevel) = Accuracy(answered);
        reporter.Metric("accuracy", 0, accuracy);
        foreach (var (level, acc) in byLevel) reporter.Metric($"accuracy_level_{level}", 0, acc);
        reporter.Log($"greedy accuracy {accuracy:P1} ({string.Join(", ", byLevel.Select(kv => $"L{kv.Key} {kv.Value:P1}"))})");

        var summaries = new List<CalibrationSummary>();
        string? judgePath = null;
        var teaching = new PTrueTeaching(config.TeachProblems, config.TeachSamplesPerProblem, config.TeachSteps, config.TeachBatchSize,
            config.TeachLearningRate, config.MaxNewTokens, config.Seed);
        for (int s = 0; s < config.Sources.Length; s++)
        {
            var source = config.Sources[s];
            double from = 0.2 + 0.8 * s / config.Sources.Length, span = 0.8 / config.Sources.Length;
            var confidences = Confidences(source, model, modelCheckpointPath, tokenizer, answered, config.ConsistencySamples,
                config.ConsistencyTemperature, config.MaxNewTokens, config.Seed, config.TeachPTrue ? teaching : null,
                runDirectory, reporter, from, span, ref judgePath);
            var records = ConfidenceSources.Records(source, answered, confidences);
            sink.Add(records);
            var summary = CalibrationSummary.Of(source, records);
            summary.Report(reporter, 0);
            summaries.Add(summary);
            reporter.Log($"{source}: mean confidence {summary.MeanConfidence:F3}, {CalibrationSummary.EceEstimator} {summary.Ece15:F3}, " +
                         $"Brier {summary.Brier:F3}, AUROC {summary.Auroc:F3}");
        }
        reporter.Progress(1, "done");
        return new CalibrationEvalResult(answered.Count, accuracy, byLevel, summaries, judgePath);
    }

    internal static (double Overall, Dictionary<int, double> ByLevel) Accuracy(IReadOnlyList<AnsweredProblem> answered) =>
        (answered.Count == 0 ? 0 : answered.Average(a => a.Correct ? 1.0 : 0.0),
         answered.GroupBy(a => a.Problem.Level).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Average(a => a.Correct ? 1.0 : 0.0)));

    /// <summary>One source's confidence for every answered question. For p-true with <paramref name="teaching"/>, a copy
    /// of the model is taught first (once; its path is kept in <paramref name="judgePath"/>).</summary>
    internal static double[] Confidences(string source, ICausalLM model, string modelCheckpointPath, ITokenizer tokenizer,
        IReadOnlyList<AnsweredProblem> answered, int consistencySamples, double consistencyTemperature, int maxNewTokens, long seed,
        PTrueTeaching? teaching, string runDirectory, IRunReporter reporter, double progressFrom, double progressSpan, ref string? judgePath)
    {
        var ct = reporter.CancellationToken;
        switch (source)
        {
            case ConfidenceSources.Likelihood:
                return answered.Select(a => ConfidenceSources.LikelihoodOf(a.TokenLogProbs)).ToArray();
            case ConfidenceSources.Consistency:
                reporter.Progress(progressFrom, $"consistency: {consistencySamples} samples per question");
                return ConfidenceSources.ConsistencyScores(model, tokenizer, answered, consistencySamples, consistencyTemperature, seed, maxNewTokens, ct,
                    onBatch: done => reporter.Progress(progressFrom + progressSpan * done / answered.Count, $"consistency {done}/{answered.Count}"));
            case ConfidenceSources.PTrue:
                if (teaching is null)
                    return SelfEvaluation.PTrue(model, tokenizer, answered.Select(a => (a.Problem, a.Response)).ToList(), ct);
                var device = model.Device;
                var (judge, meta) = Checkpoint.LoadCausalLM(judgePath ?? modelCheckpointPath, device);
                using (var judgeModule = (torch.nn.Module)judge)
                {
                    if (judgePath is null)
                    {
                        reporter.Progress(progressFrom, $"p-true: building teaching data from {teaching.Problems} training questions");
                        // Another seed than the run's own training questions, so a calibration-sft judge is not taught on exactly the
                        // answers it then labels (it would have memorised their verdicts).
                        var train = MiniMath.Generate("train", teaching.Problems, answered.Select(a => a.Problem.Level).Distinct().Order().ToArray(), teaching.Seed + 1_000_003);
                        var pairs = SelfEvaluation.TeachingData(model, tokenizer, train, teaching.SamplesPerProblem, 1.0, teaching.Seed, teaching.MaxNewTokens, ct);
                        double yesShare = pairs.Average(p => p.Completion == SelfEvaluation.Yes ? 1.0 : 0.0);
                        reporter.Metric("ptrue_teach/yes_share", 0, yesShare);
                        reporter.Log($"p-true teaching data: {pairs.Count} labelled answers, {yesShare:P1} correct");
                        SelfEvaluation.Teach(judge, tokenizer, pairs, new LikelihoodTrainingOptions
                        {
                            Steps = teaching.Steps, BatchSize = teaching.BatchSize, LearningRate = teaching.LearningRate,
                            MinLearningRate = teaching.LearningRate / 10, WarmupSteps = Math.Min(20, teaching.Steps), Seed = teaching.Seed,
                        }, reporter, (done, total) => reporter.Progress(progressFrom + 0.8 * progressSpan * done / total, $"p-true teaching step {done}/{total}"));
                        var path = Path.Combine(Path.GetFullPath(runDirectory), JudgeFileName);
                        Checkpoint.Save(path, judgeModule, meta with { Step = meta.Step + teaching.Steps, TrainingConfigJson = JsonSerializer.Serialize(teaching) });
                        reporter.Checkpoint(new CheckpointInfo(path, meta.Step + teaching.Steps, meta.Architecture, meta.Tokenizer,
                            judgeModule.parameters().Sum(p => p.numel()), IsFinal: true));
                        judgePath = path;
                    }
                    return SelfEvaluation.PTrue(judge, tokenizer, answered.Select(a => (a.Problem, a.Response)).ToList(), ct);
                }
            default:
                throw new ArgumentException($"unknown confidence source '{source}'.");
        }
    }
}
