// Run kind "rl": deep RL with or without UFLP (methods.md §4); executor = BonStudio.Training.RL.RlRun.
// Episodes and grid aggregates go to the database through the job's reporter (it is also an IEpisodeSink).
using BonStudio.Training.RL;
using BonStudio.Training.Runtime;

namespace BonStudio.Web.RunKinds;

public sealed class RlKind : RunKind<RlConfig>
{
    public override string Name => "rl";
    public override string Title => "Deep RL (DDQN, BootDDQN, UFLP)";
    public override string Description =>
        "An agent on Deep Sea, Cartpole swing-up or the Montezuma-like rooms, optionally restarting episodes from the most uncertain state seen (UFLP). Budget in simulator steps.";

    public override RlConfig DefaultConfig() => new();

    protected override IEnumerable<(string Field, string Message)> Validate(RlConfig config)
    {
        // RlConfig.Validate holds its cross-field rules; its messages name the fields.
        string? problem = null;
        try { config.Validate(); }
        catch (ArgumentException e) { problem = e.Message; }
        if (problem is not null) yield return ("", problem);
    }

    protected override WorkEstimate Estimate(RlConfig c) => WorkEstimate.Of(
        ("simulator steps", c.BudgetSteps),
        ("evaluation episodes", c.EvalEvery > 0 ? c.BudgetSteps / c.EvalEvery * c.EvalEpisodes : 0));

    protected override void Execute(RlConfig config, string runDirectory, IRunReporter reporter)
    {
        var result = RlRun.Execute(config, runDirectory, reporter, reporter as IEpisodeSink);
        if (result.Cancelled) throw new OperationCanceledException("rl run cancelled", reporter.CancellationToken);
        reporter.Metric("final/eval_return", result.SimulatorSteps, result.FinalEvalReturn);
        reporter.Metric("final/best_eval_return", result.SimulatorSteps, result.BestEvalReturn);
        if (result.StepsToSolve is long solved) reporter.Metric("final/steps_to_solve", result.SimulatorSteps, solved);
    }
}
