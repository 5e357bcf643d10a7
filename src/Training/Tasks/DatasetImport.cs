// Import of real data sets as JSONL into a neutral DatasetItem (design.md "Dataset / Problem").
//   gsm8k: {"question", "answer"}                  answer = worked solution ending "#### N"
//   math:  {"problem", "solution", "answer"?, "level"?, "subject"?, "unique_id"?}  answer = last \boxed{} if absent
//   qa:    {"question", "answers": [..]} (or "answer": "..."), optional "id"/"question_id"
//   humaneval: {"task_id", "prompt", "canonical_solution", "test", "entry_point"}  checked by running code (HumanEval.cs)
// Any malformed line rejects the whole file (JsonlFormatException with its line number); nothing is half-imported.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BonStudio.Training.Tasks.Answers;

namespace BonStudio.Training.Tasks;

/// <summary>
/// One imported problem. <see cref="Reference"/> is what <see cref="Grader.Grade(string,string,string)"/> takes
/// (for qa a JSON array of the accepted answers); <see cref="ContentHash"/> is SHA-256 (hex) of format, prompt and reference.
/// </summary>
public sealed record DatasetItem(string Id, string Format, string Prompt, string Reference,
    IReadOnlyList<string> AcceptedAnswers, string? Solution, int? Difficulty, string? Subject, string ContentHash);

public static class DatasetImport
{
    public static IReadOnlyList<string> Formats { get; } = ["gsm8k", "math", "qa", HumanEval.Format];

    public static List<DatasetItem> Read(TextReader reader, string format)
    {
        Func<JsonElement, int, DatasetItem> parse = format?.ToLowerInvariant() switch
        {
            "gsm8k" => ParseGsm8k,
            "math" => ParseMath,
            "qa" => ParseQa,
            HumanEval.Format => HumanEval.Parse,
            _ => throw new ArgumentException($"unknown data set format '{format}'; expected gsm8k, math, qa or humaneval", nameof(format)),
        };
        var items = Jsonl.ReadAll(reader, (o, line) => (Line: line, Item: parse(o, line)));
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, item) in items)
            if (!firstLine.TryAdd(item.Id, line))
                throw new JsonlFormatException(line, $"duplicate id '{item.Id}' (first on line {firstLine[item.Id]})");
        return items.Select(x => x.Item).ToList();
    }

    private static DatasetItem ParseGsm8k(JsonElement o, int line)
    {
        var question = NonBlank(Jsonl.RequiredString(o, "question", line), "question", line);
        var solution = Jsonl.RequiredString(o, "answer", line);
        if (!solution.Contains("####", StringComparison.Ordinal))
            throw new JsonlFormatException(line, "field 'answer' has no '#### <final answer>' line");
        var reference = Gsm8kChecker.Instance.ExtractReferences(solution) is [var r] ? r
            : throw new JsonlFormatException(line, "field 'answer' has nothing after '####'");
        var hash = Hash("gsm8k", question, reference);
        var id = OptionalId(o, line) ?? $"gsm8k-{hash[..16]}";
        return new DatasetItem(id, "gsm8k", question, reference, [reference], solution, null, null, hash);
    }

    private static DatasetItem ParseMath(JsonElement o, int line)
    {
        var problem = NonBlank(Jsonl.RequiredString(o, "problem", line), "problem", line);
        var solution = Jsonl.OptionalString(o, "solution", line);
        var answer = Jsonl.OptionalString(o, "answer", line);
        if (answer is null)
        {
            if (solution is null) throw new JsonlFormatException(line, "needs 'answer' or a 'solution' with \\boxed{...}");
            answer = MathChecker.LastBoxed(solution)
                ?? throw new JsonlFormatException(line, "field 'solution' has no complete \\boxed{...} and there is no 'answer'");
        }
        NonBlank(answer, "answer", line);
        int? level = Jsonl.OptionalInt(o, "level", line);
        var hash = Hash("math", problem, answer);
        var id = Jsonl.OptionalString(o, "unique_id", line) ?? OptionalId(o, line) ?? $"math-{hash[..16]}";
        return new DatasetItem(id, "math", problem, answer, [answer], solution, level, Jsonl.OptionalString(o, "subject", line), hash);
    }

    private static DatasetItem ParseQa(JsonElement o, int line)
    {
        var question = NonBlank(Jsonl.RequiredString(o, "question", line), "question", line);
        IReadOnlyList<string> answers = o.TryGetProperty("answers", out _)
            ? Jsonl.RequiredStringArray(o, "answers", line)
            : o.TryGetProperty("answer", out _) ? [Jsonl.RequiredString(o, "answer", line)]
            : throw new JsonlFormatException(line, "needs 'answers' (array of strings) or 'answer'");
        foreach (var a in answers) NonBlank(a, "answers", line);
        var reference = JsonSerializer.Serialize(answers);
        var hash = Hash("qa", question, reference);
        var id = OptionalId(o, line) ?? $"qa-{hash[..16]}";
        return new DatasetItem(id, "qa", question, reference, answers, null, Jsonl.OptionalInt(o, "difficulty", line), null, hash);
    }

    /// <summary>A generated MiniMath problem as a data set item (reference = its answer, difficulty = its level).</summary>
    public static DatasetItem FromMiniMath(MathProblem p) =>
        new(p.Id, "minimath", MiniMath.Prompt(p), p.Answer, [p.Answer], MiniMath.Completion(p), p.Level, null,
            Hash("minimath", MiniMath.Prompt(p), p.Answer));

    private static string? OptionalId(JsonElement o, int line) =>
        o.TryGetProperty("id", out _) ? Jsonl.RequiredId(o, "id", line)
        : o.TryGetProperty("question_id", out _) ? Jsonl.RequiredId(o, "question_id", line)
        : null;

    private static string NonBlank(string value, string field, int line) =>
        string.IsNullOrWhiteSpace(value) ? throw new JsonlFormatException(line, $"field '{field}' is empty") : value;

    private static string Hash(string format, string prompt, string reference) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{format}\n{prompt}\n{reference}")));
}
