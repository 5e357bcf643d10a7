// One interface for every answer format (gsm8k, math, qa, minimath) and the Grader used by evaluations,
// imports and the `grade` command. Model outputs are untrusted text: checkers only parse strings.
namespace BonStudio.Training.Tasks.Answers;

public interface IAnswerChecker
{
    /// <summary>"gsm8k", "math", "qa" or "minimath".</summary>
    string Format { get; }

    /// <summary>The final answer a model wrote, or null when it wrote none this format recognises.</summary>
    string? ExtractFromResponse(string response);

    /// <summary>Every accepted reference answer in a data set's reference (an answer or a full solution).</summary>
    IReadOnlyList<string> ExtractReferences(string referenceOrSolution);

    /// <summary>The canonical form used for comparison.</summary>
    string Normalize(string answer);

    /// <summary>True when two answers mean the same under this format's rules.</summary>
    bool Equivalent(string a, string b);
}

/// <summary>Verdict of one response: the answer extracted (null = none) and whether it matches a reference.</summary>
public sealed record GradeResult(string? Extracted, bool Correct);

public static class Grader
{
    public static IReadOnlyList<string> Formats { get; } = ["gsm8k", "math", "qa", "minimath"];

    public static IAnswerChecker For(string format) => format?.ToLowerInvariant() switch
    {
        "gsm8k" => Gsm8kChecker.Instance,
        "math" => MathChecker.Instance,
        "qa" => QaChecker.Instance,
        "minimath" => MiniMathChecker.Instance,
        _ => throw new ArgumentException($"unknown answer format '{format}'; expected one of {string.Join(", ", Formats)}", nameof(format)),
    };

    /// <summary>Extracts the response's answer and compares it with every accepted reference answer.</summary>
    public static GradeResult Grade(string format, string referenceOrSolution, string response) =>
        Grade(For(format), referenceOrSolution, response);

    public static GradeResult Grade(IAnswerChecker checker, string referenceOrSolution, string response)
    {
        ArgumentNullException.ThrowIfNull(referenceOrSolution);
        var extracted = checker.ExtractFromResponse(response ?? "");
        if (extracted is null) return new GradeResult(null, false);
        return new GradeResult(extracted, checker.ExtractReferences(referenceOrSolution).Any(r => checker.Equivalent(extracted, r)));
    }
}
