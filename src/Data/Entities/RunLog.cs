namespace BonStudio.Data.Entities;

/// <summary>One line of a run's log (the run page shows the tail).</summary>
public class RunLog
{
    public long Id { get; set; }
    public int RunId { get; set; }
    public DateTime Time { get; set; } = DateTime.UtcNow;
    public string Level { get; set; } = "info";
    public required string Message { get; set; }
}
