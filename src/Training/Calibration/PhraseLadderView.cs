// The phrase ladder as calibration-SFT uses it: built from the editable "phrase=probability" config entries,
// nearest phrase for a confidence, and exact lookup of an emitted phrase.
// TODO(merge tasks): delegate to Metrics/PhraseLadder (the shared module) once it is in main; this file is the only
// place calibration code touches the ladder, so the swap stays local.
using System.Globalization;

namespace BonStudio.Training.Calibration;

public sealed class PhraseLadderView
{
    /// <summary>methods.md §3's default ladder (medians of a public 123-person survey), most confident first.</summary>
    public static IReadOnlyList<string> DefaultEntries { get; } =
    [
        "almost certain=0.95", "highly likely=0.90", "very good chance=0.80", "likely=0.70", "better than even=0.60",
        "about even=0.50", "probably not=0.25", "unlikely=0.20", "little chance=0.10", "highly unlikely=0.05", "almost no chance=0.02",
    ];

    /// <summary>Phrases with their probabilities, most confident first.</summary>
    public IReadOnlyList<(string Phrase, double Probability)> Entries { get; }

    private PhraseLadderView(List<(string, double)> entries) => Entries = entries;

    public static PhraseLadderView Default { get; } = Parse(DefaultEntries, "default ladder");

    /// <summary>Parses "phrase=probability" entries; <paramref name="field"/> names the config field in errors.</summary>
    public static PhraseLadderView Parse(IReadOnlyList<string> entries, string field = "Ladder")
    {
        if (entries is null || entries.Count < 2) throw new ArgumentException($"{field}: a ladder needs at least two \"phrase=probability\" entries.");
        var list = new List<(string, double)>();
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
            if (list.Any(x => string.Equals(x.Item1, phrase, StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException($"{field}[{i}]: phrase '{phrase}' appears twice.");
            list.Add((phrase, p));
        }
        return new PhraseLadderView(list.OrderByDescending(x => x.Item2).ToList());
    }

    /// <summary>The phrase whose probability is closest to <paramref name="confidence"/>; on a tie the less confident one
    /// (an overconfident label is the costlier mistake).</summary>
    public (string Phrase, double Probability) Nearest(double confidence)
    {
        if (!(confidence is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must be in [0, 1].");
        (string, double) best = Entries[0];
        double bestGap = double.PositiveInfinity;
        foreach (var e in Entries) // most confident first, so "<=" moves ties to the less confident phrase
        {
            double gap = Math.Abs(e.Probability - confidence);
            if (gap <= bestGap + 1e-12) { best = e; bestGap = Math.Min(gap, bestGap); }
        }
        return best;
    }

    /// <summary>The ladder entry spelled <paramref name="phrase"/> (case-insensitive), or null.</summary>
    public (string Phrase, double Probability)? Find(string phrase)
    {
        foreach (var e in Entries)
            if (string.Equals(e.Phrase, phrase.Trim(), StringComparison.OrdinalIgnoreCase)) return e;
        return null;
    }

    public (string Phrase, double Probability) Top => Entries[0];
}
