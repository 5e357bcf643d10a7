// Ladder-constrained phrase decoding: each phrase's score is the log-prob of answer + "\nConf: " + phrase + EOS computed
// by hand from the logits (phrases of different token lengths), the choice is the phrase a model was trained to say,
// the model's own confidence line is ignored, over-long answers fall back to their short form, and batching does not
// change anything.
using BonStudio.Training.Calibration;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.Calibration;

[Collection("Torch")]
public sealed class LadderDecodingTests
{
    private static readonly CharTokenizer Tok = CharTokenizer.Instance;
    // Token lengths 14, 4 and 2 (character tokenizer): a sum of log-probs favours short phrases unless trained otherwise.
    private static readonly PhraseLadderView Ladder = PhraseLadderView.Parse(["almost certain=0.95", "even=0.5", "no=0.1"]);

    private static Gpt TinyModel(long seed, int contextLength = 256)
    {
        torch.manual_seed(seed);
        var model = new Gpt(new GptConfig { VocabSize = Tok.VocabSize, ContextLength = contextLength, Layers = 1, Heads = 2, EmbeddingDim = 32 });
        model.eval();
        return model;
    }

    private static List<(MathProblem Problem, string Response)> Answers(int n) =>
        MiniMath.Generate("test", n, [1, 2], seed: 5).Select((p, i) => (p, $"{i}+1={i + 1} #### {i + 1}")).ToList();

    private static double HandLogProb(Gpt model, MathProblem problem, string response, string phrase)
    {
        int[] prompt = [CharTokenizer.BosTokenId, .. Tok.Encode(MiniMath.Prompt(problem))];
        int[] completion = [.. Tok.Encode(response + LinguisticFormat.Marker + phrase), CharTokenizer.EosTokenId];
        long[] all = [.. prompt.Select(t => (long)t), .. completion.Select(t => (long)t)];
        using var noGrad = no_grad();
        using var logits = model.forward(tensor(all[..^1], [1, all.Length - 1]));
        using var logp = logits[0].log_softmax(-1);
        double sum = 0;
        for (int t = 0; t < completion.Length; t++) sum += logp[prompt.Length - 1 + t, completion[t]].item<float>();
        return sum;
    }

    [Fact]
    public void Scores_are_the_hand_computed_log_probs_of_each_phrase_plus_eos_and_the_choice_is_their_argmax()
    {
        TorchRuntime.SetThreads(1);
        using var model = TinyModel(11);
        var answers = Answers(5);

        var choices = LadderDecoding.Choose(model, Tok, answers, Ladder);

        Assert.Equal(5, choices.Count);
        for (int i = 0; i < answers.Count; i++)
        {
            Assert.Equal(3, choices[i].LogProbs.Length);
            for (int j = 0; j < 3; j++)
                Assert.Equal(HandLogProb(model, answers[i].Problem, answers[i].Response, Ladder.Entries[j].Phrase), choices[i].LogProbs[j], 3);
            int best = Array.IndexOf(choices[i].LogProbs, choices[i].LogProbs.Max());
            Assert.Equal(Ladder.Entries[best].Phrase, choices[i].Phrase);
            Assert.Equal(Ladder.Entries[best].Probability, choices[i].Probability);
            Assert.False(choices[i].Shortened);
        }
    }

    [Theory]
    [InlineData("almost certain")] // the longest phrase: must win although it has 7× the tokens of "no"
    [InlineData("even")]
    [InlineData("no")]
    public void A_model_trained_to_say_one_phrase_gets_that_phrase_for_every_answer(string trained)
    {
        TorchRuntime.SetThreads(1);
        using var model = TinyModel(3);
        var answers = Answers(8);
        var pairs = answers.Select(a => new TrainingPair(MiniMath.Prompt(a.Problem), LinguisticFormat.Completion(a.Response, trained))).ToList();
        ((nn.Module)model).train();
        LikelihoodTrainer.Train(model, Tok, pairs, new LikelihoodTrainingOptions { Steps = 60, BatchSize = 8, LearningRate = 1e-2, WarmupSteps = 0, Seed = 1 },
            new ConsoleReporter(output: TextWriter.Null));
        model.eval();

        // Fresh answers to other questions: the phrase, not the memorised answer text, is what was learnt.
        var fresh = MiniMath.Generate("validation", 6, [1, 2], seed: 9).Select(p => (p, "3+4=7 #### 7")).ToList();
        var choices = LadderDecoding.Choose(model, Tok, fresh, Ladder);

        Assert.All(choices, c => Assert.Equal(trained, c.Phrase));
        Assert.All(choices, c => Assert.Equal(Ladder.Find(trained)!.Value.Probability, c.Probability));
    }

    [Fact]
    public void The_models_own_confidence_line_is_ignored_and_batching_changes_nothing()
    {
        TorchRuntime.SetThreads(1);
        using var model = TinyModel(17);
        var answers = Answers(7);
        var withLine = answers.Select((a, i) => (a.Problem, a.Response + "\nConf: highly unly" + (i % 2 == 0 ? "\nmore" : ""))).ToList();

        var plain = LadderDecoding.Choose(model, Tok, answers, Ladder);
        var stripped = LadderDecoding.Choose(model, Tok, withLine, Ladder);
        var oneRowAtATime = LadderDecoding.Choose(model, Tok, answers, Ladder, rowsPerBatch: 1);
        var again = LadderDecoding.Choose(model, Tok, answers, Ladder, rowsPerBatch: 5);

        for (int i = 0; i < answers.Count; i++)
        {
            Assert.Equal(plain[i].LogProbs, stripped[i].LogProbs);
            Assert.Equal(plain[i].Phrase, oneRowAtATime[i].Phrase);
            for (int j = 0; j < 3; j++) Assert.Equal(plain[i].LogProbs[j], oneRowAtATime[i].LogProbs[j], 4);
            Assert.Equal(plain[i].LogProbs, again[i].LogProbs);
        }
    }

    [Fact]
    public void An_answer_too_long_for_the_context_is_scored_in_its_short_form_and_an_impossible_one_is_refused()
    {
        TorchRuntime.SetThreads(1);
        var problem = MiniMath.Generate("test", 1, [1], seed: 2)[0];
        int context = MiniMath.Prompt(problem).Length + 50;
        using var model = TinyModel(19, context);
        int room = context - 1 - MiniMath.Prompt(problem).Length - LinguisticFormat.Marker.Length - "almost certain".Length; // BOS, EOS only a target
        var fits = new string('1', room) + " #### 5";
        var tooLong = new string('1', room + 10) + " #### 5";

        var choices = LadderDecoding.Choose(model, Tok, [(problem, fits[^room..]), (problem, tooLong)], Ladder);

        Assert.False(choices[0].Shortened);
        Assert.True(choices[1].Shortened);
        var shortForm = LadderDecoding.Choose(model, Tok, [(problem, "#### 5")], Ladder)[0];
        for (int j = 0; j < 3; j++) Assert.Equal(shortForm.LogProbs[j], choices[1].LogProbs[j], 3); // other rows in the batch: float noise only
        var hugeQuestion = problem with { Question = new string('x', context) };
        Assert.Throws<ArgumentException>(() => LadderDecoding.Choose(model, Tok, [(hugeQuestion, "#### 5")], Ladder));
    }
}
