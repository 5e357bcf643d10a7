// Reads a create-run request from untrusted JSON (an API body or a config file for `run`) field by field,
// so a wrong or unknown top-level field is named the same way everywhere. Config parameters are checked by RunConfigBinder.
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BonStudio.Web.Services;

public static class RunRequestReader
{
    /// <summary>The fields of a run request / run file.</summary>
    /// <summary>"bundle" (the reproducibility record of an exported run bundle, ExportService.BundleAsync) is accepted and
    /// ignored, so `run bundle.json` re-runs an exported run with the same kind and config (seed included).</summary>
    public static readonly IReadOnlyList<string> Fields = ["kind", "name", "config", "tags", "notes", "experimentId", "bundle"];

    public static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 32 };

    /// <summary>The request, or errors keyed by field ("body" when the whole document is wrong).</summary>
    public static (CreateRunRequest? Request, IReadOnlyDictionary<string, string[]> Errors) FromJson(JsonNode? node)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (node is not JsonObject obj)
        {
            errors["body"] = ["Expected a JSON object {\"kind\": ..., \"config\": {...}}."];
            return (null, errors);
        }
        foreach (var (key, _) in obj)
            if (!Fields.Contains(key, StringComparer.OrdinalIgnoreCase))
                errors[key] = [$"Unknown field '{key}' (a run request has: {string.Join(", ", Fields)})."];

        JsonNode? Get(string name) => obj.FirstOrDefault(kv => string.Equals(kv.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        string? Text(string name)
        {
            var v = Get(name);
            if (v is null) return null;
            if (v is JsonValue jv && jv.TryGetValue<string>(out var s)) return s;
            errors[name] = [$"The field {name} must be a string; got {v.ToJsonString()}."];
            return null;
        }

        var kind = Text("kind");
        var name = Text("name");
        var notes = Text("notes");
        JsonObject? config = null;
        switch (Get("config"))
        {
            case null: break;
            case JsonObject o: config = (JsonObject)o.DeepClone(); break;
            case var other: errors["config"] = [$"The field config must be a JSON object of parameters; got {other.ToJsonString()}."]; break;
        }
        List<string>? tags = null;
        switch (Get("tags"))
        {
            case null: break;
            case JsonArray a when a.All(t => t is JsonValue v && v.TryGetValue<string>(out _)):
                tags = a.Select(t => t!.GetValue<string>()).ToList(); break;
            case var other: errors["tags"] = [$"The field tags must be a list of strings; got {other.ToJsonString()}."]; break;
        }
        int? experimentId = null;
        switch (Get("experimentId"))
        {
            case null: break;
            case JsonValue v when v.TryGetValue<int>(out var id): experimentId = id; break;
            case var other: errors["experimentId"] = [$"The field experimentId must be an integer; got {other.ToJsonString()}."]; break;
        }
        return errors.Count > 0 ? (null, errors) : (new CreateRunRequest(kind, name, config, tags, notes, experimentId), errors);
    }

    /// <summary>Parses JSON text; malformed JSON is reported with its line number.</summary>
    public static async Task<(CreateRunRequest? Request, IReadOnlyDictionary<string, string[]> Errors)> ReadAsync(Stream json, CancellationToken ct = default)
    {
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(json, documentOptions: DocumentOptions, cancellationToken: ct);
        }
        catch (JsonException e)
        {
            return (null, new Dictionary<string, string[]> { ["body"] = [$"Malformed JSON at line {(e.LineNumber ?? 0) + 1}: {e.Message}"] });
        }
        return FromJson(node);
    }
}
