namespace BonStudio.Data.Entities;

/// <summary>One point of a curve: (run, name, step) is unique, so a resumed run never duplicates a point.</summary>
public class MetricPoint
{
    public long Id { get; set; }
    public int RunId { get; set; }
    /// <summary>Namespaced name shared by all trainers, e.g. "train/loss", "eval/accuracy".</summary>
    public required string Name { get; set; }
    public long Step { get; set; }
    public double Value { get; set; }
    public DateTime WallTime { get; set; } = DateTime.UtcNow;
}

/// <summary>The latest value of each metric of a run, kept for fast filtering and sorting of the runs table.</summary>
public class RunSummary
{
    public int RunId { get; set; }
    public required string Name { get; set; }
    public double Value { get; set; }
    public long Step { get; set; }
}
