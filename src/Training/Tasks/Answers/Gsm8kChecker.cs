// GSM8K answers (Cobbe et al. 2021): the reference's final answer follows "#### ". From model text we take,
// in order: the number after the first "####"; else the first number after the last "answer is"/"answer:";
// else the last number in the text. Numbers are compared by value after normalisation: thousands commas,
// "$", a leading "+", trailing "." and units are dropped ("$1,234.50 dollars" = "1234.5", "18.0" = "18").
using System.Globalization;
using System.Text.RegularExpressions;

namespace BonStudio.Training.Tasks.Answers;

public sealed partial class Gsm8kChecker : IAnswerChecker
{
    public static Gsm8kChecker Instance { get; } = new();
    public string Format => "gsm8k";

    // A number as people write it: optional sign and "$", digits with optional thousands commas, optional decimals.
    [GeneratedRegex(@"(?<![\w.])[-+−]?\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<![\w.])[-+−]?\$?\.\d+")]
    private static partial Regex NumberRegex();

    [GeneratedRegex(@"answer\s*(?:is|:|=)", RegexOptions.IgnoreCase)]
    private static partial Regex AnswerIsRegex();

    public string? ExtractFromResponse(string response)
    {
        if (string.IsNullOrEmpty(response)) return null;
        int marker = response.IndexOf("####", StringComparison.Ordinal);
        if (marker >= 0)
        {
            var rest = response[(marker + 4)..];
            int newline = rest.IndexOf('\n');
            var m = NumberRegex().Match(newline < 0 ? rest : rest[..newline]);
            return m.Success ? NormalizeNumber(m.Value) : null;
        }
        var answerIs = AnswerIsRegex().Matches(response);
        if (answerIs.Count > 0)
        {
            var after = response[(answerIs[^1].Index + answerIs[^1].Length)..];
            var m = NumberRegex().Match(after);
            if (m.Success && m.Index < 40) return NormalizeNumber(m.Value);
        }
        var all = NumberRegex().Matches(response);
        return all.Count > 0 ? NormalizeNumber(all[^1].Value) : null;
    }

    /// <summary>The text after the last "#### " of a GSM8K solution (or the whole text when it is just the answer).</summary>
    public IReadOnlyList<string> ExtractReferences(string referenceOrSolution)
    {
        int marker = referenceOrSolution.LastIndexOf("####", StringComparison.Ordinal);
        var answer = (marker >= 0 ? referenceOrSolution[(marker + 4)..] : referenceOrSolution).Trim();
        return answer.Length == 0 ? [] : [Normalize(answer)];
    }

    public string Normalize(string answer)
    {
        var m = NumberRegex().Match(answer);
        // A number (with units or words around it) normalises to the number; other text to trimmed lower case.
        return m.Success ? NormalizeNumber(m.Value) : answer.Trim().TrimEnd('.').ToLowerInvariant();
    }

    public bool Equivalent(string a, string b)
    {
        string na = Normalize(a), nb = Normalize(b);
        if (na == nb) return true;
        return decimal.TryParse(na, NumberStyles.Number, CultureInfo.InvariantCulture, out var x)
            && decimal.TryParse(nb, NumberStyles.Number, CultureInfo.InvariantCulture, out var y)
            && x == y;
    }

    /// <summary>"$1,234.50" → "1234.5", "+7" → "7", "18.0" → "18", "−3" → "-3".</summary>
    public static string NormalizeNumber(string text)
    {
        var s = text.Replace("$", "").Replace(",", "").Replace(" ", "").Replace('−', '-').TrimEnd('.');
        if (s.StartsWith('+')) s = s[1..];
        if (!decimal.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var d))
            return s;
        var canonical = d.ToString("0.############################", CultureInfo.InvariantCulture);
        return canonical == "-0" ? "0" : canonical;
    }
}
