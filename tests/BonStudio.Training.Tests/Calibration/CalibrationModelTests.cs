// Calibration on tiny GPTs: every source gives one value in [0, 1] per question, P(True) equals the hand formula
// from the logits, consistency equals the share recomputed from the same samples, and calibration-SFT end to end
// teaches a tiny model to emit parseable ladder phrases.
using BonStudio.Training.Calibration;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.Calibration;

[Collection("Torch")]
public sealed class CalibrationModelTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"calib-tests-{Guid.NewGuid():N}");
    private static readonly CharTokenizer Tok = CharTokenizer.Instance;

    public CalibrationModelTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    private static Gpt TinyModel(long seed, int layers = 1, int dim = 32)
    {
        torch.manual_seed(seed);
        var model = new Gpt(new GptConfig { VocabSize = Tok.VocabSize, ContextLength = 256, Layers = layers, Heads = 2, EmbeddingDim = dim });
        model.eval();
        return model;
    }

    private string SaveTiny(Gpt model, string name)
    {
        var path = Path.Combine(_dir, name);
        Checkpoint.Save(path, model, new CheckpointMetadata(Gpt.Architecture, model.Config.ToJson(), Tok.Name, 0));
        return path;
    }

    [Fact]
    public void Every_source_returns_one_confidence_in_the_unit_interval_per_question()
    {
        using var model = TinyModel(3);
        var path = SaveTiny(model, "tiny.safetensors");
        var sink = new MemoryCalibrationSink();
        var reporter = new ConsoleReporter(output: TextWriter.Null);
        var config = new CalibrationEvalConfig
        {
            Problems = 6, Levels = [1, 2], ConsistencySamples = 3, MaxNewTokens = 12,
            TeachProblems = 4, TeachSamplesPerProblem = 1, TeachSteps = 2, TeachBatchSize = 4, Device = "cpu", Threads = 1,
        };

        var result = CalibrationEval.Execute(config, path, Path.Combine(_dir, "run"), reporter, sink);

        Assert.Equal(6, result.Problems);
        foreach (var source in ConfidenceSources.Measurable)
        {
            var records = sink.OfSource(source);
            Assert.Equal(6, records.Count);
            Assert.All(records, r => Assert.InRange(r.Confidence, 0.0, 1.0));
            Assert.Equal(6, records.Select(r => r.QuestionKey).Distinct().Count());
            Assert.Contains(reporter.Metrics, m => m.Name == $"calibration/{source}/ece");
            Assert.Contains(reporter.Metrics, m => m.Name == $"calibration/{source}/brier");
        }
        Assert.Contains(reporter.Metrics, m => m.Name == "accuracy");
        Assert.True(File.Exists(result.JudgeCheckpointPath));
        Assert.Contains(reporter.Checkpoints, c => c.Path == result.JudgeCheckpointPath);
    }

    [Fact]
    public void PTrue_equals_p_yes_over_p_yes_plus_p_no_from_the_logits_in_any_batch()
    {
        using var model = TinyModel(5);
        var problems = MiniMath.Generate("test", 3, [1, 3, 5], seed: 1);
        var items = problems.Select((p, i) => (p, i == 0 ? MiniMath.Completion(p) : "#### " + (i * 7))).ToList();

        var batched = SelfEvaluation.PTrue(model, Tok, items);

        using var noGrad = no_grad();
        for (int i = 0; i < items.Count; i++)
        {
            var prompt = Sampler.EncodePrompt(Tok, SelfEvaluation.Prompt(items[i].p, items[i].Item2, model.ContextLength));
            Assert.EndsWith("\nCorrect? ", Tok.Decode(prompt));
            using var logits = model.forward(tensor(prompt.Select(x => (long)x).ToArray(), [1, prompt.Length]));
            var last = logits[0, prompt.Length - 1].softmax(-1).data<float>().ToArray();
            double pYes = last[Tok.Encode("y")[0]], pNo = last[Tok.Encode("n")[0]];
            Assert.Equal(pYes / (pYes + pNo), batched[i], 5);
            // One at a time gives the same value: right padding in the batch is never attended to.
            Assert.Equal(batched[i], SelfEvaluation.PTrue(model, Tok, [items[i]])[0], 5);
        }
    }

    [Fact]
    public void Consistency_scores_are_the_share_of_the_same_samples_agreeing_with_greedy()
    {
        using var model = TinyModel(7);
        var problems = MiniMath.Generate("test", 4, [1], seed: 2);
        // Construct the case: greedy "answers" chosen so that some samples agree (a tiny random model rarely writes ####).
        var answered = problems.Select((p, i) => new AnsweredProblem(p, "", i % 2 == 0 ? null : "5", false, [])).ToList();
        const int n = 5; const long seed = 11;
        var scores = ConfidenceSources.ConsistencyScores(model, Tok, answered, n, 1.0, seed, maxNewTokens: 8, rowsPerBatch: 1000);

        // Recompute the same samples by hand (one batch: all prompts replicated n times, same seed) and count matches.
        var prompts = problems.SelectMany(p => Enumerable.Repeat(Sampler.EncodePrompt(Tok, MiniMath.Prompt(p)), n)).ToList();
        var samples = new Sampler(model, Tok).Sample(prompts, new SamplingOptions { Temperature = 1.0, MaxNewTokens = 8, Seed = seed * 1_000_003 });
        for (int i = 0; i < problems.Count; i++)
        {
            var answers = samples.Skip(i * n).Take(n).Select(s => MiniMath.ExtractAnswer(s.Text!)).ToList();
            double expected = answered[i].Answer is null ? 0 : answers.Count(a => a == answered[i].Answer) / (double)n;
            Assert.Equal(expected, scores[i], 12);
        }
        Assert.All(scores, s => Assert.InRange(s, 0.0, 1.0));
    }

    [Fact]
    public void Likelihood_of_a_greedy_answer_is_exp_mean_of_its_token_log_probs()
    {
        using var model = TinyModel(9);
        var problems = MiniMath.Generate("test", 2, [2], seed: 3);
        var answered = ConfidenceSources.AnswerGreedy(model, Tok, problems, maxNewTokens: 10);
        Assert.Equal(2, answered.Count);
        foreach (var a in answered)
        {
            Assert.Equal(a.Response.Length, a.TokenLogProbs.Length);
            double c = ConfidenceSources.LikelihoodOf(a.TokenLogProbs);
            Assert.InRange(c, 0.0, 1.0);
            Assert.Equal(Math.Exp(a.TokenLogProbs.Average(x => (double)x)), c, 9);
        }
    }

    [Fact]
    public void Weighted_loss_scales_with_the_weights_and_ignores_prompt_tokens()
    {
        using var model = TinyModel(13);
        var pair = new TrainingPair("What? ", "yes");
        var one = LikelihoodTrainer.Encode([pair], Tok, 256);
        var two = LikelihoodTrainer.Encode([pair with { Weight = 2 }], Tok, 256);
        var otherPrompt = LikelihoodTrainer.Encode([pair with { Prompt = "Where? " }], Tok, 256);
        using var noGrad = no_grad();
        float l1 = LikelihoodTrainer.WeightedLoss(model, one).item<float>();
        float l2 = LikelihoodTrainer.WeightedLoss(model, two).item<float>();
        Assert.Equal(2 * l1, l2, 4);
        // Loss = mean NLL of "yes" + EOS given the prompt, computed by hand.
        var tokens = one[0].Tokens;
        using var logits = model.forward(tensor(tokens[..^1], [1, tokens.Length - 1]));
        var logp = logits[0].log_softmax(-1);
        double nll = 0;
        for (int j = one[0].PromptLength - 1; j < tokens.Length - 1; j++) nll -= logp[j, tokens[j + 1]].item<float>();
        Assert.Equal(nll / 4, l1, 4);
        Assert.NotEqual(l1, LikelihoodTrainer.WeightedLoss(model, otherPrompt).item<float>()); // the prompt conditions the loss
        Assert.Throws<ArgumentException>(() => LikelihoodTrainer.Encode([pair], Tok, 5));
    }

    [Fact]
    public void Frozen_parameter_prefixes_are_left_untouched_while_the_rest_trains()
    {
        using var model = TinyModel(21);
        var before = ((nn.Module)model).named_parameters().ToDictionary(np => np.name, np => np.parameter.detach().clone());
        var pairs = new List<TrainingPair> { new("What? ", "yes"), new("Who? ", "no") };
        LikelihoodTrainer.Train(model, Tok, pairs, new LikelihoodTrainingOptions
        {
            Steps = 3, BatchSize = 2, LearningRate = 1e-2, WarmupSteps = 0, FrozenParameterPrefixes = ["wte.", "h.0.attn."],
        }, new ConsoleReporter(output: TextWriter.Null));
        foreach (var (name, p) in ((nn.Module)model).named_parameters())
        {
            bool frozen = name.StartsWith("wte.", StringComparison.Ordinal) || name.StartsWith("h.0.attn.", StringComparison.Ordinal);
            bool same = p.detach().eq(before[name]).all().item<bool>();
            Assert.True(frozen == same, $"{name}: frozen {frozen} but unchanged {same}");
        }
        Assert.Throws<ArgumentException>(() => LikelihoodTrainer.Train(model, Tok, pairs,
            new LikelihoodTrainingOptions { Steps = 1, FrozenParameterPrefixes = [""] }, new ConsoleReporter(output: TextWriter.Null)));
    }

    [Fact]
    public void Calibration_sft_end_to_end_teaches_a_tiny_model_to_emit_parseable_phrases()
    {
        // A small MiniMath GPT trained by calib-base (Fixtures/calibration-base/README.md): it already writes answers in
        // MiniMath's format, so a short fine-tuning only has to add the confidence line, as with a real base model.
        TorchRuntime.SetThreads(1); // the same float rounding whatever ran before
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "calibration-base", "minimath-gpt-2x64.safetensors");
        var sink = new MemoryCalibrationSink();
        var reporter = new ConsoleReporter(output: Environment.GetEnvironmentVariable("CALIB_TEST_LOG") is null ? TextWriter.Null : Console.Out);
        var config = new CalibrationSftConfig
        {
            Source = ConfidenceSources.Likelihood, Levels = [1], TrainProblems = 16, TestProblems = 8, MaxNewTokens = 60,
            Steps = 100, BatchSize = 16, LearningRate = 3e-3, Device = "cpu", Threads = 1, Seed = 2,
            Ladder = ["sure=0.9", "even=0.5", "no=0.1"], // an edited ladder
        };

        var result = CalibrationSft.Execute(config, path, Path.Combine(_dir, "sft"), reporter, sink);

        Assert.True(File.Exists(result.CheckpointPath));
        Assert.Equal(8, result.TestProblems);
        Assert.True(result.Unparseable <= 2, $"{result.Unparseable} of 8 outputs had no parseable phrase");
        Assert.Equal(8, result.PhraseCounts.Values.Sum() + result.Unparseable);
        var phrases = sink.OfSource(ConfidenceSources.Phrase);
        Assert.Equal(8 - result.Unparseable, phrases.Count);
        var ladder = PhraseLadderView.Parse(config.Ladder);
        Assert.All(phrases, r => Assert.Equal(ladder.Find(r.Phrase!)!.Value.Probability, r.Confidence));
        Assert.Equal(phrases.Count, result.PhraseCounts.Values.Sum());
        Assert.Equal(8, sink.OfSource(ConfidenceSources.AlwaysConfident).Count);
        Assert.All(sink.OfSource(ConfidenceSources.AlwaysConfident), r => Assert.Equal(0.9, r.Confidence));
        Assert.Equal(8, sink.OfSource("likelihood-ladder").Count);
        Assert.Contains(reporter.Metrics, m => m.Name == "calibration/unparseable" && m.Value == result.Unparseable);
        Assert.Contains(reporter.Metrics, m => m.Name.StartsWith("phrases/", StringComparison.Ordinal));
        // The constrained choice covers every answer, with a ladder probability, and agrees with the free phrase where that parsed.
        var chosen = sink.OfSource(ConfidenceSources.PhraseLadder);
        Assert.Equal(sink.OfSource(ConfidenceSources.AlwaysConfident).Select(r => r.QuestionKey), chosen.Select(r => r.QuestionKey));
        Assert.All(chosen, r => Assert.Equal(ladder.Find(r.Phrase!)!.Value.Probability, r.Confidence));
        Assert.Equal(8, result.LadderPhraseCounts.Values.Sum());
        Assert.Contains(reporter.Metrics, m => m.Name == "calibration/ladder_agrees_with_free" && m.Value >= 0.5);
        Assert.Contains(reporter.Metrics, m => m.Name.StartsWith("phrases_ladder/", StringComparison.Ordinal));
        var testIds = MiniMath.Generate("test", 8, [1], 2).Select(p => p.Id).ToHashSet();
        Assert.All(sink.OfSource(ConfidenceSources.AlwaysConfident), r => Assert.Contains(r.QuestionKey, testIds));
    }

    [Fact]
    public void Calibration_sft_on_the_validation_split_with_a_given_judge_scores_validation_questions_without_teaching()
    {
        TorchRuntime.SetThreads(1);
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "calibration-base", "minimath-gpt-2x64.safetensors");
        var sink = new MemoryCalibrationSink();
        var reporter = new ConsoleReporter(output: TextWriter.Null);
        string[] ladderEntries = ["sure=0.9", "even=0.5", "no=0.1"];
        var config = new CalibrationSftConfig
        {
            Source = ConfidenceSources.PTrue, JudgeCheckpoint = path, // the base itself as judge: any model of the tokenizer can judge
            Levels = [1], TrainProblems = 16, TestProblems = 4, MaxNewTokens = 40, Ladder = ladderEntries,
            Steps = 1, BatchSize = 4, Device = "cpu", Threads = 1, Seed = 3, Split = "validation",
        };

        CalibrationSft.Execute(config, path, Path.Combine(_dir, "sft-validation"), reporter, sink);

        var validation = MiniMath.Generate("validation", 4, [1], 3);
        var scored = sink.OfSource(ConfidenceSources.AlwaysConfident).Select(r => r.QuestionKey).ToList();
        Assert.Equal(validation.Select(p => p.Id), scored);
        Assert.Empty(scored.Intersect(MiniMath.Generate("test", 4, [1], 3).Select(p => p.Id)));
        // No judge was taught: P(True) of the base's answers comes from the given checkpoint as it is.
        Assert.DoesNotContain(reporter.Metrics, m => m.Name.StartsWith("ptrue_teach/", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(_dir, "sft-validation", CalibrationEval.JudgeFileName)));
        var (judge, _) = Checkpoint.LoadCausalLM(path, torch.CPU);
        using var judgeModule = (torch.nn.Module)judge;
        int baseMaxTokens = 40 - LinguisticFormat.Marker.Length - "sure".Length;
        var answers = ConfidenceSources.AnswerGreedy(judge, Tok, validation, baseMaxTokens);
        var expected = SelfEvaluation.PTrue(judge, Tok, answers.Select(a => (a.Problem, a.Response)).ToList());
        var recorded = sink.OfSource(ConfidenceSources.PTrue).Select(r => r.Confidence).ToList();
        Assert.Equal(4, recorded.Count);
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], recorded[i], 9);
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() =>
            (config with { JudgeCheckpoint = Path.Combine(_dir, "missing.safetensors") }).EnsureValid());
    }
}
