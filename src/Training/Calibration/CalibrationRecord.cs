// The raw output of calibration runs: one (confidence, correct) pair per question and confidence source, sent through
// ICalibrationSink as it is produced. The web stores them as CalibrationPoint rows; the CLI and the study write JSONL.
// Metrics are never stored here: they are recomputed from these pairs with the estimator the viewer picks.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BonStudio.Training.Calibration;

/// <summary>One raw calibration pair.</summary>
/// <param name="Source">Confidence source: "p-true", "consistency", "likelihood", "phrase", "phrase-ladder", "{source}-ladder",
/// "always-confident", "constant-train-accuracy" (see <see cref="ConfidenceSources"/>).</param>
/// <param name="QuestionKey">Stable id of the question (MiniMath content hash).</param>
/// <param name="Confidence">Confidence in [0, 1] that <paramref name="Answer"/> is correct.</param>
/// <param name="Correct">The checker's verdict on the answer.</param>
/// <param name="Phrase">The uncertainty phrase emitted or assigned, if any.</param>
/// <param name="Answer">The model's extracted final answer (null when it gave none).</param>
/// <param name="Level">MiniMath level of the question (null for other tasks).</param>
public sealed record CalibrationRecord(string Source, string QuestionKey, double Confidence, bool Correct,
    string? Phrase = null, string? Answer = null, int? Level = null);

/// <summary>Where a calibration run sends its raw pairs. Called from the run's thread only.</summary>
public interface ICalibrationSink
{
    /// <summary>Adds a batch of pairs (all of one source, in question order).</summary>
    void Add(IReadOnlyList<CalibrationRecord> records);
}

/// <summary>Keeps the pairs in memory (tests, and callers that summarise afterwards).</summary>
public sealed class MemoryCalibrationSink : ICalibrationSink
{
    public List<CalibrationRecord> Records { get; } = [];
    public void Add(IReadOnlyList<CalibrationRecord> records) => Records.AddRange(records);
    public IReadOnlyList<CalibrationRecord> OfSource(string source) => Records.Where(r => r.Source == source).ToList();
}

/// <summary>Appends pairs as JSON lines: {"source", "question_id", "confidence", "correct", "phrase", "answer", "level"}
/// (the same field names the `import calibration` JSONL uses, so a study's files can be imported).</summary>
public sealed class JsonlCalibrationSink(string path) : ICalibrationSink
{
    private static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Path { get; } = path;

    public void Add(IReadOnlyList<CalibrationRecord> records)
    {
        using var writer = new StreamWriter(Path, append: true);
        foreach (var r in records) writer.WriteLine(ToJson(r));
    }

    public static string ToJson(CalibrationRecord r) => JsonSerializer.Serialize(new Line(r.Source, r.QuestionKey, r.Confidence, r.Correct, r.Phrase, r.Answer, r.Level), Options);

    /// <summary>Reads a file written by this sink; a bad line is reported with its number.</summary>
    public static List<CalibrationRecord> Read(string path)
    {
        var result = new List<CalibrationRecord>();
        int lineNumber = 0;
        foreach (var text in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            Line? line;
            try { line = JsonSerializer.Deserialize<Line>(text, Options); }
            catch (JsonException ex) { throw new InvalidDataException($"{path}:{lineNumber}: not a calibration record ({ex.Message}).", ex); }
            if (line is null || line.source is null || line.question_id is null)
                throw new InvalidDataException($"{path}:{lineNumber}: a calibration record needs source and question_id.");
            if (!(line.confidence is >= 0 and <= 1))
                throw new InvalidDataException($"{path}:{lineNumber}: confidence {line.confidence.ToString(CultureInfo.InvariantCulture)} is outside [0, 1].");
            result.Add(new CalibrationRecord(line.source, line.question_id, line.confidence, line.correct, line.phrase, line.answer, line.level));
        }
        return result;
    }

    // JSON field names of the import format (snake_case).
    private sealed record Line(string source, string question_id, double confidence, bool correct, string? phrase, string? answer, int? level);
}
