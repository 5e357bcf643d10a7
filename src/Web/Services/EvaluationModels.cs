// Request and response shapes of the evaluation API, the inspector, curves and diff pages (issue #3).
using BonStudio.Training.Metrics;

namespace BonStudio.Web.Services;

/// <summary>A stored evaluation (a bon-eval run, or imported samples) as lists show it.</summary>
public sealed record EvaluationSummary(int RunId, string Name, string Status, bool Imported, int? ModelId,
    IReadOnlyList<double> Temperatures, IReadOnlyList<ScoreLayerInfo> Verifiers, int Prompts, int N, DateTime CreatedAt);

public sealed record ScoreLayerInfo(int Id, string Verifier, int? VerifierRunId, DateTime CreatedAt);

/// <summary>A curve against k = 1..n with its 95% interval over prompts (null bounds when there is one prompt).</summary>
public sealed record Curve(double[] Mean, double?[] Lower, double?[] Upper)
{
    public static Curve From(IReadOnlyList<MeanInterval> points) =>
        new(points.Select(p => p.Mean).ToArray(), points.Select(p => p.Lower).ToArray(), points.Select(p => p.Upper).ToArray());
}

public sealed record VerifierCurve(string Verifier, int LayerId, Curve BonAtK);

/// <summary>Every metric of one evaluation at one temperature; index k−1 holds the value for k.</summary>
public sealed record EvaluationCurves(int RunId, double Temperature, int NPrompts, int N, int[] K,
    Curve PassAtK, Curve MajAtK, string MajMethod, double[] MajMonteCarloStdErr, IReadOnlyList<VerifierCurve> BonAtK,
    MeanInterval MeanReward, MeanInterval DistinctAnswers, MeanInterval AnswerEntropy);

/// <summary>Filters of the inspector's prompt list. Filter: all | solved (≥1 correct) | unsolved | missed
/// (a correct sample existed but the Best-of-N pick at k = n under <see cref="Verifier"/> is not surely correct).</summary>
public sealed record PromptQuery
{
    public double? Temperature { get; init; }
    public string? Search { get; init; }
    public string Filter { get; init; } = "all";
    public int? Difficulty { get; init; }
    public string? Verifier { get; init; }
    public int Page { get; init; }
    public int PageSize { get; init; } = 50;
}

/// <summary>One prompt in the inspector's list with its per-prompt statistics.</summary>
public sealed record PromptRow(long SetId, string PromptKey, string Preview, int? Difficulty, int N, int CorrectCount,
    double PassAt1, double? BonAtN, bool Missed, double MajAtN, int DistinctAnswers);

public sealed record PromptPage(IReadOnlyList<PromptRow> Items, int Total, int Page, int PageSize, double Temperature,
    IReadOnlyList<int> Difficulties);

/// <summary>One sample as the inspector shows it. PickProbability = chance the Best-of-k pick (random k-subset,
/// random tie-break) is this sample; IsArgmax marks the top-scoring sample(s) (k = n: several when tied).</summary>
public sealed record SampleView(long Id, int Index, string Text, string? Extracted, bool? Correct, int TokenCount, double? LogProb,
    int Length, IReadOnlyDictionary<string, double> Scores, double PickProbability, bool IsArgmax, bool InMajority);

/// <summary>Samples grouped by extracted answer (null = no answer).</summary>
public sealed record AnswerCluster(string? Answer, int Count, int CorrectCount, bool IsMajority);

public sealed record PromptDetail(long SetId, int RunId, double Temperature, string PromptKey, string PromptText, string? Reference,
    int? Difficulty, int N, int CorrectCount, IReadOnlyList<string> Verifiers, string? Verifier, int K, double? BonAtK,
    double PassAtK, IReadOnlyList<AnswerCluster> Clusters, IReadOnlyList<SampleView> Samples);

/// <summary>How the diff decides a prompt is solved: pass1 (c/n ≥ ½), passn (any correct), bon (BoN@n ≥ ½ under a verifier), maj (majority answer correct, maj@n ≥ ½).</summary>
public sealed record DiffQuery(int A, int B, double? TemperatureA = null, double? TemperatureB = null, string By = "passn", string? Verifier = null);

public sealed record PromptDiffRow(string PromptKey, string Preview, long? SetA, long? SetB, double? ValueA, double? ValueB, string Change);

public sealed record DiffResult(int A, int B, double TemperatureA, double TemperatureB, string By, string? Verifier,
    int Gained, int Lost, int UnchangedSolved, int UnchangedUnsolved, int OnlyInA, int OnlyInB, IReadOnlyList<PromptDiffRow> Prompts);

/// <summary>Re-scoring: verifier = oracle | noisy-oracle (epsilon, seed) | reward-model (modelId; with
/// <paramref name="EnsembleModelIds"/> more reward models whose mean logit with modelId's is the score, layer
/// "reward-model#4+6").</summary>
public sealed record RescoreRequest(string Verifier, double Epsilon = 0.1, long Seed = 0, int ModelId = 0, IReadOnlyList<int>? EnsembleModelIds = null);

public sealed record RescoreResult(int RunId, int LayerId, string Verifier, int Scored);

public sealed record ImportSamplesResult(int RunId, int Prompts, int N, int Samples);

public sealed record ImportDatasetResult(int DatasetId, string Name, string Format, int Problems, string ContentHash);
