// Reading JSONL (one JSON object per line) with errors that name the line and the field.
// All-or-nothing: the first malformed line throws JsonlFormatException and the caller keeps nothing.
using System.Globalization;
using System.Text.Json;

namespace BonStudio.Training.Tasks;

public static class Jsonl
{
    /// <summary>Parses every non-blank line with <paramref name="parse"/> (given the object and its 1-based line number).</summary>
    public static List<T> ReadAll<T>(TextReader reader, Func<JsonElement, int, T> parse)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var items = new List<T>();
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new JsonlFormatException(lineNumber, $"not valid JSON ({e.Message})", e); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new JsonlFormatException(lineNumber, $"expected a JSON object, got {doc.RootElement.ValueKind}");
                items.Add(parse(doc.RootElement, lineNumber));
            }
        }
        return items;
    }

    public static string RequiredString(JsonElement obj, string field, int line) =>
        OptionalString(obj, field, line) ?? throw new JsonlFormatException(line, $"field '{field}' is missing or null");

    public static string? OptionalString(JsonElement obj, string field, int line)
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString()
            : throw new JsonlFormatException(line, $"field '{field}' must be a string, got {v.ValueKind}");
    }

    /// <summary>A string, or a number written as its JSON text (ids are often integers).</summary>
    public static string RequiredId(JsonElement obj, string field, int line)
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
            throw new JsonlFormatException(line, $"field '{field}' is missing or null");
        var id = v.ValueKind switch
        {
            JsonValueKind.String => v.GetString()!,
            JsonValueKind.Number => v.GetRawText(),
            _ => throw new JsonlFormatException(line, $"field '{field}' must be a string or a number, got {v.ValueKind}"),
        };
        return id.Length > 0 ? id : throw new JsonlFormatException(line, $"field '{field}' is empty");
    }

    /// <summary>true/false (also 1/0, as many tools write them).</summary>
    public static bool RequiredBool(JsonElement obj, string field, int line)
    {
        if (!obj.TryGetProperty(field, out var v)) throw new JsonlFormatException(line, $"field '{field}' is missing");
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when v.TryGetDouble(out var d) && d == 1 => true,
            JsonValueKind.Number when v.TryGetDouble(out var d) && d == 0 => false,
            _ => throw new JsonlFormatException(line, $"field '{field}' must be true or false, got {v.GetRawText()}"),
        };
    }

    public static double RequiredDouble(JsonElement obj, string field, int line) =>
        OptionalDouble(obj, field, line) ?? throw new JsonlFormatException(line, $"field '{field}' is missing or null");

    public static double? OptionalDouble(JsonElement obj, string field, int line)
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)) return d;
        throw new JsonlFormatException(line, $"field '{field}' must be a finite number, got {v.GetRawText()}");
    }

    public static int? OptionalInt(JsonElement obj, string field, int line)
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
        // MATH writes "Level 3" in some copies.
        if (v.ValueKind == JsonValueKind.String)
        {
            var s = v.GetString()!.Trim();
            if (s.StartsWith("Level ", StringComparison.OrdinalIgnoreCase)) s = s[6..];
            if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out i)) return i;
        }
        throw new JsonlFormatException(line, $"field '{field}' must be an integer, got {v.GetRawText()}");
    }

    /// <summary>A non-empty array of strings.</summary>
    public static IReadOnlyList<string> RequiredStringArray(JsonElement obj, string field, int line)
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind != JsonValueKind.Array)
            throw new JsonlFormatException(line, $"field '{field}' must be an array of strings");
        var list = new List<string>();
        foreach (var e in v.EnumerateArray())
            list.Add(e.ValueKind == JsonValueKind.String ? e.GetString()!
                : throw new JsonlFormatException(line, $"field '{field}' must contain only strings, got {e.GetRawText()}"));
        return list.Count > 0 ? list : throw new JsonlFormatException(line, $"field '{field}' is empty");
    }
}
