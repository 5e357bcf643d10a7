namespace BonStudio.Data.Entities;

/// <summary>A named group of runs (e.g. "BoN-aware fine-tuning study").</summary>
public class Experiment
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public bool Archived { get; set; }
    public List<Run> Runs { get; set; } = [];
}
