using System.ComponentModel.DataAnnotations;
using BonStudio.Training.FineTuning;
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.FineTuning;

[Collection("Torch")]
public sealed class SftRunTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("bonstudio-sft-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A run small enough for a unit test: one block, d = 32, a few dozen steps of 8 level-1 problems.</summary>
    internal static readonly SftConfig Tiny = new()
    {
        Levels = [1], TrainProblems = 64, ValidationProblems = 8, TestProblems = 8,
        Layers = 1, Heads = 2, EmbeddingDim = 32, Steps = 40, BatchSize = 8, LearningRate = 3e-3, MinLearningRate = 3e-4,
        WarmupSteps = 5, EvalEvery = 20, LogEvery = 5, CheckpointEvery = 20, EvalTemperatureOne = false,
        Seed = 3, Device = "cpu", Threads = 1,
    };

    private string Dir(string name) => Path.Combine(_root, name);

    [Fact]
    public void Tiny_run_learns_reports_metrics_and_writes_checkpoints()
    {
        var reporter = new ConsoleReporter(output: TextWriter.Null);
        var result = SftRun.Execute(Tiny, Dir("a"), reporter);

        var losses = reporter.Metrics.Where(m => m.Name == "train/loss").Select(m => m.Value).ToList();
        Assert.Equal(8, losses.Count);                       // every 5 of 40 steps
        Assert.True(losses[^1] < 0.7 * losses[0], $"loss did not go down: {string.Join(", ", losses)}");
        foreach (var name in new[] { "train/lr", "charts/tokens_per_s", "eval/loss", "eval/accuracy", "eval/accuracy_level_1",
                                     "test/loss", "test/accuracy", "test/accuracy_level_1" })
            Assert.Contains(reporter.Metrics, m => m.Name == name);
        Assert.Equal(result.TestAccuracy, reporter.Metrics.Single(m => m.Name == "test/accuracy").Value);
        Assert.Equal(result.TestAccuracyByLevel[1], result.TestAccuracy);

        // Checkpoints at step 20 and the final one at 40, reported, loadable, with their config.
        Assert.Equal([20L, 40L], reporter.Checkpoints.Select(c => c.Step));
        Assert.Equal([false, true], reporter.Checkpoints.Select(c => c.IsFinal));
        var final = reporter.Checkpoints[^1];
        Assert.Equal(result.FinalCheckpointPath, final.Path);
        Assert.StartsWith(Path.Combine(Dir("a"), "checkpoints"), final.Path);
        Assert.Equal("gpt", final.Architecture);
        Assert.Equal("char:ascii", final.Tokenizer);
        var (model, meta) = Checkpoint.LoadGpt(final.Path, CPU);
        using var _ = model;
        Assert.Equal(40, meta.Step);
        Assert.Equal(32, model.Config.EmbeddingDim);
        Assert.Contains("\"Steps\":40", meta.TrainingConfigJson);
        Assert.Equal(model.ParameterCount, final.Parameters);
    }

    [Fact]
    public void Same_seed_gives_identical_parameters()
    {
        var config = Tiny with { Steps = 6, EvalEvery = 0, CheckpointEvery = 0, TestProblems = 2, ValidationProblems = 2 };
        var a = SftRun.Execute(config, Dir("s1"), new ConsoleReporter(output: TextWriter.Null));
        var b = SftRun.Execute(config, Dir("s2"), new ConsoleReporter(output: TextWriter.Null));
        var c = SftRun.Execute(config with { Seed = 4 }, Dir("s3"), new ConsoleReporter(output: TextWriter.Null));
        var (ta, _) = Safetensors.Load(a.FinalCheckpointPath);
        var (tb, _) = Safetensors.Load(b.FinalCheckpointPath);
        var (tc, _) = Safetensors.Load(c.FinalCheckpointPath);
        Assert.All(ta, kv => Assert.True(kv.Value.eq(tb[kv.Key]).all().item<bool>(), kv.Key));
        Assert.Contains(ta, kv => !kv.Value.eq(tc[kv.Key]).all().item<bool>());
    }

    [Fact]
    public void Cancellation_stops_the_run_and_a_rerun_resumes_to_the_same_weights()
    {
        var config = Tiny with { Steps = 12, EvalEvery = 0, CheckpointEvery = 4, LogEvery = 1, TestProblems = 2, ValidationProblems = 2 };
        var uninterrupted = SftRun.Execute(config, Dir("full"), new ConsoleReporter(output: TextWriter.Null));

        // Cancel once step 6 has been logged: the periodic checkpoint of step 4 exists, and stopping writes one
        // for step 6 (graceful shutdown), so nothing done is lost.
        using var cts = new CancellationTokenSource();
        var cancelling = new CancelAfter(cts, "train/loss", 6);
        Assert.ThrowsAny<OperationCanceledException>(() => SftRun.Execute(config, Dir("resumed"), cancelling));
        Assert.Equal(6, cancelling.Metrics.Where(m => m.Name == "train/loss").Max(m => m.Step));
        Assert.Equal([4L, 6L], cancelling.Checkpoints.Select(c => c.Step));

        var resumedReporter = new ConsoleReporter(output: TextWriter.Null);
        var resumed = SftRun.Execute(config, Dir("resumed"), resumedReporter);
        Assert.Equal(7, resumedReporter.Metrics.Where(m => m.Name == "train/loss").Min(m => m.Step)); // continued after step 6
        var (tu, _) = Safetensors.Load(uninterrupted.FinalCheckpointPath);
        var (tr, _) = Safetensors.Load(resumed.FinalCheckpointPath);
        Assert.All(tu, kv => Assert.True(kv.Value.allclose(tr[kv.Key], rtol: 1e-5, atol: 1e-7), kv.Key));
    }

    [Fact]
    public void A_cancelled_token_stops_before_any_work()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => SftRun.Execute(Tiny, Dir("c"), new ConsoleReporter(cts.Token, TextWriter.Null)));
        Assert.False(Directory.Exists(Path.Combine(Dir("c"), "checkpoints")) && Directory.EnumerateFiles(Path.Combine(Dir("c"), "checkpoints")).Any());
    }

    [Theory]
    [InlineData("Steps", -5)]
    [InlineData("BatchSize", 0)]
    [InlineData("LearningRate", 0.0)]
    public void Out_of_range_fields_are_refused_by_name(string field, object value)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(new SftConfig()))!.AsObject();
        json[field] = System.Text.Json.Nodes.JsonValue.Create(value);
        var config = System.Text.Json.JsonSerializer.Deserialize<SftConfig>(json)!;
        var ex = Assert.Throws<ValidationException>(() => config.EnsureValid());
        Assert.Contains(field, ex.Message);
    }

    [Fact]
    public void Cross_field_problems_are_refused_by_name()
    {
        Assert.Contains("Levels", Assert.Throws<ValidationException>(() => (Tiny with { Levels = [1, 7] }).EnsureValid()).Message);
        Assert.Contains("Levels", Assert.Throws<ValidationException>(() => (Tiny with { Levels = [] }).EnsureValid()).Message);
        Assert.Contains("EmbeddingDim", Assert.Throws<ValidationException>(() => (Tiny with { Heads = 3 }).EnsureValid()).Message);
        Assert.Contains("MinLearningRate", Assert.Throws<ValidationException>(() => (Tiny with { MinLearningRate = 1 }).EnsureValid()).Message);
        Assert.Contains("WarmupSteps", Assert.Throws<ValidationException>(() => (Tiny with { WarmupSteps = 41 }).EnsureValid()).Message);
        Assert.Contains("Device", Assert.Throws<ValidationException>(() => (Tiny with { Device = "tpu" }).EnsureValid()).Message);
        new SftConfig().EnsureValid(); // the default preset is valid
    }

    [Fact]
    public void Learning_rate_warms_up_linearly_then_decays_by_cosine_to_the_minimum()
    {
        var c = new SftConfig { Steps = 110, WarmupSteps = 10, LearningRate = 1e-3, MinLearningRate = 1e-4 };
        Assert.Equal(1e-4, SftRun.LearningRateAt(0, c), 12);
        Assert.Equal(1e-3, SftRun.LearningRateAt(9, c), 12);
        Assert.Equal(1e-3, SftRun.LearningRateAt(10, c), 12);
        Assert.Equal(5.5e-4, SftRun.LearningRateAt(60, c), 12);   // half-way through the decay
        Assert.Equal(1e-4, SftRun.LearningRateAt(110, c), 12);
        Assert.True(SftRun.LearningRateAt(30, c) > SftRun.LearningRateAt(31, c));
    }

    /// <summary>Cancels its token once metric <c>name</c> reaches <c>step</c> (as a user pressing cancel mid-run).</summary>
    private sealed class CancelAfter(CancellationTokenSource cts, string name, long step) : IRunReporter
    {
        public List<(string Name, long Step, double Value)> Metrics { get; } = [];
        public List<CheckpointInfo> Checkpoints { get; } = [];
        public CancellationToken CancellationToken => cts.Token;
        public void Progress(double fraction, string? message = null) { }
        public void Log(string message) { }
        public void Checkpoint(CheckpointInfo checkpoint) => Checkpoints.Add(checkpoint);
        public void Metric(string metric, long at, double value)
        {
            Metrics.Add((metric, at, value));
            if (metric == name && at >= step) cts.Cancel();
        }
    }
}
