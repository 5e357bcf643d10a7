// The uncertainty-augmented answer format of calibration-SFT (methods.md §3, paper 2):
//
//   <question>\nA: 17+25=42; 42-9=33 #### 33\nConf: likely
//
// The phrase sits on its own line after the answer (a short, distinct marker: easy for a small character model), so MiniMath's strict checker (which reads only the "####" line)
// grades the answer exactly as before, and the phrase is found by its marker, never by guessing in free text.
namespace BonStudio.Training.Calibration;

/// <summary>What was found on the confidence line of a response.</summary>
/// <param name="Phrase">The ladder phrase as written in the ladder, or null when unparseable.</param>
/// <param name="Probability">Its probability on the ladder, or null when unparseable.</param>
/// <param name="Raw">The text after the marker (trimmed), or null when there is no marker.</param>
public sealed record ParsedPhrase(string? Phrase, double? Probability, string? Raw)
{
    public bool Parsed => Phrase is not null;
}

public static class LinguisticFormat
{
    /// <summary>Starts the line that carries the phrase.</summary>
    public const string Marker = "\nConf: ";

    /// <summary>The completion to train on: the model's own response (trailing whitespace removed) + the phrase line.</summary>
    public static string Completion(string response, string phrase)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (string.IsNullOrWhiteSpace(phrase)) throw new ArgumentException("the phrase is empty.", nameof(phrase));
        return response.TrimEnd() + Marker + phrase;
    }

    /// <summary>The response without its confidence line (what the answer checker should see).</summary>
    public static string AnswerPart(string text)
    {
        int at = text.IndexOf(Marker, StringComparison.Ordinal);
        return at < 0 ? text : text[..at];
    }

    /// <summary>Reads the phrase after the LAST marker up to the end of that line and looks it up in
    /// <paramref name="ladder"/> (case, spacing and punctuation ignored; the line must be exactly one ladder phrase).
    /// A missing marker, an empty line or anything else on the line is unparseable.</summary>
    public static ParsedPhrase Parse(string text, PhraseLadderView ladder)
    {
        ArgumentNullException.ThrowIfNull(text);
        int at = text.LastIndexOf(Marker, StringComparison.Ordinal);
        if (at < 0) return new ParsedPhrase(null, null, null);
        int start = at + Marker.Length;
        int end = text.IndexOf('\n', start);
        var raw = (end < 0 ? text[start..] : text[start..end]).Trim();
        var hit = ladder.Find(raw);
        return hit is { } h ? new ParsedPhrase(h.Phrase, h.Probability, raw) : new ParsedPhrase(null, null, raw);
    }
}
