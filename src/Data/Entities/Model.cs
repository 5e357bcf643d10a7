namespace BonStudio.Data.Entities;

/// <summary>A model checkpoint on disk: trained by a run or imported.</summary>
public class Model
{
    public int Id { get; set; }
    public required string Name { get; set; }
    /// <summary>"gpt", "llama", ...</summary>
    public required string Architecture { get; set; }
    /// <summary>Tokenizer id, e.g. "char:ascii", "gpt2", "llama2c".</summary>
    public required string Tokenizer { get; set; }
    /// <summary>Path of the checkpoint file or folder (written by BonStudio, or validated on import).</summary>
    public required string Path { get; set; }
    public long Step { get; set; }
    public long Parameters { get; set; }
    public long SizeBytes { get; set; }
    /// <summary>"trained" or "imported".</summary>
    public string Source { get; set; } = "trained";
    /// <summary>True for the final checkpoint of its run (intermediate ones are kept for resume).</summary>
    public bool IsFinal { get; set; }
    public string? ConfigJson { get; set; }
    public int? ProducedByRunId { get; set; }
    public Run? ProducedByRun { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}
