namespace BonStudio.Data.Entities;

/// <summary>The n samples drawn for one prompt in one evaluation at one temperature.</summary>
public class SampleSet
{
    public long Id { get; set; }
    public int RunId { get; set; }
    public int? ProblemId { get; set; }
    public Problem? Problem { get; set; }
    /// <summary>Prompt id as the evaluation knows it (problem external id, or prompt_id of an import); aligns evaluations.</summary>
    public required string PromptKey { get; set; }
    public required string PromptText { get; set; }
    public string? ReferenceAnswer { get; set; }
    public int? Difficulty { get; set; }
    public double Temperature { get; set; }
    public int N { get; set; }
    /// <summary>Number of samples the checker marked correct (denormalised for filters).</summary>
    public int CorrectCount { get; set; }
    public List<Sample> Samples { get; set; } = [];
}

/// <summary>One sampled response. Text is untrusted model output: rendered as text, never HTML.</summary>
public class Sample
{
    public long Id { get; set; }
    public long SampleSetId { get; set; }
    /// <summary>Position 0..n-1 within its set.</summary>
    public int Index { get; set; }
    public required string Text { get; set; }
    public string? ExtractedAnswer { get; set; }
    /// <summary>Checker verdict; null when unknown (e.g. imported without one).</summary>
    public bool? Correct { get; set; }
    /// <summary>Why, for checkers that can say (code verifier: passed, failed assertion, timeout, crash).</summary>
    public string? VerdictReason { get; set; }
    public int TokenCount { get; set; }
    /// <summary>Sum of token log-probs under the model at temperature 1.</summary>
    public double? LogProb { get; set; }
    public List<Score> Scores { get; set; } = [];
}

/// <summary>A verifier's scoring of an evaluation: re-scoring adds a layer, samples are never regenerated.</summary>
public class ScoreLayer
{
    public int Id { get; set; }
    /// <summary>The evaluation run whose samples are scored.</summary>
    public int RunId { get; set; }
    /// <summary>e.g. "oracle", "noisy-oracle(0.1)", "reward-model#12".</summary>
    public required string Verifier { get; set; }
    /// <summary>The run that trained the verifier, for learned ones.</summary>
    public int? VerifierRunId { get; set; }
    public string? ConfigJson { get; set; }
    public DateTime CreatedAt { get; set; } = DateTime.UtcNow;
}

/// <summary>sample × verifier → value (higher is better).</summary>
public class Score
{
    public long SampleId { get; set; }
    public int ScoreLayerId { get; set; }
    public double Value { get; set; }
}
