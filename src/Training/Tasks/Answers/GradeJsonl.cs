// The `grade <file.jsonl> --format gsm8k|math|qa|minimath --json` workload (issue #3 item 9): lines
// {"id", "reference", "response"} → {"id", "extracted", "correct"} with the same checkers as evaluations.
// The whole file is read and validated before anything is graded, so a bad line yields no output at all.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BonStudio.Training.Tasks.Answers;

public sealed record GradeInput(int LineNumber, string Id, string Reference, string Response);

public sealed record GradeLine(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("extracted")] string? Extracted,
    [property: JsonPropertyName("correct")] bool Correct)
{
    public string ToJson() => JsonSerializer.Serialize(this);
}

public static class GradeJsonl
{
    public static List<GradeInput> Read(TextReader reader) => Jsonl.ReadAll(reader, (o, line) =>
        new GradeInput(line, Jsonl.RequiredId(o, "id", line), Jsonl.RequiredString(o, "reference", line), Jsonl.RequiredString(o, "response", line)));

    /// <summary>Grades every line of a file; throws JsonlFormatException (before grading anything) on a malformed line.</summary>
    public static List<GradeLine> Grade(TextReader reader, string format)
    {
        var checker = Grader.For(format);
        return Read(reader).Select(x =>
        {
            var r = Grader.Grade(checker, x.Reference, x.Response);
            return new GradeLine(x.Id, r.Extracted, r.Correct);
        }).ToList();
    }
}
