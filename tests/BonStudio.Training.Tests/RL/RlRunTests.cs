using BonStudio.Training.RL;
using BonStudio.Training.Runtime;

namespace BonStudio.Training.Tests.RL;

[Collection("Torch")]
public class RlRunTests
{
    private static RlConfig Tiny(long seed) => new()
    {
        Env = "deepsea", EnvSize = 6, Agent = "bootddqn", Uncertainty = "ensemble", Uflp = true, PInit = 0.1,
        BudgetSteps = 6000, EvalEvery = 200, StopWhenSolved = true, Seed = seed, Device = "cpu", Threads = 1, HeatmapEvery = 100,
    };

    private static string TempDir() => Path.Combine(Path.GetTempPath(), "bonstudio-rl-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void A_tiny_deep_sea_is_solved_with_UFLP_and_every_episode_says_where_it_started()
    {
        var reporter = new ConsoleReporter(output: TextWriter.Null);
        var sink = new MemoryEpisodeSink();
        var dir = TempDir();
        var result = RlRun.Execute(Tiny(1), dir, reporter, sink);

        Assert.NotNull(result.StepsToSolve);
        Assert.True(result.FinalEvalReturn >= 0.9, $"final eval {result.FinalEvalReturn}");
        Assert.True(result.Resets > 0);
        Assert.Equal(result.Episodes, sink.Episodes.Count);
        Assert.Equal(result.Resets, sink.Episodes.Count(e => e.StartKind == EpisodeStartKind.Reset));
        Assert.All(sink.Episodes.Where(e => e.StartKind == EpisodeStartKind.Reset), e =>
        {
            Assert.False(double.IsNaN(e.StartUncertainty));
            Assert.NotNull(e.StartRow);
            Assert.InRange(e.StartCol!.Value, 0, e.StartRow!.Value); // Deep Sea: col ≤ row
        });
        Assert.All(sink.Episodes.Where(e => e.StartKind == EpisodeStartKind.Initial), e => Assert.Equal((0, 0), (e.StartRow, e.StartCol)));
        Assert.Contains(reporter.Metrics, m => m.Name == "eval/steps_to_solve" && m.Value == result.StepsToSolve);
        Assert.Contains(reporter.Metrics, m => m.Name == "charts/resets");
        Assert.NotEmpty(sink.Grids);
        Assert.Equal(result.SimulatorSteps, sink.Grids[^1].SimulatorSteps);
        Assert.Equal(36, sink.Grids[0].Visits.Length);
        Assert.True(sink.Grids[0].Visits[0] > 0);
        Assert.True(float.IsNaN(sink.Grids[0].Uncertainty[0 * 6 + 5])); // (0, 5) is unreachable
        Assert.True(File.Exists(Path.Combine(dir, "eval.csv")) && File.Exists(Path.Combine(dir, "episodes.csv")));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void The_same_seed_gives_the_same_run()
    {
        var config = Tiny(3) with { EnvSize = 5, BudgetSteps = 800, StopWhenSolved = false, Stochastic = true };
        var a = new MemoryEpisodeSink(); var b = new MemoryEpisodeSink();
        var ra = RlRun.Execute(config, TempDir(), new ConsoleReporter(output: TextWriter.Null), a);
        var rb = RlRun.Execute(config, TempDir(), new ConsoleReporter(output: TextWriter.Null), b);
        Assert.Equal(ra.Evaluations, rb.Evaluations);
        Assert.Equal(a.Episodes, b.Episodes);
        Assert.True(ra.Resets > 0);
    }

    [Fact]
    public void Cancellation_stops_the_run_early()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var result = RlRun.Execute(Tiny(1), TempDir(), new ConsoleReporter(cts.Token, TextWriter.Null));
        Assert.True(result.Cancelled);
        Assert.Equal(0, result.SimulatorSteps);
    }

    [Fact]
    public void Invalid_configs_are_refused_with_the_field_named()
    {
        var ex = Assert.Throws<ArgumentException>(() => RlRun.Execute(Tiny(1) with { PInit = 1.5 }, TempDir(), new ConsoleReporter(output: TextWriter.Null)));
        Assert.Contains("PInit", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => RlRun.Execute(Tiny(1) with { Agent = "ddqn" }, TempDir(), new ConsoleReporter(output: TextWriter.Null)));
        Assert.Contains("ensemble", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => RlRun.Execute(Tiny(1) with { Env = "pong" }, TempDir(), new ConsoleReporter(output: TextWriter.Null)));
        Assert.Contains("Env", ex.Message);
    }

    [Fact]
    public void Ddqn_bonus_with_UFLP_solves_a_tiny_deep_sea()
    {
        var dir = TempDir();
        var result = RlRun.Execute(Tiny(2) with { Agent = "ddqn-bonus", Uncertainty = "counts", TrainEvery = 4 }, dir,
            new ConsoleReporter(output: TextWriter.Null));
        Assert.NotNull(result.StepsToSolve);
        Assert.True(result.Resets > 0);
        Assert.Equal("deepsea6__ddqn-bonus+uflp__2", result.RunName);
        Directory.Delete(dir, true);
    }
}
