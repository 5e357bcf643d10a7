// The ladder of probability phrases for linguistic uncertainty (methods.md §3): confidence → nearest phrase
// (to build "answer + phrase" training data) and emitted text → phrase → probability (to score it).
// Default: medians of a public 123-person survey of probability words. Editable: build one from any list.
// Parsing is case-insensitive and ignores punctuation; phrases match whole words; where matches overlap the
// longest phrase wins ("highly unlikely" over "unlikely"), and of several separate phrases the last one in the
// text counts (models put the phrase after the answer). Unknown text → null, which callers count as unparseable.
// Known limitation: negations outside the ladder ("not likely") are read as the phrase they contain.
using System.Text;

namespace BonStudio.Training.Metrics;

public sealed record LadderPhrase(string Phrase, double Probability);

public sealed class PhraseLadder
{
    public static PhraseLadder Default { get; } = new([
        new("almost certain", 0.95), new("highly likely", 0.90), new("very good chance", 0.80), new("likely", 0.70),
        new("better than even", 0.60), new("about even", 0.50), new("probably not", 0.25), new("unlikely", 0.20),
        new("little chance", 0.10), new("highly unlikely", 0.05), new("almost no chance", 0.02),
    ]);

    private readonly (string Normalized, LadderPhrase Phrase)[] _byLengthDesc;

    public IReadOnlyList<LadderPhrase> Phrases { get; }

    public PhraseLadder(IEnumerable<LadderPhrase> phrases)
    {
        Phrases = phrases?.ToList() ?? throw new ArgumentNullException(nameof(phrases));
        if (Phrases.Count == 0) throw new ArgumentException("a ladder needs at least one phrase", nameof(phrases));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in Phrases)
        {
            var n = NormalizeText(p.Phrase ?? "");
            if (n.Length == 0) throw new ArgumentException($"phrase '{p.Phrase}' has no words", nameof(phrases));
            if (!(p.Probability is >= 0 and <= 1)) throw new ArgumentException($"phrase '{p.Phrase}': probability {p.Probability} is outside [0, 1]", nameof(phrases));
            if (!seen.Add(n)) throw new ArgumentException($"phrase '{p.Phrase}' appears twice", nameof(phrases));
        }
        _byLengthDesc = Phrases.Select(p => (NormalizeText(p.Phrase), p)).OrderByDescending(x => x.Item1.Length).ToArray();
    }

    /// <summary>The phrase whose probability is nearest to <paramref name="confidence"/>; a tie goes to the less confident phrase.</summary>
    public LadderPhrase Nearest(double confidence)
    {
        if (!(confidence is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be in [0, 1]");
        LadderPhrase best = Phrases[0];
        foreach (var p in Phrases)
        {
            double d = Math.Abs(p.Probability - confidence), bestD = Math.Abs(best.Probability - confidence);
            if (d < bestD || (d == bestD && p.Probability < best.Probability)) best = p;
        }
        return best;
    }

    /// <summary>The ladder phrase a model emitted in <paramref name="text"/>, or null when there is none.</summary>
    public LadderPhrase? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var padded = " " + NormalizeText(text) + " ";
        var taken = new bool[padded.Length];
        (int Start, LadderPhrase Phrase)? last = null;
        foreach (var (normalized, phrase) in _byLengthDesc) // longest first: shorter phrases cannot claim covered words
        {
            var needle = " " + normalized + " ";
            for (int at = padded.IndexOf(needle, StringComparison.Ordinal); at >= 0; at = padded.IndexOf(needle, at + 1, StringComparison.Ordinal))
            {
                int from = at + 1, to = at + needle.Length - 1;
                bool free = true;
                for (int i = from; i < to && free; i++) free = !taken[i];
                if (!free) continue;
                for (int i = from; i < to; i++) taken[i] = true;
                if (last is null || from > last.Value.Start) last = (from, phrase);
            }
        }
        return last?.Phrase;
    }

    /// <summary>The probability of the phrase in <paramref name="text"/>, or null when no ladder phrase is found.</summary>
    public double? ToProbability(string? text) => Parse(text)?.Probability;

    /// <summary>Lower case, every run of non-letters/digits (punctuation, hyphens, line breaks) becomes one space.</summary>
    private static string NormalizeText(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool space = true;
        foreach (var ch in text.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(ch)) { sb.Append(ch); space = false; }
            else if (!space) { sb.Append(' '); space = true; }
        }
        return sb.ToString().TrimEnd();
    }
}
