// HumanEval-format code tasks as an importable data set (issue #9 item 4): JSONL lines
// {"task_id", "prompt", "canonical_solution", "test", "entry_point"} (Chen et al. 2021). Stored like the other
// formats as DatasetItem/Problem rows: prompt = the function header and docstring the model continues,
// solution = canonical_solution, reference = {"entry_point", "test"} as JSON (what the code checker needs).
// The checker is CodeVerifier (a sandboxed python3), never the answer graders.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BonStudio.Training.Verifiers;

namespace BonStudio.Training.Tasks;

public static class HumanEval
{
    public const string Format = "humaneval";

    /// <summary>Parses one JSONL line; every field is a required string and entry_point a Python identifier.</summary>
    public static DatasetItem Parse(JsonElement o, int line)
    {
        var id = Jsonl.RequiredString(o, "task_id", line);
        if (string.IsNullOrWhiteSpace(id)) throw new JsonlFormatException(line, "field 'task_id' is empty");
        var prompt = Jsonl.RequiredString(o, "prompt", line);
        if (string.IsNullOrWhiteSpace(prompt)) throw new JsonlFormatException(line, "field 'prompt' is empty");
        var solution = Jsonl.RequiredString(o, "canonical_solution", line);
        var test = Jsonl.RequiredString(o, "test", line);
        if (string.IsNullOrWhiteSpace(test)) throw new JsonlFormatException(line, "field 'test' is empty");
        var entryPoint = Jsonl.RequiredString(o, "entry_point", line);
        try { CodeVerifier.CheckEntryPoint(entryPoint, "entry_point"); }
        catch (InvalidDataException e) { throw new JsonlFormatException(line, e.Message); }
        var reference = Reference(entryPoint, test);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Format}\n{prompt}\n{reference}")));
        return new DatasetItem(id, Format, prompt, reference, [], solution, null, null, hash);
    }

    /// <summary>Where Chen et al. (2021) cut a completion: the function body ends at the first top-level statement.</summary>
    public static IReadOnlyList<string> StopSequences { get; } = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"];

    /// <summary>The completion up to the first <see cref="StopSequences"/> match.</summary>
    public static string Truncate(string completion)
    {
        int cut = completion.Length;
        foreach (var stop in StopSequences)
        {
            int at = completion.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && at < cut) cut = at;
        }
        return completion[..cut];
    }

    /// <summary>The stored reference of a task: its tests and entry point as a JSON object.</summary>
    public static string Reference(string entryPoint, string test) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["entry_point"] = entryPoint, ["test"] = test });

    /// <summary>Rebuilds the task from a stored problem (<paramref name="reference"/> as written by <see cref="Reference"/>).</summary>
    public static CodeTask ToTask(string taskId, string prompt, string reference, string? canonicalSolution)
    {
        try
        {
            using var doc = JsonDocument.Parse(reference);
            string Field(string name) => doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()! : throw new InvalidDataException($"problem {taskId}: stored reference lacks '{name}' (not a HumanEval task?).");
            var task = new CodeTask(taskId, prompt, canonicalSolution ?? "", Field("test"), Field("entry_point"));
            CodeVerifier.CheckEntryPoint(task.EntryPoint, $"problem {taskId}");
            return task;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"problem {taskId}: stored reference is not a HumanEval test object ({e.Message}).", e);
        }
    }
}
