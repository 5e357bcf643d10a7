// Streamed exports (CSV and JSON, written as rows are read: AsNoTracking + AsAsyncEnumerable, no row cap, bounded
// memory) of the runs table, a run's metric points, its samples and its calibration pairs; and the run bundle
// (config + reproducibility record + final metrics) that `run bundle.json` re-runs.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Data;
using Microsoft.EntityFrameworkCore;

namespace BonStudio.Web.Services;

public enum ExportFormat { Csv, Json }

public sealed class ExportService(IDbContextFactory<BonStudioDb> dbFactory)
{
    public const int BundleFormat = 1;

    public static bool TryParseFormat(string? text, out ExportFormat format)
    {
        format = ExportFormat.Csv;
        if (string.IsNullOrEmpty(text) || text.Equals("csv", StringComparison.OrdinalIgnoreCase)) return true;
        if (text.Equals("json", StringComparison.OrdinalIgnoreCase)) { format = ExportFormat.Json; return true; }
        return false;
    }

    public async Task<bool> RunExistsAsync(int id, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Runs.AnyAsync(r => r.Id == id, ct);
    }

    /// <summary>The runs matching <paramref name="query"/> (filters and sort as the list; no paging).</summary>
    public async Task RunsAsync(RunQuery query, ExportFormat format, Stream output, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = RunListQuery.Sorted(db, RunListQuery.Filtered(db, query), query.Sort)
            .Select(r => new object?[] { r.Id, r.Name, r.Kind, r.Status.ToString(), r.Seed, r.Tags.Trim(','), r.Starred, r.ConfigHash, r.GroupHash, r.ParentRunId, r.CreatedAt, r.FinishedAt, r.ConfigJson })
            .AsAsyncEnumerable();
        await WriteAsync(["id", "name", "kind", "status", "seed", "tags", "starred", "configHash", "groupHash", "parentRunId", "createdAt", "finishedAt", "config"], rows, format, output, ct);
    }

    public async Task MetricsAsync(int runId, ExportFormat format, Stream output, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = db.MetricPoints.AsNoTracking().Where(m => m.RunId == runId).OrderBy(m => m.Name).ThenBy(m => m.Step)
            .Select(m => new object?[] { m.Name, m.Step, m.Value, m.WallTime }).AsAsyncEnumerable();
        await WriteAsync(["name", "step", "value", "wallTime"], rows, format, output, ct);
    }

    public async Task SamplesAsync(int runId, ExportFormat format, Stream output, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = (from set in db.SampleSets.AsNoTracking()
                    join s in db.Samples.AsNoTracking() on set.Id equals s.SampleSetId
                    where set.RunId == runId
                    orderby set.Id, s.Index
                    select new object?[] { set.PromptKey, set.Temperature, s.Index, s.Text, s.ExtractedAnswer, s.Correct, s.VerdictReason, s.TokenCount, s.LogProb, set.ReferenceAnswer })
            .AsAsyncEnumerable();
        await WriteAsync(["promptKey", "temperature", "index", "text", "extractedAnswer", "correct", "verdictReason", "tokenCount", "logProb", "referenceAnswer"], rows, format, output, ct);
    }

    public async Task CalibrationAsync(int runId, ExportFormat format, Stream output, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = db.CalibrationPoints.AsNoTracking().Where(c => c.RunId == runId).OrderBy(c => c.Id)
            .Select(c => new object?[] { c.Source, c.QuestionKey, c.Confidence, c.Correct, c.Phrase, c.Answer, c.ModelName }).AsAsyncEnumerable();
        await WriteAsync(["source", "questionKey", "confidence", "correct", "phrase", "answer", "modelName"], rows, format, output, ct);
    }

    /// <summary>A run request ({kind, name, config, tags, notes}) plus "bundle": the reproducibility record and final
    /// metrics. Null when the run does not exist.</summary>
    public async Task<JsonObject?> BundleAsync(int runId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var r = await db.Runs.AsNoTracking().FirstOrDefaultAsync(x => x.Id == runId, ct);
        if (r is null) return null;
        var metrics = await db.RunSummaries.AsNoTracking().Where(s => s.RunId == runId).OrderBy(s => s.Name).ToListAsync(ct);
        JsonNode? environment = null;
        if (r.EnvironmentJson is { } env)
            try { environment = JsonNode.Parse(env); } catch (JsonException) { environment = env; }
        return new JsonObject
        {
            ["kind"] = r.Kind,
            ["name"] = r.Name + " (reproduced)",
            ["config"] = JsonNode.Parse(r.ConfigJson),
            ["tags"] = new JsonArray(r.TagList.Select(t => (JsonNode?)t).ToArray()),
            ["notes"] = r.Notes,
            ["bundle"] = new JsonObject
            {
                ["format"] = BundleFormat,
                ["sourceRunId"] = r.Id,
                ["sourceName"] = r.Name,
                ["status"] = r.Status.ToString(),
                ["configHash"] = r.ConfigHash,
                ["groupHash"] = r.GroupHash,
                ["seed"] = r.Seed,
                ["device"] = r.Device,
                ["threads"] = r.Threads,
                ["worker"] = r.Worker,
                ["codeVersion"] = r.CodeVersion,
                ["environment"] = environment,
                ["createdAt"] = r.CreatedAt,
                ["finishedAt"] = r.FinishedAt,
                ["finalMetrics"] = new JsonObject(metrics.Select(m => KeyValuePair.Create(m.Name, (JsonNode?)m.Value))),
            },
        };
    }

    private static async Task WriteAsync(string[] header, IAsyncEnumerable<object?[]> rows, ExportFormat format, Stream output, CancellationToken ct)
    {
        if (format == ExportFormat.Json)
        {
            await using var json = new Utf8JsonWriter(output);
            json.WriteStartArray();
            var n = 0;
            await foreach (var row in rows.WithCancellation(ct))
            {
                json.WriteStartObject();
                for (int i = 0; i < header.Length; i++)
                {
                    json.WritePropertyName(header[i]);
                    switch (row[i])
                    {
                        case null: json.WriteNullValue(); break;
                        case string s: json.WriteStringValue(s); break;
                        case bool b: json.WriteBooleanValue(b); break;
                        case DateTime d: json.WriteStringValue(DateTime.SpecifyKind(d, DateTimeKind.Utc)); break;
                        case double v: if (double.IsFinite(v)) json.WriteNumberValue(v); else json.WriteNullValue(); break;
                        case int v: json.WriteNumberValue(v); break;
                        case long v: json.WriteNumberValue(v); break;
                        default: json.WriteStringValue(Convert.ToString(row[i], CultureInfo.InvariantCulture)); break;
                    }
                }
                json.WriteEndObject();
                if (++n % 500 == 0) await json.FlushAsync(ct); // bounded buffer
            }
            json.WriteEndArray();
            await json.FlushAsync(ct);
            return;
        }
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        await writer.WriteLineAsync(string.Join(",", header));
        await foreach (var row in rows.WithCancellation(ct))
            await writer.WriteLineAsync(string.Join(",", row.Select(Csv)));
        await writer.FlushAsync(ct);
    }

    /// <summary>RFC 4180 field; a leading = + - @ is prefixed with ' so spreadsheets do not run model text as a formula.</summary>
    public static string Csv(object? value)
    {
        var s = value switch
        {
            null => "",
            bool b => b ? "true" : "false",
            DateTime d => d.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            double v => v.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        if (value is string && s.Length > 0 && s[0] is '=' or '+' or '-' or '@') s = "'" + s;
        return s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }
}
