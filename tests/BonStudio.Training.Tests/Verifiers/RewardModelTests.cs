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
    }
}
