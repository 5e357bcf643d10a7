namespace BonStudio.Data.Entities;

/// <summary>A raw (confidence, correct) pair; calibration metrics are computed at view time from these.</summary>
public class CalibrationPoint
{
    public long Id { get; set; }
    public int RunId { get; set; }
    /// <summary>"p-true", "consistency", "likelihood", "phrase", or an imported source name.</summary>
    public required string Source { get; set; }
    public string? QuestionKey { get; set; }
    public double Confidence { get; set; }
    public bool Correct { get; set; }
    /// <summary>The uncertainty phrase emitted or assigned, if any ("" when unparseable).</summary>
    public string? Phrase { get; set; }
    public string? Answer { get; set; }
    /// <summary>Model name for imported points.</summary>
    public string? ModelName { get; set; }
}
