using BonStudio.Training.Evaluation;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using BonStudio.Training.Verifiers;
using TorchSharp;

namespace BonStudio.Training.Tests.Evaluation;

[Collection("Torch")]
public class BonEvaluationTests
{
    private sealed class ListSink : ISampleSink
    {
        public List<EvaluatedPrompt> Sets { get; } = [];
        public void Write(EvaluatedPrompt prompt) => Sets.Add(prompt);
    }

    private static Gpt TinyModel()
    {
        torch.manual_seed(7);
        var model = new Gpt(new GptConfig { VocabSize = CharTokenizer.Instance.VocabSize, ContextLength = 256, Layers = 1, Heads = 2, EmbeddingDim = 16 });
        model.eval();
        return model;
    }

    private static List<EvalProblem> Problems(int count) =>
        MiniMath.Generate("test", count, [1, 3]).Select(p => new EvalProblem(
            p.Id, MiniMath.Prompt(p), p.Answer, p.Level,
            r => (MiniMath.ExtractAnswer(r), MiniMath.IsCorrect(r, p.Answer)))).ToList();

    [Fact]
    public void Every_prompt_gets_n_checked_and_scored_samples_per_temperature()
    {
        // Arrange
        var model = TinyModel();
        var sink = new ListSink();
        var options = new BonEvalOptions { N = 5, Temperatures = [0.7, 1.0], MaxNewTokens = 12, Seed = 3 };
        IVerifier[] verifiers = [new OracleVerifier(), new NoisyOracleVerifier(1.0, seed: 0)];

        // Act
        BonEvaluation.Run(model, CharTokenizer.Instance, Problems(3), options, verifiers, sink, new ConsoleReporter(output: TextWriter.Null));

        // Assert
        Assert.Equal(6, sink.Sets.Count);
        Assert.Equal([0.7, 0.7, 0.7, 1.0, 1.0, 1.0], sink.Sets.Select(s => s.Temperature));
        foreach (var set in sink.Sets)
        {
            Assert.Equal(5, set.Samples.Count);
            Assert.Equal([0, 1, 2, 3, 4], set.Samples.Select(s => s.Index));
            foreach (var s in set.Samples)
            {
                Assert.Equal(set.Problem.Check(s.Text), (s.Extracted, s.Correct));
                Assert.InRange(s.TokenCount, 1, 12);
                Assert.True(s.LogProb < 0);
                Assert.Equal(s.Correct ? 1.0 : 0.0, s.Scores["oracle"]);
                Assert.Equal(s.Correct ? 0.0 : 1.0, s.Scores["noisy-oracle(1,seed=0)"]); // ε = 1 flips every verdict
            }
        }
    }

    [Fact]
    public void A_resumed_evaluation_skips_finished_sets_and_reproduces_the_others_exactly()
    {
        // Arrange
        var model = TinyModel();
        var problems = Problems(4);
        var options = new BonEvalOptions { N = 4, MaxNewTokens = 10, Seed = 11 };
        var reporter = new ConsoleReporter(output: TextWriter.Null);
        var full = new ListSink();
        BonEvaluation.Run(model, CharTokenizer.Instance, problems, options, [new OracleVerifier()], full, reporter);

        // Act: pretend the first two prompts were stored before a crash.
        var resumed = new ListSink();
        var done = problems.Take(2).Select(p => p.Key).ToHashSet();
        BonEvaluation.Run(model, CharTokenizer.Instance, problems, options, [new OracleVerifier()], resumed, reporter,
                          alreadyDone: (key, _) => done.Contains(key));

        // Assert
        Assert.Equal(problems.Skip(2).Select(p => p.Key), resumed.Sets.Select(s => s.Problem.Key));
        Assert.Equal(full.Sets.Skip(2).SelectMany(s => s.Samples.Select(x => x.Text)), resumed.Sets.SelectMany(s => s.Samples.Select(x => x.Text)));
    }

    [Fact]
    public void Cancellation_stops_between_prompts()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => BonEvaluation.Run(TinyModel(), CharTokenizer.Instance, Problems(2),
            new BonEvalOptions { N = 2, MaxNewTokens = 4 }, [], new ListSink(), new ConsoleReporter(cts.Token, TextWriter.Null)));
    }
}

public class VerifierTests
{
    private static VerifierInput[] Inputs(string key, int n, Func<int, bool> correct) =>
        Enumerable.Range(0, n).Select(i => new VerifierInput(key, "q", i, "r", correct(i))).ToArray();

    [Fact]
    public void The_oracle_scores_the_checker_verdict()
    {
        Assert.Equal([1.0, 0.0, 1.0], new OracleVerifier().Score(Inputs("p", 3, i => i != 1)));
    }

    [Fact]
    public void The_noisy_oracle_flips_about_epsilon_of_verdicts_reproducibly()
    {
        // Arrange
        var noisy = new NoisyOracleVerifier(0.2, seed: 5);
        var inputs = Enumerable.Range(0, 200).SelectMany(p => Inputs($"prompt-{p}", 25, i => i % 2 == 0)).ToArray();

        // Act
        var scores = inputs.GroupBy(x => x.PromptKey).SelectMany(g => noisy.Score(g.ToList())).ToArray();
        var again = inputs.GroupBy(x => x.PromptKey).SelectMany(g => noisy.Score(g.ToList())).ToArray();
        var subset = noisy.Score(inputs.Skip(3).Take(1).ToList());
        double flipped = inputs.Select((x, i) => (x.Correct ? 1.0 : 0.0) != scores[i]).Average(f => f ? 1.0 : 0.0);

        // Assert: 5 000 draws, ε = 0.2 → standard error ≈ 0.0057.
        Assert.InRange(flipped, 0.18, 0.22);
        Assert.Equal(scores, again);
        Assert.Equal(scores[3], subset[0]);
        Assert.NotEqual(scores, new NoisyOracleVerifier(0.2, seed: 6).Score(inputs));
    }

    [Fact]
    public void The_noisy_oracle_refuses_a_probability_outside_zero_one()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new NoisyOracleVerifier(1.5, 0));
        Assert.Contains("[0, 1]", e.Message);
    }
}
