using System.ComponentModel.DataAnnotations;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Text;
using BonStudio.Training.Verifiers;
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.Verifiers;

[Collection("Torch")]
public sealed class RewardModelTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"rm-tests-{Guid.NewGuid():N}");

    public RewardModelTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    private string SaveTinyBase()
    {
        torch.manual_seed(11);
        using var model = new Gpt(new GptConfig { VocabSize = CharTokenizer.Instance.VocabSize, ContextLength = 64, Layers = 1, Heads = 2, EmbeddingDim = 16 });
        var path = Path.Combine(_dir, "base.safetensors");
        Checkpoint.Save(path, model, new CheckpointMetadata(Gpt.Architecture, model.Config.ToJson(), CharTokenizer.Instance.Name, 0));
        return path;
    }

    // Separable toy signal: a response is "correct" exactly when it ends in "yes" (with a varying number before it).
    private static List<RewardExample> ToyData(int prompts, int perPrompt, int seed)
    {
        var rng = new Random(seed);
        var data = new List<RewardExample>();
        for (int p = 0; p < prompts; p++)
            for (int j = 0; j < perPrompt; j++)
            {
                bool good = rng.Next(2) == 0;
                data.Add(new RewardExample($"p{p}", $"Q{p}?\nA: ", $"{rng.Next(100)} {(good ? "yes" : "no")}", good));
            }
        return data;
    }

    [Fact]
    public void Reward_model_learns_a_separable_signal_and_scores_a_batch_as_a_verifier()
    {
        // Arrange
        var config = new RewardModelConfig
        {
            BaseCheckpoint = SaveTinyBase(), Steps = 60, BatchSize = 16, LearningRate = 1e-2, EvalEvery = 0, Device = "cpu", Seed = 2, HeldOutFraction = 0.25,
        };
        var reporter = new ConsoleReporter(output: TextWriter.Null);

        // Act
        var result = RewardModelRun.Execute(config, ToyData(40, 6, seed: 1), Path.Combine(_dir, "rm"), reporter);

        // Assert: held-out prompts (never seen in training) are ranked well above chance.
        Assert.True(result.HeldOutAuroc > 0.9, $"held-out AUROC {result.HeldOutAuroc}");
        Assert.True(result.HeldOutAccuracy > 0.8, $"held-out accuracy {result.HeldOutAccuracy}");
        Assert.Contains(reporter.Metrics, m => m.Name == "verifier/auroc");
        Assert.Contains(reporter.Metrics, m => m.Name == "verifier/accuracy");
        Assert.Contains(reporter.Metrics, m => m.Name == "train/loss");
        var checkpoint = Assert.Single(reporter.Checkpoints);
        Assert.Equal(RewardModel.Architecture, checkpoint.Architecture);

        using var verifier = RewardModelVerifier.Load(result.CheckpointPath, CPU, id: "7", batchSize: 3);
        Assert.Equal("reward-model#7", verifier.Name);
        var inputs = Enumerable.Range(0, 8).Select(i => new VerifierInput("k", "Q99?\nA: ", i, $"{i} {(i % 2 == 0 ? "yes" : "no")}", Correct: false)).ToList();
        var scores = verifier.Score(inputs);
        Assert.Equal(8, scores.Length);
        Assert.All(scores, s => Assert.InRange(s, 0, 1));
        Assert.True(scores.Where((_, i) => i % 2 == 0).Min() > scores.Where((_, i) => i % 2 == 1).Max(), string.Join(", ", scores));
    }

    [Fact]
    public void Auroc_matches_pairwise_counting_with_ties()
    {
        double[] s = [0.1, 0.4, 0.4, 0.8, 0.3];
        bool[] y = [false, true, false, true, true];
        // pairs (pos, neg): (0.4,0.1)=1 (0.4,0.4)=½ (0.8,0.1)=1 (0.8,0.4)=1 (0.3,0.1)=1 (0.3,0.4)=0 (0.4,0.1)... enumerate:
        double wins = 0; int pairs = 0;
        for (int i = 0; i < s.Length; i++) for (int j = 0; j < s.Length; j++)
            if (y[i] && !y[j]) { pairs++; wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0; }
        Assert.Equal(wins / pairs, RewardModelRun.Auroc(s, y), 12);
        Assert.True(double.IsNaN(RewardModelRun.Auroc([0.1, 0.2], [true, true])));
    }

    [Fact]
    public void Config_validation_names_the_field()
    {
        var ex = Assert.Throws<ValidationException>(new RewardModelConfig { BaseCheckpoint = "" }.EnsureValid);
        Assert.Contains("BaseCheckpoint", ex.Message);
        Assert.Contains("BaseCheckpoint", Assert.Throws<ValidationException>(new RewardModelConfig { BaseCheckpoint = "/etc/passwd" }.EnsureValid).Message);
        Assert.Contains("HeldOutFraction", Assert.Throws<ValidationException>(new RewardModelConfig { BaseCheckpoint = "a.safetensors", HeldOutFraction = 0 }.EnsureValid).Message);
        Assert.Contains("Objective", Assert.Throws<ValidationException>(new RewardModelConfig { BaseCheckpoint = "a.safetensors", Objective = "hinge" }.EnsureValid).Message);
        new RewardModelConfig { BaseCheckpoint = "a.safetensors", Objective = "bce+pairwise" }.EnsureValid();
        new RewardModelConfig { BaseCheckpoint = "a.safetensors", Objective = "process" }.EnsureValid();
    }

    [Fact]
    public void Pairwise_loss_is_log2_at_a_tie_decreases_under_training_and_orders_the_pairs()
    {
        // Arrange: a toy scorer s = w·x over 2 features; pairs whose correct member has the larger first feature.
        Assert.Equal(Math.Log(2), RewardModelRun.PairwiseLoss(tensor(new[] { 0.3f, -1f }), tensor(new[] { 0.3f, -1f })).item<float>(), 5);
        var correct = tensor(new float[,] { { 1.0f, 0.2f }, { 0.8f, -0.5f }, { 0.3f, 0.9f } });   // (P, 2)
        var wrong = tensor(new float[,] { { 0.1f, 0.4f }, { -0.2f, -0.1f }, { -0.6f, 1.2f } });   // (P, 2)
        var w = zeros(2, requires_grad: true);
        double Loss() { using var _ = no_grad(); return RewardModelRun.PairwiseLoss(correct.matmul(w), wrong.matmul(w)).item<float>(); }
        double before = Loss();

        // Act: plain gradient descent on the Bradley–Terry loss.
        for (int step = 0; step < 50; step++)
        {
            var loss = RewardModelRun.PairwiseLoss(correct.matmul(w), wrong.matmul(w));
            w.grad?.zero_();
            loss.backward();
            using (no_grad()) w.sub_(w.grad! * 0.5);
        }

        // Assert
        double after = Loss();
        Assert.True(after < before - 0.2, $"loss {before} -> {after}");
        using (no_grad())
        {
            var margin = (correct.matmul(w) - wrong.matmul(w)).data<float>().ToArray();
            Assert.All(margin, m => Assert.True(m > 0, $"pair margins {string.Join(", ", margin)}"));
        }
    }

    [Fact]
    public void Within_prompt_auroc_averages_over_prompts_with_both_classes_only()
    {
        // Prompt a: the correct sample is on top (1.0). Prompt b: the correct sample is at the bottom (0.0).
        // Prompt c: only correct samples (skipped). Globally prompt a's scores are high and b's low, so the pooled AUROC
        // credits the verifier for prompt difficulty although it ranks b's samples wrongly.
        string[] keys = ["a", "a", "a", "b", "b", "c"];
        double[] scores = [0.9, 0.6, 0.7, 0.2, 0.3, 0.5];
        bool[] labels = [true, false, false, true, false, true];

        Assert.Equal(0.5, RewardModelRun.WithinPromptAuroc(keys, scores, labels), 12);
        Assert.Equal(1.0, RewardModelRun.WithinPromptAuroc(["a", "a"], [0.4, 0.4 - 1e-9], [true, false]), 12);
        Assert.Equal(0.5, RewardModelRun.WithinPromptAuroc(["a", "a"], [0.4, 0.4], [true, false]), 12);   // tie = ½
        Assert.True(double.IsNaN(RewardModelRun.WithinPromptAuroc(["a", "b"], [0.1, 0.2], [true, false])));
    }

    // Toy data whose within-prompt signal ("yes" vs "no") competes with a prompt-level one: prompts "E*" (easy) are mostly
    // correct, prompts "H*" (hard) mostly wrong, so a per-sample loss can score well by recognising the prompt.
    private static List<RewardExample> MixedDifficultyData(int prompts, int perPrompt, int seed)
    {
        var rng = new Random(seed);
        var data = new List<RewardExample>();
        for (int p = 0; p < prompts; p++)
        {
            string key = (p % 2 == 0 ? "E" : "H") + p;
            for (int j = 0; j < perPrompt; j++)
            {
                bool good = j == 0 || (j > 1 && rng.NextDouble() < (p % 2 == 0 ? 0.85 : 0.15));
                data.Add(new RewardExample(key, $"{key}?\nA: ", $"{rng.Next(100)} {(good ? "yes" : "no")}", good));
            }
        }
        return data;
    }

    [Theory]
    [InlineData("pairwise")]
    [InlineData("bce+pairwise")]
    public void Pairwise_objective_learns_to_rank_samples_within_a_prompt(string objective)
    {
        // Arrange
        var config = new RewardModelConfig
        {
            BaseCheckpoint = SaveTinyBase(), Objective = objective, Steps = 60, BatchSize = 16, LearningRate = 1e-2, EvalEvery = 0,
            Device = "cpu", Seed = 2, HeldOutFraction = 0.25,
        };
        var reporter = new ConsoleReporter(output: TextWriter.Null);

        // Act
        var result = RewardModelRun.Execute(config, MixedDifficultyData(40, 6, seed: 1), Path.Combine(_dir, "rm-" + objective.Replace('+', '-')), reporter);

        // Assert: held-out prompts' samples are ranked by "yes"/"no" inside each prompt.
        Assert.True(result.HeldOutWithinPromptAuroc > 0.9, $"held-out within-prompt AUROC {result.HeldOutWithinPromptAuroc}");
        Assert.Contains(reporter.Metrics, m => m.Name == "verifier/within_prompt_auroc");
        var losses = reporter.Metrics.Where(m => m.Name == "train/loss").Select(m => m.Value).ToList();
        Assert.True(losses[^1] < losses[0], $"train loss {string.Join(", ", losses)}");
    }

    [Fact]
    public void Backbone_starts_from_the_base_checkpoint_and_the_head_reads_the_last_token()
    {
        // Arrange: one step at a negligible learning rate, so the saved backbone is the base model's.
        var basePath = SaveTinyBase();
        var config = new RewardModelConfig
        {
            BaseCheckpoint = basePath, Objective = "pairwise", Steps = 1, BatchSize = 4, LearningRate = 1e-7, EvalEvery = 0, Device = "cpu", Seed = 2,
        };

        // Act
        var result = RewardModelRun.Execute(config, ToyData(8, 4, seed: 3), Path.Combine(_dir, "rm-init"), new ConsoleReporter(output: TextWriter.Null));

        // Assert: every backbone tensor equals the base GPT's (up to the one tiny step).
        var (baseModel, _) = Checkpoint.LoadGpt(basePath, CPU);
        var (rm, _) = Checkpoint.Load(result.CheckpointPath, CPU);
        var baseState = baseModel.state_dict();
        var rmState = rm.state_dict();
        Assert.NotEmpty(baseState);
        foreach (var (name, value) in baseState)
            Assert.True((rmState["backbone." + name] - value).abs().max().item<float>() < 1e-4, name);

        // Head position: a sample scores the same alone and right-padded next to a longer one (the head reads its EOS).
        var model = (RewardModel)rm;
        var alone = RewardModelRun.Score(model, CharTokenizer.Instance, [("Q1?\nA: ", "7 yes")]);
        var padded = RewardModelRun.Score(model, CharTokenizer.Instance, [("Q1?\nA: ", "7 yes"), ("Q1?\nA: ", "7 yes and a much longer tail")]);
        Assert.Equal(alone[0], padded[0], 5);
        baseModel.Dispose(); rm.Dispose();
    }

    [Fact]
    public void Steps_are_split_at_semicolons_before_the_answer_marker_and_labelled_against_correct_chains()
    {
        // Two closed steps: the ';' at 5 and the marker's first '#' at 13.
        var (steps, ends) = RewardModelRun.Steps("4-2=2; 2-2=0 #### 0");
        Assert.Equal(["4-2=2", "2-2=0"], steps);
        Assert.Equal([5, 13], ends);
        // Untrusted text: no marker leaves the last step open; empty steps are skipped; nothing throws.
        Assert.Equal(["4-2=2"], RewardModelRun.Steps("4-2=2;; 2-").Steps);
        Assert.Empty(RewardModelRun.Steps("#### 3").Steps);
        Assert.Empty(RewardModelRun.Steps("").Steps);

        // A step is good while the chain so far equals the start of a correct chain of the prompt.
        List<List<string>> correct = [["4-2=2", "2-1=1"]];
        Assert.Equal([true, false], RewardModelRun.StepLabels("4-2=2; 2-2=0 #### 0", correct));
        Assert.Equal([false, false], RewardModelRun.StepLabels("4-1=3; 2-1=1 #### 1", correct));
        Assert.Equal([true, true], RewardModelRun.StepLabels("4-2=2;2-1=1 #### 2", correct));

        // Token positions (char tokenizer: BOS, prompt, response): the delimiter tokens themselves.
        var tokenizer = CharTokenizer.Instance;
        var indices = RewardModelRun.StepEndIndices(tokenizer, "Q?\nA: ", "4-2=2; 2-2=0 #### 0", contextLength: 64);
        Assert.Equal([1 + 6 + 5, 1 + 6 + 13], indices);
        // Left truncation (27 tokens into 10 keeps the last 10) shifts them by 17; an end cut off is dropped.
        Assert.Equal([1 + 6 + 13 - 17], RewardModelRun.StepEndIndices(tokenizer, "Q?\nA: ", "4-2=2; 2-2=0 #### 0", contextLength: 10));
    }

    [Fact]
    public void Process_objective_learns_which_step_is_wrong_and_scores_the_worst_step()
    {
        // Arrange: every prompt's correct chain is "go; up #### 1"; wrong samples go astray at the second step
        // ("go; dn #### 1"), the same final line, so only the step tells them apart.
        var rng = new Random(4);
        var data = new List<RewardExample>();
        for (int p = 0; p < 40; p++)
            for (int j = 0; j < 6; j++)
            {
                bool good = j == 0 || (j > 1 && rng.Next(2) == 0);
                data.Add(new RewardExample($"p{p}", $"Q{p}?\nA: ", $"go; {(good ? "up" : "dn")} #### 1", good));
            }
        var config = new RewardModelConfig
        {
            BaseCheckpoint = SaveTinyBase(), Objective = "process", Steps = 60, BatchSize = 16, LearningRate = 1e-2, EvalEvery = 0,
            Device = "cpu", Seed = 2, HeldOutFraction = 0.25,
        };
        var reporter = new ConsoleReporter(output: TextWriter.Null);

        // Act
        var result = RewardModelRun.Execute(config, data, Path.Combine(_dir, "rm-process"), reporter);

        // Assert: held-out prompts are ranked by the step, and the loaded verifier scores by the worst step.
        Assert.True(result.HeldOutWithinPromptAuroc > 0.9, $"held-out within-prompt AUROC {result.HeldOutWithinPromptAuroc}");
        using var verifier = RewardModelVerifier.Load(result.CheckpointPath, CPU, id: "5");
        List<(string, string)> items = [("Q99?\nA: ", "go; up #### 1"), ("Q99?\nA: ", "go; dn #### 1")];
        var scores = verifier.Score(items.Select((x, i) => new VerifierInput("k", x.Item1, i, x.Item2, false)).ToList());
        Assert.True(scores[0] > scores[1], string.Join(", ", scores));
        var (module, _) = Checkpoint.Load(result.CheckpointPath, CPU);
        using var model = (RewardModel)module;
        var worst = RewardModelRun.Score(model, CharTokenizer.Instance, items, minOverSteps: true);
        var atEos = RewardModelRun.Score(model, CharTokenizer.Instance, items);
        Assert.Equal(worst, scores);
        Assert.All(worst.Zip(atEos), x => Assert.True(x.First <= x.Second));
    }
}
