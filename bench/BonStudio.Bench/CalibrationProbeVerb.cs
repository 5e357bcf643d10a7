// `calib-probe`: a small diagnostic of the calibration-SFT fine-tuning path (issue #5, session 2). Loads a base
// checkpoint, answers a few training questions greedily, builds training pairs in one of several modes, prints a few
// encoded pairs (which tokens are targets), fine-tunes with LikelihoodTrainer and reports accuracy by level and the
// confidence-line parse rate before/after.
//   calib-probe model=<ckpt> [mode=full|response|reference|reference-conf|phraseonly|digits|full-lm] [steps=60] [lr=3e-4] [batch=32]
//               [train=200] [pool=0] [test=90] [levels=1,2,3] [seed=1] [freeze=wte.,wpe.] [threads=1] [maxnew=180]
using System.Globalization;
using System.Text.Json;
using BonStudio.Training.Calibration;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Tasks;

namespace BonStudio.Bench;

public sealed class CalibrationProbeVerb : IBenchmark
{
    public string Name => "calib-probe";
    public string Description => "diagnose calibration-SFT: calib-probe model=<ckpt> [mode=full|response|reference|reference-conf|phraseonly|digits|full-lm] [steps= lr= batch= train= test= levels= seed= threads= maxnew=]";

    public Task RunAsync(string[] args)
    {
        var a = CalibrationArgs.Parse(args);
        string mode = a.Get("mode", "full");
        int steps = a.Int("steps", 60), batch = a.Int("batch", 32), nTrain = a.Int("train", 200), nTest = a.Int("test", 90);
        int maxNew = a.Int("maxnew", 180), seed = a.Int("seed", 1);
        double lr = a.Double("lr", 3e-4);
        int[] levels = a.Get("levels", "1,2,3").Split(',').Select(int.Parse).ToArray();
        TorchRuntime.SetThreads(a.Int("threads", 1));
        TorchRuntime.Seed(seed);
        var device = TorchRuntime.ResolveDevice("auto");
        var (model, meta) = Checkpoint.LoadCausalLM(a.Get("model", ""), device);
        using var module = (TorchSharp.torch.nn.Module)model;
        var tokenizer = BonStudio.Training.Text.TokenizerRegistry.Resolve(meta.Tokenizer);
        var ladder = PhraseLadderView.Parse([.. PhraseLadderView.DefaultEntries], "Ladder");
        var train = MiniMath.Generate("train", nTrain, levels, seed);
        var test = MiniMath.Generate("test", nTest, levels, seed);
        int baseMax = Math.Max(8, maxNew - LinguisticFormat.Marker.Length - ladder.Entries.Max(e => e.Phrase.Length));

        var answers = ConfidenceSources.AnswerGreedy(model, tokenizer, train, baseMax);
        Console.WriteLine($"base train accuracy {answers.Average(x => x.Correct ? 1.0 : 0.0):F3}; responses with '\\n': {answers.Count(x => x.Response.Contains('\n'))}, " +
                          $"without '####': {answers.Count(x => !x.Response.Contains("####"))}, max length {answers.Max(x => x.Response.Length)}");
        foreach (var x in answers.Take(4)) Console.WriteLine($"  L{x.Problem.Level} correct={x.Correct} response={JsonSerializer.Serialize(x.Response)}");

        var rng = new Random(seed);
        var pairs = answers.Select(x =>
        {
            string phrase = ladder.Top.Phrase;
            return mode switch
            {
                "full" => new TrainingPair(MiniMath.Prompt(x.Problem), LinguisticFormat.Completion(x.Response, phrase)),
                // Control: a confidence suffix made only of tokens the base already emits (digits, '#', space), no '\n' or letters.
                "digits" => new TrainingPair(MiniMath.Prompt(x.Problem), x.Response.TrimEnd() + DigitMarker + "95"),
                // The whole sequence is a target (question text too): the letters and '\n' become trained outputs everywhere.
                "full-lm" => new TrainingPair("", MiniMath.Prompt(x.Problem) + LinguisticFormat.Completion(x.Response, phrase)),
                "response" => new TrainingPair(MiniMath.Prompt(x.Problem), x.Response),
                "reference" => new TrainingPair(MiniMath.Prompt(x.Problem), MiniMath.Completion(x.Problem)),
                "reference-conf" => new TrainingPair(MiniMath.Prompt(x.Problem), LinguisticFormat.Completion(MiniMath.Completion(x.Problem), phrase)),
                "phraseonly" => new TrainingPair(MiniMath.Prompt(x.Problem) + x.Response.TrimEnd(), LinguisticFormat.Completion("", phrase)),
                _ => throw new ArgumentException($"mode '{mode}' unknown"),
            };
        }).ToList();
        int pool = a.Int("pool", 0); // reference modes only: train on this many fresh problems instead of the answered ones
        if (pool > 0 && mode.StartsWith("reference"))
            pairs = MiniMath.Generate("train", pool, levels, seed + 1000).Select(p => new TrainingPair(MiniMath.Prompt(p),
                mode == "reference" ? MiniMath.Completion(p) : LinguisticFormat.Completion(MiniMath.Completion(p), ladder.Top.Phrase))).ToList();
        foreach (var p in pairs.Take(2))
        {
            var ids = tokenizer.Encode(p.Prompt).Concat(tokenizer.Encode(p.Completion)).ToArray();
            Console.WriteLine($"  pair: prompt={JsonSerializer.Serialize(p.Prompt)} completion={JsonSerializer.Serialize(p.Completion)} " +
                              $"ids(after BOS)=[{string.Join(",", ids)}] targets from index {1 + tokenizer.Encode(p.Prompt).Length}");
        }

        Report("before", model, tokenizer, test, maxNew, ladder);
        var reporter = new ConsoleReporter();
        LikelihoodTrainer.Train(model, tokenizer, pairs, new LikelihoodTrainingOptions
        {
            Steps = steps, BatchSize = batch, LearningRate = lr, MinLearningRate = lr / 10, WarmupSteps = Math.Min(20, steps), Seed = seed, LogEvery = 10,
            FrozenParameterPrefixes = a.Get("freeze", "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        }, reporter, "sft");
        Console.WriteLine("loss: " + string.Join(" ", reporter.Metrics.Where(m => m.Name == "sft/loss").Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Step}:{m.Value:F3}"))));
        Report("after", model, tokenizer, test, maxNew, ladder);
        return Task.CompletedTask;
    }

    private const string DigitMarker = " ### ";

    private static void Report(string label, ICausalLM model, BonStudio.Training.Text.ITokenizer tokenizer, IReadOnlyList<MathProblem> test, int maxNew, PhraseLadderView ladder)
    {
        var answered = ConfidenceSources.AnswerGreedy(model, tokenizer, test, maxNew);
        // Answers graded without a trailing digit-marker suffix (mode=digits), exactly as before otherwise.
        answered = answered.Select(x =>
        {
            int at = x.Response.LastIndexOf(DigitMarker, StringComparison.Ordinal);
            return at < 0 ? x : x with { Correct = MiniMath.IsCorrect(x.Response[..at], x.Problem.Answer) };
        }).ToList();
        int digitSuffix = answered.Count(x => x.Response.Contains(DigitMarker, StringComparison.Ordinal));
        var byLevel = answered.GroupBy(x => x.Problem.Level).OrderBy(g => g.Key).Select(g => $"L{g.Key}={g.Average(x => x.Correct ? 1.0 : 0.0):F2}");
        int parsed = answered.Count(x => LinguisticFormat.Parse(x.Response, ladder).Parsed);
        Console.WriteLine($"RESULT {label}: accuracy {answered.Average(x => x.Correct ? 1.0 : 0.0):F3} ({string.Join(" ", byLevel)}), parseable {parsed}/{answered.Count}, digit suffix {digitSuffix}/{answered.Count}");
        foreach (var x in answered.Where(x => x.Problem.Level == 1).Take(3)) Console.WriteLine($"  L1 {JsonSerializer.Serialize(x.Response)}");
    }
}
