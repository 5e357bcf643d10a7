// Short-answer QA (TriviaQA/SQuAD style): a list of accepted answers; a response is correct when its answer
// equals one of them after SQuAD normalisation (lower case, punctuation and the articles a/an/the removed,
// whitespace collapsed). The response's answer is its first non-empty line without an "Answer:" prefix.
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BonStudio.Training.Tasks.Answers;

public sealed partial class QaChecker : IAnswerChecker
{
    public static QaChecker Instance { get; } = new();
    public string Format => "qa";

    [GeneratedRegex(@"^\s*(?:final\s+)?(?:answer|a)\s*[:\-]\s*", RegexOptions.IgnoreCase)]
    private static partial Regex AnswerPrefix();

    [GeneratedRegex(@"\b(a|an|the)\b")]
    private static partial Regex Articles();

    public string? ExtractFromResponse(string response)
    {
        if (string.IsNullOrWhiteSpace(response)) return null;
        var line = response.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
        if (line is null) return null;
        line = AnswerPrefix().Replace(line, "").Trim();
        return Normalize(line).Length == 0 ? null : line;
    }

    /// <summary>A JSON array of strings is a list of accepted answers; any other text is one accepted answer.</summary>
    public IReadOnlyList<string> ExtractReferences(string referenceOrSolution)
    {
        var t = referenceOrSolution.Trim();
        if (t.StartsWith('['))
        {
            try
            {
                var list = JsonSerializer.Deserialize<string[]>(t);
                if (list is { Length: > 0 }) return list;
            }
            catch (JsonException) { /* not a list: one answer that happens to start with '[' */ }
        }
        return t.Length == 0 ? [] : [t];
    }

    /// <summary>SQuAD's normalize_answer: lower case, drop punctuation, drop articles, collapse whitespace.</summary>
    public string Normalize(string answer)
    {
        var lower = answer.ToLowerInvariant();
        var sb = new StringBuilder(lower.Length);
        foreach (var ch in lower) if (!char.IsPunctuation(ch) && !char.IsSymbol(ch)) sb.Append(ch);
        var noArticles = Articles().Replace(sb.ToString(), " ");
        return string.Join(' ', noArticles.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    public bool Equivalent(string a, string b) => Normalize(a) == Normalize(b);
}
