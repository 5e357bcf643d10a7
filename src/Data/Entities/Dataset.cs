namespace BonStudio.Data.Entities;

/// <summary>A problem set: a generated suite split (MiniMath) or an imported file (GSM8K, MATH, QA, HumanEval).</summary>
public class Dataset
{
    public int Id { get; set; }
    public required string Name { get; set; }
    /// <summary>"minimath", "gsm8k", "math", "qa", "humaneval".</summary>
    public required string Suite { get; set; }
    public string? Split { get; set; }
    /// <summary>SHA-256 over the problems' content hashes, in order.</summary>
    public required string ContentHash { get; set; }
    public int ProblemCount { get; set; }
    public string? Source { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
    public List<Problem> Problems { get; set; } = [];
}

/// <summary>One prompt with its reference answer.</summary>
public class Problem
{
    public int Id { get; set; }
    public int DatasetId { get; set; }
    /// <summary>Id within its data set (e.g. "test/precalculus/807.json", a MiniMath content id).</summary>
    public required string ExternalId { get; set; }
    public required string Prompt { get; set; }
    public required string ReferenceAnswer { get; set; }
    /// <summary>Full reference solution where the source has one; JSON list of accepted answers for QA.</summary>
    public string? ReferenceSolution { get; set; }
    public int? Difficulty { get; set; }
    public string? Subject { get; set; }
    public required string ContentHash { get; set; }
}
