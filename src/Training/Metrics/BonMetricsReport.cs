// The `metrics bon <samples.jsonl> --json` report (issue #3 item 8) and the samples import format it reads.
// JSON shape, exactly: {"n_prompts": P, "n": n, "k": [1..n], "pass_at_k": [...], "bon_at_k": [...], "maj_at_k": [...]}
// with dataset means over prompts aligned to k.
using System.Text.Json;
using System.Text.Json.Serialization;
using BonStudio.Training.Tasks;

namespace BonStudio.Training.Metrics;

/// <summary>One line of the samples import format. Answer null = no answer was extracted.</summary>
public sealed record SampleRecord(int LineNumber, string PromptId, string Prompt, string Response, string? Answer,
    bool Correct, double Score, string? Model, double? Temperature);

public static class SamplesJsonl
{
    /// <summary>
    /// Reads lines {"prompt_id", "prompt", "response", "answer", "correct", "score", optional "model", "temperature"}.
    /// prompt_id may be a string or a number; answer must be present (string or null); correct is a boolean (or 0/1);
    /// score a finite number. Any malformed line throws <see cref="JsonlFormatException"/> with its line number.
    /// </summary>
    public static List<SampleRecord> Read(TextReader reader) => Jsonl.ReadAll(reader, (o, line) =>
    {
        if (!o.TryGetProperty("answer", out _))
            throw new JsonlFormatException(line, "field 'answer' is missing (use null when no answer was extracted)");
        return new SampleRecord(line,
            Jsonl.RequiredId(o, "prompt_id", line),
            Jsonl.RequiredString(o, "prompt", line),
            Jsonl.RequiredString(o, "response", line),
            Jsonl.OptionalString(o, "answer", line),
            Jsonl.RequiredBool(o, "correct", line),
            Jsonl.RequiredDouble(o, "score", line),
            Jsonl.OptionalString(o, "model", line),
            Jsonl.OptionalDouble(o, "temperature", line));
    });

    /// <summary>
    /// Groups records by prompt_id (in order of first appearance). Refuses, naming the line: one prompt_id with two
    /// different prompt texts, several models or temperatures in one file, and prompts with different n.
    /// </summary>
    public static List<PromptSamples> GroupByPrompt(IReadOnlyList<SampleRecord> records)
    {
        if (records.Count == 0) throw new JsonlFormatException(0, "the file has no samples");
        var first = records[0];
        var groups = new Dictionary<string, List<SampleRecord>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var r in records)
        {
            if (r.Model != first.Model)
                throw new JsonlFormatException(r.LineNumber, $"model '{r.Model}' differs from '{first.Model}' on line {first.LineNumber}; one file must hold one model");
            if (r.Temperature != first.Temperature)
                throw new JsonlFormatException(r.LineNumber, $"temperature {r.Temperature} differs from {first.Temperature} on line {first.LineNumber}; one file must hold one temperature");
            if (!groups.TryGetValue(r.PromptId, out var list)) { groups[r.PromptId] = list = []; order.Add(r.PromptId); }
            else if (list[0].Prompt != r.Prompt)
                throw new JsonlFormatException(r.LineNumber, $"prompt_id '{r.PromptId}' has a different prompt text than on line {list[0].LineNumber}");
            list.Add(r);
        }
        var firstGroup = groups[order[0]];
        foreach (var id in order)
        {
            var g = groups[id];
            if (g.Count != firstGroup.Count)
                throw new JsonlFormatException(g[^1].LineNumber,
                    $"prompt_id '{id}' has {g.Count} samples but prompt_id '{order[0]}' has {firstGroup.Count}; every prompt needs the same n");
        }
        return order.Select(id =>
        {
            var g = groups[id];
            return new PromptSamples(id, g.Select(r => r.Correct).ToArray(), g.Select(r => r.Score).ToArray(), g.Select(r => r.Answer).ToArray());
        }).ToList();
    }
}

/// <summary>The CLI report; serialise with <see cref="ToJson"/> (or System.Text.Json directly: the names are fixed).</summary>
public sealed record BonMetricsReport(
    [property: JsonPropertyName("n_prompts")] int NPrompts,
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("k")] IReadOnlyList<int> K,
    [property: JsonPropertyName("pass_at_k")] IReadOnlyList<double> PassAtK,
    [property: JsonPropertyName("bon_at_k")] IReadOnlyList<double> BonAtK,
    [property: JsonPropertyName("maj_at_k")] IReadOnlyList<double> MajAtK)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static BonMetricsReport From(DatasetBonMetrics d) => new(d.NPrompts, d.N,
        Enumerable.Range(1, d.N).ToArray(),
        d.PassAtK.Select(x => x.Mean).ToArray(),
        (d.BonAtK ?? throw new ArgumentException("BoN@k needs scores")).Select(x => x.Mean).ToArray(),
        (d.MajAtK ?? throw new ArgumentException("maj@k needs answers")).Select(x => x.Mean).ToArray());

    /// <summary>Reads a samples JSONL file and computes the dataset report (nothing is stored).</summary>
    public static BonMetricsReport FromJsonl(TextReader reader, BonMetricsOptions? options = null) =>
        From(DatasetFromJsonl(reader, options));

    /// <summary>The full dataset metrics (intervals, maj@k method) of a samples JSONL file.</summary>
    public static DatasetBonMetrics DatasetFromJsonl(TextReader reader, BonMetricsOptions? options = null)
    {
        var prompts = SamplesJsonl.GroupByPrompt(SamplesJsonl.Read(reader));
        return BonMetrics.Aggregate(prompts.Select(p => BonMetrics.ForPrompt(p, options)).ToArray());
    }
}
