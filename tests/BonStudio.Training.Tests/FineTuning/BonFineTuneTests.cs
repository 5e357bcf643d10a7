using System.ComponentModel.DataAnnotations;
using BonStudio.Training.FineTuning;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.FineTuning;

[Collection("Torch")]
public sealed class BonFineTuneTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"bonft-tests-{Guid.NewGuid():N}");
    private static readonly CharTokenizer Tok = CharTokenizer.Instance;

    public BonFineTuneTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    private static Gpt TinyGpt(long seed = 3)
    {
        torch.manual_seed(seed);
        return new Gpt(new GptConfig { VocabSize = Tok.VocabSize, ContextLength = 192, Layers = 1, Heads = 2, EmbeddingDim = 16 });
    }

    private string SaveTinyBase()
    {
        var path = Path.Combine(_dir, "base.safetensors");
        using var model = TinyGpt();
        Checkpoint.Save(path, model, new CheckpointMetadata(Gpt.Architecture, model.Config.ToJson(), Tok.Name, 0));
        return path;
    }

    private static int[] Prompt(string text) => [CharTokenizer.BosTokenId, .. Tok.Encode(text)];

    private static double[] LogProbs(Gpt model, IReadOnlyList<PromptCompletion> seqs)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var batch = SequenceLikelihood.Collate(seqs, model.Device);
        return SequenceLikelihood.CompletionLogProbs(model, batch, out _).data<float>().Select(x => (double)x).ToArray();
    }

    // A toy prompt with two distinct responses: one correct (index 0), three copies of one wrong answer.
    private const string ToyPrompt = "Ann has 2 pens. She finds 3. How many pens does she have now?\nA: ";
    private static readonly string[] ToyResponses = ["2+3=5 #### 5", "2+3=9 #### 9", "2+3=9 #### 9", "2+3=9 #### 9"];
    private static readonly bool[] ToyCorrect = [true, false, false, false];
    private static readonly double[] ToyScores = [0.9, 0.1, 0.1, 0.1]; // a verifier that likes the correct response
    private const string ToyDemo = "2+3=5 #### 5";

    [Theory]
    [InlineData(BonMethod.Sft)]
    [InlineData(BonMethod.Rl)]
    [InlineData(BonMethod.BonSft)]
    [InlineData(BonMethod.BonRlV)]
    [InlineData(BonMethod.BonRlS)]
    [InlineData(BonMethod.BonRlb)]
    [InlineData(BonMethod.BonRlbP)]
    public void One_weighted_step_moves_each_response_in_the_direction_of_its_weight(BonMethod method)
    {
        // Arrange: weights from the method; bon-sft's demonstration scores 0.5, between the wrong and the correct sample.
        var (demoWeight, a) = BonFineTune.WeightsForPrompt(method, ToyCorrect, ToyScores, demoScore: 0.5, nPrime: 2, weightClip: 0);
        var eos = CharTokenizer.EosTokenId;
        var seqs = new List<PromptCompletion>();
        var weights = new List<double>();
        var isSample = new List<bool>();
        if (demoWeight != 0) { seqs.Add(new(Prompt(ToyPrompt), [.. Tok.Encode(ToyDemo), eos])); weights.Add(demoWeight); isSample.Add(false); }
        for (int i = 0; i < ToyResponses.Length; i++) { seqs.Add(new(Prompt(ToyPrompt), [.. Tok.Encode(ToyResponses[i]), eos])); weights.Add(a[i]); isSample.Add(true); }
        Assert.Contains(weights, w => w != 0);

        using var policy = TinyGpt();
        using var reference = TinyGpt();
        var config = new BonFineTuneConfig { LearningRate = 1e-3 };
        using var optimizer = BonFineTune.MakeOptimizer(policy, config);
        var before = LogProbs(policy, seqs);

        // Act
        var (loss, kl, _) = BonFineTune.WeightedStep(policy, reference, optimizer, seqs, weights, isSample, promptCount: 1, klCoefficient: 0, gradClip: 0);
        var after = LogProbs(policy, seqs);

        // Assert: identical start ⇒ zero KL; every response with a positive total weight gains probability, negative loses.
        Assert.Equal(0, kl, 5);
        Assert.True(double.IsFinite(loss));
        var totals = seqs.Select((s, i) => (Key: Tok.Decode(s.Completion), W: weights[i], Change: after[i] - before[i]))
            .GroupBy(x => x.Key).Select(g => (g.Key, W: g.Sum(x => x.W), Change: g.First().Change)).ToList();
        foreach (var (key, w, change) in totals.Where(t => Math.Abs(t.W) > 1e-9))
            Assert.True(Math.Sign(change) == Math.Sign(w), $"{method}: '{key}' has total weight {w:G4} but its log-prob changed by {change:G4}");
        // The weighted objective Σ a_j log π(y_j) rises.
        Assert.True(weights.Select((w, i) => w * (after[i] - before[i])).Sum() > 0);
    }

    [Fact]
    public void Method_weights_have_the_signs_methods_md_describes()
    {
        var rlb = BonFineTune.WeightsForPrompt(BonMethod.BonRlb, ToyCorrect, ToyScores, null, 2, 0);
        Assert.True(rlb.Samples[0] > 0 && rlb.Samples.Skip(1).All(x => x < 0));
        var rlbp = BonFineTune.WeightsForPrompt(BonMethod.BonRlbP, ToyCorrect, ToyScores, null, 2, 0);
        Assert.True(rlbp.Samples[0] > 0 && rlbp.Samples.Skip(1).All(x => x == 0));
        // bon-sft: the correct sample beats the demonstration (0.9 > 0.5) and is pushed down; the ones it beats go up.
        var bonSft = BonFineTune.WeightsForPrompt(BonMethod.BonSft, ToyCorrect, ToyScores, 0.5, 2, 0);
        Assert.Equal(1, bonSft.Demonstration);
        Assert.True(bonSft.Samples[0] < 0 && bonSft.Samples.Skip(1).All(x => x > 0));
        var sft = BonFineTune.WeightsForPrompt(BonMethod.Sft, ToyCorrect, ToyScores, null, 1, 0);
        Assert.Equal(1, sft.Demonstration);
        Assert.All(sft.Samples, x => Assert.Equal(0, x));
        var clipped = BonFineTune.WeightsForPrompt(BonMethod.BonRlb, ToyCorrect, ToyScores, null, 2, weightClip: 0.05);
        Assert.All(clipped.Samples, x => Assert.InRange(x, -0.05, 0.05));
    }

    [Fact]
    public void Kl_penalty_is_zero_at_the_start_model_and_positive_after_a_step()
    {
        using var policy = TinyGpt();
        using var reference = TinyGpt();
        using var optimizer = BonFineTune.MakeOptimizer(policy, new BonFineTuneConfig { LearningRate = 1e-2 });
        var seqs = new List<PromptCompletion> { new(Prompt(ToyPrompt), [.. Tok.Encode(ToyDemo), CharTokenizer.EosTokenId]) };
        var first = BonFineTune.WeightedStep(policy, reference, optimizer, seqs, [1.0], [true], 1, klCoefficient: 0.1, gradClip: 1);
        var second = BonFineTune.WeightedStep(policy, reference, optimizer, seqs, [1.0], [true], 1, klCoefficient: 0.1, gradClip: 1);
        Assert.Equal(0, first.Kl, 5);
        Assert.True(second.Kl > 1e-6, $"KL after one step is {second.Kl}");
    }

    private BonFineTuneConfig TinyConfig(string method = "bon-rlb") => new()
    {
        Method = method, NPrime = method is "sft" or "rl" ? 1 : 2, SamplesPerPrompt = 3, PromptsPerStep = 2, MaxNewTokens = 8,
        TrainProblems = 50, ValidationProblems = 2, ValidationSamples = 4, ValidationEvery = 0, CheckpointEvery = 1,
        LearningRate = 1e-3, Levels = [1], Steps = 2, Device = "cpu", Seed = 5, Verifier = "noisy-oracle", NoiseEpsilon = 0.3,
    };

    [Fact]
    public void Resume_from_a_checkpoint_reproduces_the_same_next_step()
    {
        // Arrange
        var basePath = SaveTinyBase();
        var straight = new ConsoleReporter(output: TextWriter.Null);
        var resumed = new ConsoleReporter(output: TextWriter.Null);

        // Act: two steps in one go, versus one step, stop, and re-run the same directory for two. (sft: an untrained toy
        // policy rarely samples a correct answer, so RL weights would all be 0; the demonstrations always move it.)
        var config = TinyConfig("sft");
        var a = BonFineTune.Execute(config, basePath, Path.Combine(_dir, "a"), straight);
        BonFineTune.Execute(config with { Steps = 1 }, basePath, Path.Combine(_dir, "b"), new ConsoleReporter(output: TextWriter.Null));
        var b = BonFineTune.Execute(config, basePath, Path.Combine(_dir, "b"), resumed);

        // Assert: the second step's loss and the final weights are identical.
        double LossAt2(ConsoleReporter r) => r.Metrics.Single(m => m.Name == "train/loss" && m.Step == 2).Value;
        Assert.Equal(LossAt2(straight), LossAt2(resumed));
        Assert.DoesNotContain(resumed.Metrics, m => m.Name == "train/loss" && m.Step == 1); // step 1 was not redone
        using var ma = Checkpoint.LoadGpt(a.FinalCheckpointPath, CPU).Model;
        using var mb = Checkpoint.LoadGpt(b.FinalCheckpointPath, CPU).Model;
        var pa = ma.state_dict(); var pb = mb.state_dict();
        foreach (var (name, t) in pa) Assert.True(t.allclose(pb[name], 0, 0), $"parameter {name} differs after resume");
        using var start = Checkpoint.LoadGpt(basePath, CPU).Model;
        Assert.Contains(start.state_dict(), kv => !kv.Value.allclose(pa[kv.Key], 0, 0)); // and training did change something
        Assert.Equal(2 * 2 + 1, File.ReadAllLines(Path.Combine(_dir, "b", "weights_vs_failure.csv")).Length); // header + 2 steps × 2 prompts
    }

    [Theory]
    [InlineData("sft")]
    [InlineData("rl")]
    [InlineData("bon-sft")]
    [InlineData("bon-rl-v")]
    [InlineData("bon-rl-s")]
    [InlineData("bon-rlb")]
    [InlineData("bon-rlb-p")]
    public void Every_method_runs_end_to_end_and_logs_its_metrics(string method)
    {
        var reporter = new ConsoleReporter(output: TextWriter.Null);
        var result = BonFineTune.Execute(TinyConfig(method) with { Steps = 1 }, SaveTinyBase(), Path.Combine(_dir, method), reporter);
        var names = reporter.Metrics.Select(m => m.Name).ToHashSet();
        foreach (var expected in new[] { "train/loss", "train/mean_reward", "train/kl", "weights/mean", "weights/abs_mean", "weights/positive_fraction",
                                         "diversity/distinct_answers", "diversity/answer_entropy", "val/pass_at_1", "val/pass_at_4", "val/bon_at_4" })
            Assert.Contains(expected, names);
        Assert.Contains(names, n => n.StartsWith("weights/abs_by_failure_bin_", StringComparison.Ordinal));
        Assert.True(File.Exists(result.FinalCheckpointPath));
        Assert.Single(reporter.Checkpoints, c => c.IsFinal);
    }

    [Fact]
    public void Config_validation_names_the_field()
    {
        var tooFew = new BonFineTuneConfig { Method = "bon-rlb", NPrime = 4, SamplesPerPrompt = 4 };
        var ex = Assert.Throws<ValidationException>(tooFew.EnsureValid);
        Assert.Contains("SamplesPerPrompt", ex.Message);
        Assert.Contains("NPrime + 1 = 5", ex.Message);

        var rlWithNPrime = new BonFineTuneConfig { Method = "rl", NPrime = 4, SamplesPerPrompt = 8 };
        Assert.Contains("NPrime", Assert.Throws<ValidationException>(rlWithNPrime.EnsureValid).Message);

        var unknown = new BonFineTuneConfig { Method = "ppo" };
        Assert.Contains("Method", Assert.Throws<ValidationException>(unknown.EnsureValid).Message);

        var noRm = new BonFineTuneConfig { Verifier = "reward-model", RewardModelPath = "" };
        Assert.Contains("RewardModelPath", Assert.Throws<ValidationException>(noRm.EnsureValid).Message);

        var badLevel = new BonFineTuneConfig { Levels = [1, 9] };
        Assert.Contains("Levels", Assert.Throws<ValidationException>(badLevel.EnsureValid).Message);

        new BonFineTuneConfig().EnsureValid(); // the defaults are valid
        new BonFineTuneConfig { Method = "rl", NPrime = 1, SamplesPerPrompt = 2 }.EnsureValid();
        new BonFineTuneConfig { Method = "bon-rlb", NPrime = 4, SamplesPerPrompt = 5 }.EnsureValid(); // n = N'+1 edge
    }

    [Fact]
    public void Every_config_property_is_described_and_ranged()
    {
        foreach (var p in typeof(BonFineTuneConfig).GetProperties().Where(p => p.CanWrite))
        {
            Assert.True(p.GetCustomAttributes(typeof(System.ComponentModel.DescriptionAttribute), true).Length > 0, $"{p.Name} lacks [Description]");
            if (p.PropertyType == typeof(bool)) continue;
            Assert.True(p.GetCustomAttributes(typeof(ValidationAttribute), true).Length > 0, $"{p.Name} lacks a validation attribute");
        }
    }

    [Fact]
    public void Diversity_counts_distinct_answers_and_their_entropy()
    {
        var (d, h) = BonFineTune.AnswerDiversity(["1+1=2 #### 2", "x #### 2", "1+1=3 #### 3", "no answer"]);
        Assert.Equal(3, d);
        Assert.Equal(-(0.5 * Math.Log(0.5) + 2 * 0.25 * Math.Log(0.25)), h, 12);
        Assert.Equal([1, 4, 16, 32], BonFineTune.ValidationKs(32));
        Assert.Equal([1, 4, 6], BonFineTune.ValidationKs(6));
        Assert.Equal(0, BonFineTune.FailureBin(0.0));
        Assert.Equal(4, BonFineTune.FailureBin(1.0));
        Assert.Equal(2, BonFineTune.FailureBin(0.5));
    }

    [Fact]
    public void Prompt_curves_match_the_known_pass_at_k_value_and_brute_force_bon()
    {
        // methods.md §1 test vector: n = 10, c = 3, k = 5 → 1 − C(7,5)/C(10,5) = 0.916667.
        var correct = Enumerable.Range(0, 10).Select(i => i < 3).ToArray();
        var (pass, _) = BonFineTune.PromptCurves(correct, new double[10], [5]);
        Assert.Equal(1 - 21.0 / 252.0, pass[0], 12);

        // BoN@2 by enumerating all pairs, ties broken uniformly: scores [0.2, 0.9, 0.9, 0.1], correct [T, F, T, F].
        bool[] c = [true, false, true, false];
        double[] s = [0.2, 0.9, 0.9, 0.1];
        double total = 0; int pairs = 0;
        for (int i = 0; i < 4; i++) for (int j = i + 1; j < 4; j++)
        {
            pairs++;
            total += s[i] > s[j] ? (c[i] ? 1 : 0) : s[j] > s[i] ? (c[j] ? 1 : 0) : ((c[i] ? 1 : 0) + (c[j] ? 1 : 0)) / 2.0;
        }
        var (_, bon) = BonFineTune.PromptCurves(c, s, [2]);
        Assert.Equal(total / pairs, bon[0], 12);
    }

    [Fact]
    public void A_step_without_signal_leaves_the_model_unchanged_even_with_adam_momentum()
    {
        using var policy = TinyGpt();
        using var reference = TinyGpt();
        using var optimizer = BonFineTune.MakeOptimizer(policy, new BonFineTuneConfig { LearningRate = 1e-2 });
        var seqs = new List<PromptCompletion> { new(Prompt(ToyPrompt), [.. Tok.Encode(ToyDemo), CharTokenizer.EosTokenId]) };
        BonFineTune.WeightedStep(policy, reference, optimizer, seqs, [1.0], [true], 1, 0, 1); // builds momentum
        var before = policy.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        BonFineTune.WeightedStep(policy, reference, optimizer, seqs, [0.0], [true], 1, 0, 1); // all weights 0
        foreach (var (name, t) in policy.state_dict()) Assert.True(t.allclose(before[name], 0, 0), $"{name} moved on a step without signal");
    }

    [Fact]
    public void Zero_weight_sequences_are_left_out_without_changing_the_update_and_kl_is_measured_only_when_asked()
    {
        // Arrange: the same start model twice; one step sees two zero-weight sequences around the weighted one.
        var eos = CharTokenizer.EosTokenId;
        PromptCompletion Seq(string response) => new(Prompt(ToyPrompt), [.. Tok.Encode(response), eos]);
        var weighted = Seq("2+3=5 #### 5");
        var mixed = new List<PromptCompletion> { Seq("2+3=9 #### 9"), weighted, Seq("9 #### 99999") };
        using var policyA = TinyGpt(); using var policyB = TinyGpt(); using var reference = TinyGpt();
        var config = new BonFineTuneConfig { LearningRate = 1e-2 };
        using var optA = BonFineTune.MakeOptimizer(policyA, config);
        using var optB = BonFineTune.MakeOptimizer(policyB, config);

        // Act
        var withZeros = BonFineTune.WeightedStep(policyA, reference, optA, mixed, [0.0, 0.7, 0.0], [true, true, true], 1, 0, 1, measureKl: false);
        var alone = BonFineTune.WeightedStep(policyB, reference, optB, [weighted], [0.7], [true], 1, 0, 1, measureKl: true);

        // Assert: the same loss and the same parameters afterwards; KL is NaN when not measured, 0 at the start model.
        Assert.Equal(alone.Loss, withZeros.Loss, 5);
        var b = policyB.state_dict();
        foreach (var (name, t) in policyA.state_dict()) Assert.True(t.allclose(b[name], 1e-5, 1e-6), $"{name} differs");
        Assert.True(double.IsNaN(withZeros.Kl));
        Assert.Equal(0, alone.Kl, 5);
        using var start = TinyGpt();
        Assert.Contains(start.state_dict(), kv => !kv.Value.allclose(b[kv.Key], 0, 0)); // the step did move the model
    }

    [Fact]
    public void Config_round_trips_through_json_even_when_invalid()
    {
        var config = new BonFineTuneConfig { Method = "bon-rl-s", NPrime = 8, SamplesPerPrompt = 16, Levels = [2, 3] };
        var back = System.Text.Json.JsonSerializer.Deserialize<BonFineTuneConfig>(System.Text.Json.JsonSerializer.Serialize(config))!;
        Assert.Equal(BonMethod.BonRlS, back.MethodKind);
        Assert.Equal([2, 3], back.Levels);
        Assert.Equal(config with { Levels = back.Levels }, back);
        var invalid = System.Text.Json.JsonSerializer.Serialize(new BonFineTuneConfig { Method = "ppo" }); // a form may hold this
        Assert.Contains("ppo", invalid);
    }
}
