// The `calibration-sft` run kind (methods.md §3, "Linguistic uncertainty SFT"): the base model answers training
// questions; each answer gets the ladder phrase nearest to its confidence from the chosen source (or the top phrase,
// for the always-confident baseline); the model is fine-tuned on "answer\nConf: <phrase>"; then it answers test
// questions and the phrase it emits is parsed, mapped back to its probability and scored against correctness.
//
// Sources recorded per test question (raw pairs through ICalibrationSink):
//   phrase                   the fine-tuned model's freely (greedily) emitted phrase → probability (parseable outputs only)
//   phrase-ladder            the ladder phrase the fine-tuned model finds most likely after its own answer
//                            (LadderDecoding: constrained choice, every answer)
//   always-confident         the same answers, all at the ladder's top probability (baseline, no training needed)
//   constant-train-accuracy  the same answers, all at the base model's accuracy on the training questions (best constant)
//   {source}, {source}-ladder  the BASE model's test answers with the source's confidence and its ladder-rounded value:
//                            the confidence the phrases were trained to express, for "about as calibrated as" checks
using System.Text.Json;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using TorchSharp;

namespace BonStudio.Training.Calibration;

/// <summary>What a calibration-sft run measured. Accuracies in [0, 1].</summary>
public sealed record CalibrationSftResult(
    string CheckpointPath,
    double BaseTrainAccuracy,
    double BaseTestAccuracy,
    double TestAccuracy,
    int TestProblems,
    int Unparseable,
    IReadOnlyDictionary<string, int> PhraseCounts,
    IReadOnlyDictionary<string, int> LadderPhraseCounts,
    IReadOnlyDictionary<string, int> TrainingPhraseCounts,
    IReadOnlyList<CalibrationSummary> Summaries);

public static class CalibrationSft
{
    public const string Kind = "calibration-sft";
    public const string CheckpointFileName = "calibration-sft.safetensors";

    /// <summary>
    /// Runs a calibration-sft synchronously; writes the fine-tuned model to <c>runDirectory/calibration-sft.safetensors</c>
    /// (announced through <see cref="IRunReporter.Checkpoint"/>). Metrics: <c>accuracy</c>, <c>base_accuracy</c>,
    /// <c>base_train_accuracy</c>, <c>calibration/unparseable</c> (count) and <c>calibration/unparseable_share</c>,
    /// <c>phrases/{phrase}</c> (freely emitted counts), <c>phrases_ladder/{phrase}</c> (constrained choices),
    /// <c>calibration/ladder_agrees_with_free</c> (share of parseable answers whose free phrase is the constrained one),
    /// <c>train_phrases/{phrase}</c> (label counts), <c>sft/loss</c>, and
    /// <c>calibration/{source}/ece|brier|auroc|mean_confidence</c> for every recorded source (see the file header).
    /// </summary>
    public static CalibrationSftResult Execute(CalibrationSftConfig config, string modelCheckpointPath, string runDirectory,
        IRunReporter reporter, ICalibrationSink sink)
    {
        config.EnsureValid();
        var ct = reporter.CancellationToken;
        ct.ThrowIfCancellationRequested();
        var ladder = PhraseLadderView.Parse(config.Ladder, nameof(config.Ladder));
        var device = TorchRuntime.ResolveDevice(config.Device);
        TorchRuntime.SetThreads(config.Threads);
        Directory.CreateDirectory(runDirectory);
        var configJson = JsonSerializer.Serialize(config);
        reporter.Log($"{Kind}: model {modelCheckpointPath}, device {device.type}, threads {torch.get_num_threads()}, {TorchRuntime.Versions}");
        reporter.Log($"hyperparameters: {configJson}");

        // TRY NOT TO MODIFY: seeding.
        TorchRuntime.Seed(config.Seed);

        var (model, meta) = Checkpoint.LoadCausalLM(modelCheckpointPath, device);
        using var module = (torch.nn.Module)model;
        var tokenizer = TokenizerRegistry.Resolve(meta.Tokenizer);
        var train = MiniMath.Generate("train", config.TrainProblems, config.Levels, config.Seed);
        var test = MiniMath.Generate(config.Split, config.TestProblems, config.Levels, config.Seed);
        int baseMaxTokens = Math.Max(8, config.MaxNewTokens - LinguisticFormat.Marker.Length - ladder.Entries.Max(e => e.Phrase.Length));
        bool fromSource = config.Labels == CalibrationSftConfig.LabelsFromSource;
        var teaching = new PTrueTeaching(config.TeachProblems, config.TeachSamplesPerProblem, config.TeachSteps, 32, 5e-4, baseMaxTokens, config.Seed);
        string? judgePath = string.IsNullOrEmpty(config.JudgeCheckpoint) ? null : config.JudgeCheckpoint; // set: no teaching here

        // ALGO LOGIC: 1. the base model's own answers to training questions, labelled with phrases.
        reporter.Progress(0, $"base model answering {train.Count} training questions");
        var trainAnswers = ConfidenceSources.AnswerGreedy(model, tokenizer, train, baseMaxTokens, ct,
            onBatch: done => reporter.Progress(0.1 * done / train.Count, $"answered {done}/{train.Count} training questions"));
        double baseTrainAccuracy = CalibrationEval.Accuracy(trainAnswers).Overall;
        reporter.Metric("base_train_accuracy", 0, baseTrainAccuracy);
        double[] trainConfidence = fromSource
            ? CalibrationEval.Confidences(config.Source, model, modelCheckpointPath, tokenizer, trainAnswers, config.ConsistencySamples,
                config.ConsistencyTemperature, baseMaxTokens, config.Seed, teaching, runDirectory, reporter, 0.1, 0.3, ref judgePath)
            : Enumerable.Repeat(ladder.Top.Probability, trainAnswers.Count).ToArray();
        var (pairs, labels, skipped) = BuildTrainingPairs(trainAnswers, trainConfidence, ladder, model.ContextLength, config.PhraseOnlyLoss);
        if (pairs.Count == 0) throw new InvalidOperationException("no training answer fits the model's context with its confidence line.");
        if (skipped > 0) reporter.Log($"{skipped} training answers were too long for the context with their confidence line and were left out.");
        var trainingPhraseCounts = Histogram(labels, ladder);
        foreach (var (phrase, count) in trainingPhraseCounts) reporter.Metric($"train_phrases/{phrase}", 0, count);
        reporter.Log($"training labels ({(fromSource ? config.Source : "always-confident")}): " +
                     string.Join(", ", trainingPhraseCounts.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value}")));

        // 2. the base model on the test questions: the confidence the phrases are meant to express.
        reporter.Progress(0.4, "base model on the test questions");
        var baseTest = ConfidenceSources.AnswerGreedy(model, tokenizer, test, baseMaxTokens, ct);
        double baseTestAccuracy = CalibrationEval.Accuracy(baseTest).Overall;
        reporter.Metric("base_accuracy", 0, baseTestAccuracy);
        var summaries = new List<CalibrationSummary>();
        if (fromSource)
        {
            var baseConfidence = CalibrationEval.Confidences(config.Source, model, modelCheckpointPath, tokenizer, baseTest, config.ConsistencySamples,
                config.ConsistencyTemperature, baseMaxTokens, config.Seed + 1, teaching, runDirectory, reporter, 0.4, 0.1, ref judgePath);
            summaries.Add(Emit(config.Source, baseTest, baseConfidence, null, sink, reporter));
            var rounded = baseConfidence.Select(c => ladder.Nearest(c)).ToList();
            summaries.Add(Emit(config.Source + "-ladder", baseTest, rounded.Select(r => r.Probability).ToArray(), i => rounded[i].Phrase, sink, reporter));
        }

        // 3. fine-tune on answer + phrase.
        reporter.Progress(0.5, $"fine-tuning on {pairs.Count} answers with phrases");
        TorchRuntime.Seed(config.Seed);
        LikelihoodTrainer.Train(model, tokenizer, pairs, new LikelihoodTrainingOptions
        {
            Steps = config.Steps, BatchSize = config.BatchSize, LearningRate = config.LearningRate,
            MinLearningRate = config.LearningRate / 10, WarmupSteps = Math.Min(20, config.Steps), Seed = config.Seed,
        }, reporter, "sft", (done, total) => reporter.Progress(0.5 + 0.35 * done / total, $"fine-tuning step {done}/{total}"));
        var checkpointPath = Path.Combine(Path.GetFullPath(runDirectory), CheckpointFileName);
        Checkpoint.Save(checkpointPath, module, meta with { Step = meta.Step + config.Steps, TrainingConfigJson = configJson });
        reporter.Checkpoint(new CheckpointInfo(checkpointPath, meta.Step + config.Steps, meta.Architecture, meta.Tokenizer,
            module.parameters().Sum(p => p.numel()), IsFinal: true));

        // 4. evaluate: parse the emitted phrase, map it back, score it.
        reporter.Progress(0.85, $"fine-tuned model answering {test.Count} test questions");
        var tuned = ConfidenceSources.AnswerGreedy(model, tokenizer, test, config.MaxNewTokens, ct);
        double accuracy = CalibrationEval.Accuracy(tuned).Overall;
        reporter.Metric("accuracy", 0, accuracy);
        var parsed = tuned.Select(a => LinguisticFormat.Parse(a.Response, ladder)).ToList();
        var parseable = Enumerable.Range(0, tuned.Count).Where(i => parsed[i].Parsed).ToList();
        int unparseable = tuned.Count - parseable.Count;
        reporter.Metric("calibration/unparseable", 0, unparseable);
        reporter.Metric("calibration/unparseable_share", 0, tuned.Count == 0 ? 0 : unparseable / (double)tuned.Count);
        foreach (var i in Enumerable.Range(0, tuned.Count).Where(i => !parsed[i].Parsed).Take(5))
            reporter.Log($"unparseable confidence line for {tuned[i].Problem.Id}: {(parsed[i].Raw is null ? "(no marker)" : $"'{parsed[i].Raw}'")} in " +
                         JsonSerializer.Serialize(tuned[i].Response.Length > 80 ? "…" + tuned[i].Response[^80..] : tuned[i].Response));
        var emitted = parseable.Select(i => tuned[i]).ToList();
        summaries.Add(Emit(ConfidenceSources.Phrase, emitted, parseable.Select(i => parsed[i].Probability!.Value).ToArray(),
            k => parsed[parseable[k]].Phrase, sink, reporter));
        var phraseCounts = Histogram(parseable.Select(i => parsed[i].Phrase!), ladder);
        foreach (var (phrase, count) in phraseCounts) reporter.Metric($"phrases/{phrase}", 0, count);

        // 4b. the constrained choice: the most likely whole ladder phrase after each answer (never unparseable).
        reporter.Progress(0.95, "scoring the ladder phrases after each answer");
        var chosen = LadderDecoding.Choose(model, tokenizer, tuned.Select(a => (a.Problem, a.Response)).ToList(), ladder, ct);
        summaries.Add(Emit(ConfidenceSources.PhraseLadder, tuned, chosen.Select(c => c.Probability).ToArray(), i => chosen[i].Phrase, sink, reporter));
        var ladderCounts = Histogram(chosen.Select(c => c.Phrase), ladder);
        foreach (var (phrase, count) in ladderCounts) reporter.Metric($"phrases_ladder/{phrase}", 0, count);
        int agree = parseable.Count(i => parsed[i].Phrase == chosen[i].Phrase);
        reporter.Metric("calibration/ladder_agrees_with_free", 0, parseable.Count == 0 ? 0 : agree / (double)parseable.Count);
        int shortened = chosen.Count(c => c.Shortened);
        if (shortened > 0) reporter.Log($"{shortened} answers were too long to score with a phrase and were scored in their short form.");

        // Baselines on the same answers (all of them: a constant needs no parsing).
        summaries.Add(Emit(ConfidenceSources.AlwaysConfident, tuned, Enumerable.Repeat(ladder.Top.Probability, tuned.Count).ToArray(), _ => ladder.Top.Phrase, sink, reporter));
        summaries.Add(Emit(ConfidenceSources.ConstantTrainAccuracy, tuned, Enumerable.Repeat(baseTrainAccuracy, tuned.Count).ToArray(), null, sink, reporter));

        reporter.Log($"accuracy {accuracy:P1} (base {baseTestAccuracy:P1}); unparseable {unparseable}/{tuned.Count}; phrases: " +
                     string.Join(", ", phraseCounts.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value}")));
        reporter.Log($"ladder-constrained phrases: {string.Join(", ", ladderCounts.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value}"))}; " +
                     $"same as the free phrase on {agree}/{parseable.Count} parseable answers");
        foreach (var s in summaries)
            reporter.Log($"{s.Source}: n {s.Count}, accuracy {s.Accuracy:F3}, mean confidence {s.MeanConfidence:F3}, {CalibrationSummary.EceEstimator} {s.Ece15:F3}, Brier {s.Brier:F3}, AUROC {s.Auroc:F3}");
        reporter.Progress(1, "done");
        return new CalibrationSftResult(checkpointPath, baseTrainAccuracy, baseTestAccuracy, accuracy, tuned.Count, unparseable,
            phraseCounts, ladderCounts, trainingPhraseCounts, summaries);
    }

    /// <summary>
    /// The uncertainty-augmented data: each answer's prompt with completion "response\nConf: phrase", the phrase
    /// being the ladder entry nearest to the answer's confidence. Pairs that would not fit <paramref name="contextLength"/>
    /// (BOS + text, EOS as the last target) are left out and counted. With <paramref name="phraseOnly"/> the response
    /// moves into the prompt and only "\nConf: phrase" is trained (the same text, a different loss mask).
    /// </summary>
    public static (List<TrainingPair> Pairs, List<string> Labels, int Skipped) BuildTrainingPairs(IReadOnlyList<AnsweredProblem> answers,
        IReadOnlyList<double> confidences, PhraseLadderView ladder, int contextLength, bool phraseOnly = false)
    {
        if (answers.Count != confidences.Count) throw new ArgumentException($"{answers.Count} answers but {confidences.Count} confidences.");
        var labels = confidences.Select(c => ladder.Nearest(c).Phrase).ToList();
        var pairs = new List<TrainingPair>(answers.Count);
        int skipped = 0;
        for (int i = 0; i < answers.Count; i++)
        {
            var pair = phraseOnly
                ? new TrainingPair(MiniMath.Prompt(answers[i].Problem) + answers[i].Response.TrimEnd(), LinguisticFormat.Completion("", labels[i]))
                : new TrainingPair(MiniMath.Prompt(answers[i].Problem), LinguisticFormat.Completion(answers[i].Response, labels[i]));
            if (1 + pair.Prompt.Length + pair.Completion.Length > contextLength) { skipped++; continue; }
            pairs.Add(pair);
        }
        return (pairs, labels, skipped);
    }

    private static CalibrationSummary Emit(string source, IReadOnlyList<AnsweredProblem> answered, double[] confidences,
        Func<int, string?>? phrase, ICalibrationSink sink, IRunReporter reporter)
    {
        var records = ConfidenceSources.Records(source, answered, confidences, phrase);
        sink.Add(records);
        var summary = CalibrationSummary.Of(source, records);
        summary.Report(reporter, 0);
        return summary;
    }

    /// <summary>Count per ladder phrase (every phrase present, most confident first).</summary>
    internal static Dictionary<string, int> Histogram(IEnumerable<string> phrases, PhraseLadderView ladder)
    {
        var counts = ladder.Entries.ToDictionary(e => e.Phrase, _ => 0);
        foreach (var p in phrases) counts[p]++;
        return counts;
    }
}
