namespace BonStudio.Data.Entities;

/// <summary>One RL episode: where it started (initial state or a UFLP reset) and how it went.</summary>
public class Episode
{
    public long Id { get; set; }
    public int RunId { get; set; }
    public int Index { get; set; }
    /// <summary>True for evaluation episodes (always from the initial state).</summary>
    public bool IsEvaluation { get; set; }
    /// <summary>"initial" or "reset".</summary>
    public required string StartKind { get; set; }
    /// <summary>Key of the start state (e.g. "row,col" in grid worlds).</summary>
    public string? StartState { get; set; }
    public double? StartUncertainty { get; set; }
    public double Return { get; set; }
    public int Length { get; set; }
    /// <summary>Simulator steps taken by the run when the episode ended.</summary>
    public long StepsSoFar { get; set; }
}

/// <summary>Per-state aggregates of a grid-world run at a point in time (visitation heatmap, uncertainty map).</summary>
public class StateStat
{
    public long Id { get; set; }
    public int RunId { get; set; }
    public long AtStep { get; set; }
    public required string StateKey { get; set; }
    public long Visits { get; set; }
    public double? Uncertainty { get; set; }
}
