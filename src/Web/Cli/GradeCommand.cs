// `grade <file.jsonl> --format gsm8k|math|qa [--json]`: grades any model's outputs with the same checker as evaluations.
// Input lines {"id", "reference", "response"} (reference = the reference answer or full solution; qa: a string or a list);
// output one JSON line per input {"id", "extracted", "correct"}. Touches no database and no server.
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using BonStudio.Training.Tasks;
using BonStudio.Training.Tasks.Answers;

namespace BonStudio.Web.Cli;

public static class GradeCommand
{
    /// <summary>One output line.</summary>
    public sealed record GradeLine(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("extracted")] string? Extracted,
        [property: JsonPropertyName("correct")] bool Correct);

    // Output goes to a terminal or a pipe, not into HTML: keep non-ASCII and LaTeX readable.
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var file = new Argument<FileInfo>("file.jsonl") { Description = "Lines {\"id\", \"reference\", \"response\"}" };
        var format = new Option<string>("--format") { Description = "Answer format: gsm8k, math, qa (or minimath)", Required = true };
        format.AcceptOnlyFromAmong([.. Grader.Formats]);
        var json = new Option<bool>("--json") { Description = "One JSON line per input: {\"id\", \"extracted\", \"correct\"}" };
        var cmd = new Command("grade", "Extract and check the answers of responses with the evaluations' checker; nothing is stored.") { file, format, json };
        cmd.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(file)!;
            if (!path.Exists) { error.WriteLine($"grade: {path.FullName} does not exist"); return 2; }
            var checker = Grader.For(parse.GetValue(format)!);
            List<GradeLine> lines;
            try
            {
                using var reader = new StreamReader(path.FullName);
                lines = Jsonl.ReadAll(reader, (o, line) =>
                {
                    var id = Jsonl.RequiredId(o, "id", line);
                    var reference = o.TryGetProperty("reference", out var r) && r.ValueKind == JsonValueKind.Array
                        ? r.GetRawText() // a list of accepted answers (qa)
                        : Jsonl.RequiredString(o, "reference", line);
                    var response = Jsonl.RequiredString(o, "response", line);
                    var g = Grader.Grade(checker, reference, response);
                    return new GradeLine(id, g.Extracted, g.Correct);
                });
            }
            catch (JsonlFormatException e)
            {
                error.WriteLine($"grade: {path.Name}: {e.Message}");
                return 2;
            }
            bool asJson = parse.GetValue(json);
            foreach (var l in lines)
                output.WriteLine(asJson ? JsonSerializer.Serialize(l, Json) : $"{l.Id}\t{(l.Correct ? "correct" : "wrong")}\t{l.Extracted}");
            if (!asJson) output.WriteLine($"{lines.Count(l => l.Correct)}/{lines.Count} correct");
            return 0;
        });
        return cmd;
    }
}
