// What an RL run tells its host beyond scalar metrics: one record per data-collection episode (where it
// started and why) and, for grid worlds, periodic per-cell visit counts and uncertainty (heatmaps over time).
namespace BonStudio.Training.RL;

/// <summary>Where a data-collection episode started.</summary>
public enum EpisodeStartKind
{
    /// <summary>From the environment's initial distribution (Reset).</summary>
    Initial,
    /// <summary>From a state UFLP restored from its history.</summary>
    Reset,
}

/// <summary>One data-collection episode.</summary>
/// <param name="Index">0-based episode number.</param>
/// <param name="StartKind">Initial (env reset) or Reset (UFLP restored a state from its history).</param>
/// <param name="StartRow">Grid row of the start state (grid worlds only).</param>
/// <param name="StartCol">Grid column of the start state (grid worlds only).</param>
/// <param name="StartUncertainty">u of the chosen start (Reset only; NaN otherwise).</param>
/// <param name="StartAction">a0 UFLP took from it (Reset only).</param>
/// <param name="Return">Undiscounted return of the episode (from its start).</param>
/// <param name="Length">Simulator steps in the episode.</param>
/// <param name="SimulatorSteps">Training simulator steps so far, including this episode.</param>
public sealed record EpisodeRecord(long Index, EpisodeStartKind StartKind, int? StartRow, int? StartCol, double StartUncertainty,
    int? StartAction, double Return, int Length, long SimulatorSteps);

/// <summary>Per-cell aggregates of a grid world at one moment, row-major (Rows × Cols).</summary>
/// <param name="SimulatorSteps">Training simulator steps when it was taken.</param>
/// <param name="Visits">Training visits per cell since the start of the run.</param>
/// <param name="Uncertainty">u(s) per cell now; NaN for walls and unreachable cells.</param>
public sealed record GridAggregate(long SimulatorSteps, int Rows, int Cols, long[] Visits, float[] Uncertainty);

/// <summary>Receives episode records and grid aggregates (the web host stores them for the reset timeline and heatmaps).</summary>
public interface IEpisodeSink
{
    void Episode(EpisodeRecord episode);
    void Grid(GridAggregate aggregate);
}

/// <summary>Keeps everything in memory (tests, the CLI).</summary>
public sealed class MemoryEpisodeSink : IEpisodeSink
{
    public List<EpisodeRecord> Episodes { get; } = [];
    public List<GridAggregate> Grids { get; } = [];
    public void Episode(EpisodeRecord episode) => Episodes.Add(episode);
    public void Grid(GridAggregate aggregate) => Grids.Add(aggregate);
}
