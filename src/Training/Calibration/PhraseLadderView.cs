// The phrase ladder as calibration-SFT configures it: the editable "phrase=probability" config entries turned into
// the shared Metrics/PhraseLadder (nearest phrase, parsing), plus exact lookup of the phrase on a confidence line.
using System.Globalization;
using BonStudio.Training.Metrics;

namespace BonStudio.Training.Calibration;

public sealed class PhraseLadderView
{
    /// <summary>The shared ladder this view wraps.</summary>
    public PhraseLadder Ladder { get; }

    /// <summary>Phrases with their probabilities, most confident first.</summary>
    public IReadOnlyList<(string Phrase, double Probability)> Entries { get; }

    private PhraseLadderView(PhraseLadder ladder)
    {
        Ladder = ladder;
        Entries = ladder.Phrases.OrderByDescending(p => p.Probability).Select(p => (p.Phrase, p.Probability)).ToList();
    }

    /// <summary>methods.md §3's default ladder as config entries ("phrase=probability"), most confident first.</summary>
    public static IReadOnlyList<string> DefaultEntries { get; } =
        PhraseLadder.Default.Phrases.Select(p => $"{p.Phrase}={p.Probability.ToString("0.00", CultureInfo.InvariantCulture)}").ToList();

    public static PhraseLadderView Default { get; } = new(PhraseLadder.Default);

    /// <summary>Parses "phrase=probability" entries; <paramref name="field"/> names the config field in errors.</summary>
    public static PhraseLadderView Parse(IReadOnlyList<string> entries, string field = "Ladder")
    {
        if (entries is null || entries.Count < 2) throw new ArgumentException($"{field}: a ladder needs at least two \"phrase=probability\" entries.");
        var phrases = new List<LadderPhrase>();
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i] ?? "";
            int eq = e.LastIndexOf('=');
            if (eq <= 0) throw new ArgumentException($"{field}[{i}]: '{e}' is not \"phrase=probability\".");
            var phrase = e[..eq].Trim();
            if (phrase.Length == 0 || phrase.Contains('\n'))
                throw new ArgumentException($"{field}[{i}]: the phrase of '{e}' is empty or spans lines.");
            if (!double.TryParse(e[(eq + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) || !(p is >= 0 and <= 1))
                throw new ArgumentException($"{field}[{i}]: the probability of '{e}' is not a number in [0, 1].");
            phrases.Add(new LadderPhrase(phrase, p));
        }
        try { return new PhraseLadderView(new PhraseLadder(phrases)); }
        catch (ArgumentException ex) { throw new ArgumentException($"{field}: {ex.Message}", ex); }
    }

    /// <summary>The phrase whose probability is closest to <paramref name="confidence"/>; a tie goes to the less confident one.</summary>
    public (string Phrase, double Probability) Nearest(double confidence)
    {
        var p = Ladder.Nearest(confidence);
        return (p.Phrase, p.Probability);
    }

    /// <summary>The ladder phrase in <paramref name="text"/> when the text is that phrase and nothing else (case, spacing
    /// and punctuation ignored, as the shared parser normalises them), or null. Calibration-SFT reads only its own
    /// confidence line, so extra words there ("not likely") make the output unparseable instead of being guessed at.</summary>
    public (string Phrase, double Probability)? Find(string text)
    {
        var hit = Ladder.Parse(text);
        if (hit is null) return null;
        return Normalize(text) == Normalize(hit.Phrase) ? (hit.Phrase, hit.Probability) : null;
    }

    public (string Phrase, double Probability) Top => Entries[0];

    private static string Normalize(string s) =>
        string.Join(' ', new string(s.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : ' ').ToArray())
            .Split(' ', StringSplitOptions.RemoveEmptyEntries));
}
