// MATH answers (Hendrycks et al. 2021; MATH-500 of PRM800K): the final answer is the brace-matched content of
// the LAST \boxed{...} (or \fbox{...}) in a solution or a response. Answers are compared after the rules of
// Hendrycks' `strip_string` / PRM800K's normaliser, written as rules (not cases) and extended a little:
//   - line breaks, "\!", "\,", "\;", "\:", "\ ", "~", "\displaystyle" and "$" delimiters removed;
//   - \dfrac and \tfrac → \frac; \left and \right removed; bmatrix → pmatrix;
//   - degrees (^\circ, ^{\circ}, °), percent (\%, %) and dollar signs (\$) removed;
//   - a trailing \text{...}/\mbox{...} after a value is a unit and removed ("\frac{270}7\text{ degrees}");
//     a value followed by plain unit words ("5 cm") loses the words; any other \text{X} becomes X;
//   - "x = 5" → "5" when the left side is a short variable (at most two characters, as Hendrycks);
//     "x \in [2,7]" → "[2,7]";
//   - \sqrt3 → \sqrt{3}, \frac12 → \frac{1}{2}, \frac{270}7 → \frac{270}{7} (arguments braced);
//   - spaces removed; "{,}" and thousands commas in a plain number removed ("10,\!080" = "10080");
//     ".5" → "0.5"; a leading "+" and trailing "." removed; "a/b" of integers → \frac{a}{b}; "(C)" → "C";
//   - numbers compare by exact rational value ("0.5" = "\frac{1}{2}" = "\frac{2}{4}", "-\frac{35}{9}"),
//     tuples/intervals/lists compare element-wise with the same brackets; plain words ignore case.
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace BonStudio.Training.Tasks.Answers;

public sealed partial class MathChecker : IAnswerChecker
{
    public static MathChecker Instance { get; } = new();
    public string Format => "math";

    public string? ExtractFromResponse(string response) => LastBoxed(response);

    /// <summary>The last \boxed{} of a solution; a reference without \boxed is taken as the answer itself.</summary>
    public IReadOnlyList<string> ExtractReferences(string referenceOrSolution)
    {
        var answer = LastBoxed(referenceOrSolution) ?? referenceOrSolution.Trim();
        return answer.Length == 0 ? [] : [answer];
    }

    /// <summary>
    /// Brace-matched content of the last \boxed{...} or \fbox{...}; "\boxed 5" (space form) runs to the next
    /// "$" or line end. Null when there is none or its braces never close.
    /// </summary>
    public static string? LastBoxed(string text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        int boxed = text.LastIndexOf(@"\boxed", StringComparison.Ordinal);
        int fbox = text.LastIndexOf(@"\fbox", StringComparison.Ordinal);
        int at = Math.Max(boxed, fbox);
        if (at < 0) return null;
        int i = at + (at == boxed ? 6 : 5);
        if (i < text.Length && text[i] == '{')
        {
            int depth = 0;
            for (int j = i; j < text.Length; j++)
            {
                char c = text[j];
                if (c == '\\') { j++; continue; } // \{ and \} are literal braces, not grouping
                if (c == '{') depth++;
                else if (c == '}' && --depth == 0) return text[(i + 1)..j];
            }
            return null;
        }
        if (i < text.Length && text[i] == ' ')
        {
            int end = text.IndexOfAny(['$', '\n'], i);
            var content = (end < 0 ? text[i..] : text[i..end]).Trim();
            return content.Length == 0 ? null : content;
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------ normalise

    [GeneratedRegex(@"\\[dt]frac")] private static partial Regex DisplayFrac();
    [GeneratedRegex(@"\\(?:left|right)(?![a-zA-Z])")] private static partial Regex LeftRight();
    [GeneratedRegex(@"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°")] private static partial Regex Degrees();
    [GeneratedRegex(@"(?<=\S)\s*\\(?:text|textrm|mbox|mathrm)\s*\{\s*[A-Za-z][A-Za-z .]*\}\s*(?:\^\s*\{?\d\}?)?\s*$")]
    private static partial Regex TrailingTextUnit();
    [GeneratedRegex(@"\\(?:text|textrm|textbf|textit|mbox|mathrm|mathbf)\s*\{([^{}]*)\}")] private static partial Regex TextWrapper();
    [GeneratedRegex(@"^([-+]?(?:\d[\d,]*)?\.?\d+)\s+(?:(?!(?:pi|sqrt|inf|infty|infinity|mod|log|ln|exp)\b)[A-Za-z]{2,}\.?\s*)+$")] private static partial Regex NumberWithUnitWords();
    [GeneratedRegex(@"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")] private static partial Regex ThousandsNumber();
    [GeneratedRegex(@"^([-+]?\d+)/([-+]?\d+)$")] private static partial Regex IntegerSlash();
    [GeneratedRegex(@"^\(([A-Za-z])\)$")] private static partial Regex ChoiceLetter();
    [GeneratedRegex(@"^\s*[A-Za-z]\s*\\in(?![A-Za-z])\s*")] private static partial Regex InVariable();
    [GeneratedRegex(@"(?<!\\)\\(?:[,;:! ]|displaystyle)|~")] private static partial Regex Spacing();

    public string Normalize(string answer)
    {
        var s = answer.Replace("\r", "").Replace("\n", " ").Trim();
        s = s.TrimEnd('.', ' ');
        if (s.Length >= 2 && s[0] == '$' && s[^1] == '$') s = s.Trim('$');
        s = Spacing().Replace(s, " ");
        s = DisplayFrac().Replace(s, @"\frac");
        s = LeftRight().Replace(s, "");
        s = s.Replace("bmatrix", "pmatrix");
        s = Degrees().Replace(s, "");
        s = s.Replace(@"\$", "").Replace("$", "").Replace(@"\%", "").Replace("%", "");
        s = TrailingTextUnit().Replace(s, "");
        s = TextWrapper().Replace(s, "$1");
        s = s.Trim();
        var unitWords = NumberWithUnitWords().Match(s);
        if (unitWords.Success) s = unitWords.Groups[1].Value;
        s = s.Replace(" .", " 0.").Replace("{.", "{0.");
        if (s.StartsWith('.')) s = "0" + s;

        // "x \in [2, 7]" → "[2, 7]": membership of a single variable states the set.
        s = InVariable().Replace(s, "");
        // "x = 5" → "5": a single "=" with a short left side (Hendrycks' rule).
        var sides = s.Split('=');
        if (sides.Length == 2 && sides[0].Trim().Length is > 0 and <= 2) s = sides[1];

        s = BraceArguments(s, @"\sqrt", 1);
        s = BraceArguments(s, @"\frac", 2);
        s = s.Replace(" ", "").Replace("{,}", ",");
        if (ThousandsNumber().IsMatch(s)) s = s.Replace(",", "");
        while (s.EndsWith('.') && s.Length > 1) s = s[..^1];
        if (s.StartsWith('+') && s.Length > 1) s = s[1..];
        var slash = IntegerSlash().Match(s);
        if (slash.Success) s = $@"\frac{{{slash.Groups[1].Value}}}{{{slash.Groups[2].Value}}}";
        var choice = ChoiceLetter().Match(s);
        if (choice.Success) s = choice.Groups[1].Value;
        if (s.StartsWith("-0") && TryRational(s, out var r) && r.Num.IsZero) s = "0";
        return s;
    }

    /// <summary>Gives every argument of <paramref name="command"/> braces: \frac12 → \frac{1}{2}, \sqrt3 → \sqrt{3}, \frac\pi2 → \frac{\pi}{2}.</summary>
    private static string BraceArguments(string s, string command, int arguments)
    {
        var sb = new StringBuilder(s.Length + 8);
        int i = 0;
        while (i < s.Length)
        {
            int at = s.IndexOf(command, i, StringComparison.Ordinal);
            // The command must not continue with letters (\fracx is not \frac).
            while (at >= 0 && at + command.Length < s.Length && char.IsAsciiLetter(s[at + command.Length]) )
                at = s.IndexOf(command, at + 1, StringComparison.Ordinal);
            if (at < 0) { sb.Append(s, i, s.Length - i); break; }
            sb.Append(s, i, at - i).Append(command);
            int j = at + command.Length;
            if (command == @"\sqrt" && j < s.Length && s[j] == '[')
            {
                int close = s.IndexOf(']', j);
                if (close < 0) { sb.Append(s, j, s.Length - j); break; }
                sb.Append(s, j, close + 1 - j);
                j = close + 1;
            }
            for (int a = 0; a < arguments; a++)
            {
                while (j < s.Length && s[j] == ' ') j++;
                if (j >= s.Length) break;
                if (s[j] == '{')
                {
                    int end = MatchingBrace(s, j);
                    if (end < 0) { sb.Append(s, j, s.Length - j); j = s.Length; break; }
                    sb.Append(s, j, end + 1 - j);
                    j = end + 1;
                }
                else if (s[j] == '\\')
                {
                    int k = j + 1;
                    while (k < s.Length && char.IsAsciiLetter(s[k])) k++;
                    if (k == j + 1 && k < s.Length) k++;
                    sb.Append('{').Append(s, j, k - j).Append('}');
                    j = k;
                }
                else { sb.Append('{').Append(s[j]).Append('}'); j++; }
            }
            i = j;
        }
        return sb.ToString();
    }

    private static int MatchingBrace(string s, int open)
    {
        int depth = 0;
        for (int j = open; j < s.Length; j++)
        {
            if (s[j] == '\\') { j++; continue; }
            if (s[j] == '{') depth++;
            else if (s[j] == '}' && --depth == 0) return j;
        }
        return -1;
    }

    // ---------------------------------------------------------------------------------------- equivalence

    public bool Equivalent(string a, string b) => EquivalentNormalized(Normalize(a), Normalize(b));

    private static bool EquivalentNormalized(string a, string b)
    {
        if (a == b) return true;
        if (TryRational(a, out var x) && TryRational(b, out var y)) return x.Num * y.Den == y.Num * x.Den;
        if (IsWord(a) && IsWord(b)) return string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
        // Tuples, intervals and lists: same brackets, element-wise equivalence.
        var ea = SplitTopLevel(a, out var openA, out var closeA);
        var eb = SplitTopLevel(b, out var openB, out var closeB);
        if (ea.Count < 2 || ea.Count != eb.Count || openA != openB || closeA != closeB) return false;
        for (int i = 0; i < ea.Count; i++) if (!EquivalentNormalized(ea[i], eb[i])) return false;
        return true;
    }

    private static bool IsWord(string s) => s.Length >= 2 && s.All(char.IsAsciiLetter);

    /// <summary>Splits "(a,b]" into [a, b] with its brackets; commas inside nested groups do not split.</summary>
    private static List<string> SplitTopLevel(string s, out char open, out char close)
    {
        open = close = '\0';
        if (s.Length >= 2 && s[0] is '(' or '[' && s[^1] is ')' or ']') { open = s[0]; close = s[^1]; s = s[1..^1]; }
        else if (s.StartsWith(@"\{") && s.EndsWith(@"\}")) { open = '{'; close = '}'; s = s[2..^2]; }
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
            else if (c == ',' && depth == 0) { parts.Add(s[start..i]); start = i + 1; }
        }
        parts.Add(s[start..]);
        return parts;
    }

    private readonly record struct Rational(BigInteger Num, BigInteger Den);

    [GeneratedRegex(@"^([-+]?)(\d*)(?:\.(\d+))?$")] private static partial Regex DecimalNumber();
    [GeneratedRegex(@"^([-+]?)\\frac\{([-+]?)(\d+)\}\{([-+]?)(\d+)\}$")] private static partial Regex FracNumber();

    /// <summary>Exact value of an integer, a decimal or \frac{p}{q} of integers (with signs).</summary>
    private static bool TryRational(string s, out Rational r)
    {
        r = default;
        var d = DecimalNumber().Match(s);
        if (d.Success && (d.Groups[2].Length > 0 || d.Groups[3].Length > 0))
        {
            var digits = d.Groups[2].Value + d.Groups[3].Value;
            if (digits.Length > 200) return false;
            var num = BigInteger.Parse(digits.Length == 0 ? "0" : digits, CultureInfo.InvariantCulture);
            var den = BigInteger.Pow(10, d.Groups[3].Length);
            r = new Rational(d.Groups[1].Value == "-" ? -num : num, den);
            return true;
        }
        var f = FracNumber().Match(s);
        if (f.Success && f.Groups[3].Length <= 100 && f.Groups[5].Length <= 100)
        {
            var num = BigInteger.Parse(f.Groups[3].Value, CultureInfo.InvariantCulture);
            var den = BigInteger.Parse(f.Groups[5].Value, CultureInfo.InvariantCulture);
            if (den.IsZero) return false;
            int negatives = (f.Groups[1].Value == "-" ? 1 : 0) + (f.Groups[2].Value == "-" ? 1 : 0) + (f.Groups[4].Value == "-" ? 1 : 0);
            r = new Rational(negatives % 2 == 1 ? -num : num, den);
            return true;
        }
        return false;
    }
}
