// Named presets: saved configs per run kind, selectable in the run form and the sweep form. Stored as JSON files
// {DataDirectory}/presets/{kind}/{name}.json rather than in the database: no schema migration, a user can read, edit,
// copy or version them with ordinary tools, and they travel with the data directory. (With several web replicas on
// PostgreSQL each host has its own presets; workers never read them.) Names are checked before they become a path.
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Web.Extensions;
using BonStudio.Web.RunKinds;
using Microsoft.Extensions.Options;

namespace BonStudio.Web.Services;

/// <summary>A saved config of one run kind.</summary>
public sealed record RunPreset(string Kind, string Name, JsonObject Config, DateTime SavedAt);

/// <summary>Body of PUT /api/presets/{kind}/{name}.</summary>
public sealed record SavePresetRequest(JsonObject? Config);

public sealed class RunPresetStore(IOptions<BonStudioOptions> options, RunKindRegistry kinds, RunService runs)
{
    public const int MaxNameLength = 80;
    public const int MaxPresetsPerKind = 200;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private string Root => Path.Combine(options.Value.DataDirectoryFullPath, "presets");

    /// <summary>Why <paramref name="name"/> cannot be a preset name, or null when it can: 1-80 letters, digits,
    /// space, '_', '-', '.'; starting with a letter or digit (so never "..", never a path).</summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "The field name is required.";
        if (name.Length > MaxNameLength) return $"The field name must be at most {MaxNameLength} characters.";
        if (!char.IsAsciiLetterOrDigit(name[0]) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is ' ' or '_' or '-' or '.')) || name.EndsWith('.') || name.EndsWith(' '))
            return $"The field name '{name}' may only use letters, digits, spaces, '_', '-' and '.', starting with a letter or digit.";
        return null;
    }

    /// <summary>The presets saved for <paramref name="kind"/>, by name (empty for an unknown kind).</summary>
    public IReadOnlyList<RunPreset> List(string? kind)
    {
        if (!kinds.TryGet(kind, out var k)) return [];
        var dir = Path.Combine(Root, k.Name);
        if (!Directory.Exists(dir)) return [];
        var presets = new List<RunPreset>();
        foreach (var file in Directory.EnumerateFiles(dir, "*.json").Order(StringComparer.Ordinal).Take(MaxPresetsPerKind))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (NameProblem(name) is null && Read(k.Name, name, file) is { } preset) presets.Add(preset);
        }
        return presets;
    }

    public RunPreset? Get(string? kind, string? name) =>
        kinds.TryGet(kind, out var k) && NameProblem(name) is null && File.Exists(PathOf(k.Name, name!)) ? Read(k.Name, name!, PathOf(k.Name, name!)) : null;

    /// <summary>Validates the config exactly like a run (a seed is optional: a sweep's base config has none) and writes
    /// the preset, replacing one of the same name. Returns errors keyed by field; empty when saved.</summary>
    public IReadOnlyDictionary<string, string[]> Save(string? kind, string? name, JsonObject? config)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!kinds.TryGet(kind, out var k)) errors["kind"] = [$"The field kind '{kind}' is not a run kind (known: {string.Join(", ", kinds.All.Select(x => x.Name))})."];
        if (NameProblem(name) is { } problem) errors["name"] = [problem];
        if (config is null) errors["config"] = ["The field config is required (a JSON object)."];
        if (errors.Count > 0) return errors;
        foreach (var (key, messages) in runs.Validate(new CreateRunRequest(k.Name, null, config)).Errors) errors[key] = messages;
        if (errors.Count > 0) return errors;
        var dir = Path.Combine(Root, k.Name);
        Directory.CreateDirectory(dir);
        if (!File.Exists(PathOf(k.Name, name!)) && Directory.EnumerateFiles(dir, "*.json").Count() >= MaxPresetsPerKind)
            return new Dictionary<string, string[]> { ["name"] = [$"At most {MaxPresetsPerKind} presets per kind; delete one first."] };
        // Write then move: a reader never sees half a file.
        var target = PathOf(k.Name, name!);
        var temp = target + ".tmp";
        File.WriteAllText(temp, config!.ToJsonString(Indented));
        File.Move(temp, target, overwrite: true);
        return errors;
    }

    /// <summary>False when there was no such preset.</summary>
    public bool Delete(string? kind, string? name)
    {
        if (!kinds.TryGet(kind, out var k) || NameProblem(name) is not null) return false;
        var path = PathOf(k.Name, name!);
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }

    private string PathOf(string kind, string name)
    {
        var path = Path.GetFullPath(Path.Combine(Root, kind, name + ".json"));
        // Defence in depth: NameProblem already rules out separators and "..".
        if (!path.StartsWith(Path.GetFullPath(Root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"The preset name '{name}' does not stay inside the presets folder.", nameof(name));
        return path;
    }

    private static RunPreset? Read(string kind, string name, string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) is JsonObject config
                ? new RunPreset(kind, name, config, File.GetLastWriteTimeUtc(path))
                : null;
        }
        catch (JsonException) { return null; } // a hand-edited file that is not JSON is skipped, not fatal
        catch (IOException) { return null; }
    }
}
