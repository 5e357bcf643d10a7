// Turns untrusted JSON (from the form, the REST API or a config file for `run`) into a validated config
// record, with the same field-named messages everywhere; canonicalises and hashes the result.
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Reflection;
using BonStudio.Training.Runtime;

namespace BonStudio.Web.RunKinds;

/// <summary>A validated config, or the errors (key = field path such as "config.steps", values = messages).</summary>
public sealed record ConfigBinding(
    IRunKind? Kind,
    IRunConfig? Config,
    string? CanonicalJson,
    string? ConfigHash,
    string? ConfigHashWithoutSeed,
    IReadOnlyDictionary<string, string[]> Errors)
{
    public bool IsValid => Errors.Count == 0;

    /// <summary>"field: message" lines, as the command line prints them.</summary>
    public IEnumerable<string> ErrorLines => Errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"));
}

public sealed class RunConfigBinder(RunKindRegistry kinds)
{
    /// <summary>The JSON conventions of configs everywhere: camelCase names, enums as camelCase strings.</summary>
    public static readonly JsonSerializerOptions Json = CreateJsonOptions();

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            NumberHandling = JsonNumberHandling.Strict,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            // A composed web config's Training parameters are written and read as flat keys next to its own.
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { ComposedRunConfigJson.Flatten } },
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    /// <summary>Validates <paramref name="config"/> (a JSON object of parameters; missing ones take the kind's defaults).</summary>
    public ConfigBinding Bind(string? kindName, JsonNode? config)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string key, string message)
        {
            if (!errors.TryGetValue(key, out var list)) errors[key] = list = [];
            list.Add(message);
        }

        if (string.IsNullOrWhiteSpace(kindName))
        {
            Add("kind", $"The kind field is required (one of: {string.Join(", ", kinds.All.Select(k => k.Name))}).");
            return Fail(errors);
        }
        if (!kinds.TryGet(kindName, out var kind))
        {
            Add("kind", $"Unknown run kind '{kindName}' (known: {string.Join(", ", kinds.All.Select(k => k.Name))}).");
            return Fail(errors);
        }
        if (config is null)
        {
            Add("config", $"The config field is required (an object with the parameters of '{kind.Name}').");
            return Fail(errors, kind);
        }
        if (config is not JsonObject obj)
        {
            Add("config", "The config field must be a JSON object.");
            return Fail(errors, kind);
        }

        // Field by field first, so every message names its field. Absent fields take the kind's defaults;
        // a [Required] field given as null or "" is reported by its attribute below.
        var parameters = ConfigSchema.Parameters(kind.ConfigType);
        var byName = parameters.ToDictionary(p => p.JsonName, StringComparer.OrdinalIgnoreCase);
        var normalised = new JsonObject();
        foreach (var (name, value) in obj)
        {
            if (!byName.TryGetValue(name, out var parameter))
            {
                Add($"config.{name}", $"Unknown field '{name}': '{kind.Name}' has no such parameter.");
                continue;
            }
            var (jsonName, type) = (parameter.JsonName, parameter.Property.PropertyType);
            try
            {
                var typed = value.Deserialize(type, Json);
                if (typed is null && type.IsValueType && Nullable.GetUnderlyingType(type) is null)
                    throw new JsonException();
                normalised[jsonName] = value?.DeepClone();
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NotSupportedException)
            {
                Add($"config.{jsonName}", $"The field {jsonName} must be {Describe(type)}; got {value?.ToJsonString() ?? "null"}.");
            }
        }
        // Keep going with the well-typed fields so range errors are reported together with type errors.
        IRunConfig instance;
        try
        {
            instance = (IRunConfig)(normalised.Deserialize(kind.ConfigType, Json)
                ?? throw new JsonException("null config"));
        }
        catch (JsonException e)
        {
            Add("config", $"The config could not be read: {e.Message}");
            return Fail(errors, kind);
        }

        // DataAnnotations per parameter (on the web record or its Training record), named by the JSON name.
        foreach (var parameter in parameters)
            foreach (var message in AttributeErrors(parameter.Owner(instance), parameter.Property, parameter.JsonName))
                Add($"config.{parameter.JsonName}", message);
        // Cross-field rules (once every field is valid) of the record itself and, for a composed config, of the Training
        // record the run will execute.
        bool fieldsValid = errors.Count == 0;
        if (fieldsValid && instance is IValidatableObject validatable)
            AddAll(validatable.Validate(new ValidationContext(instance)), _ => false);
        if (fieldsValid && instance is IComposedRunConfig composed)
        {
            // Attributes again: a web field that replaces a Training parameter (e.g. a comma-separated list) is checked
            // here in its converted form. Parameters the kind fills at run time are the web fields' business.
            var training = composed.ToTrainingConfig();
            var setByKind = ComposedRunConfigJson.SetByRunKind(kind.ConfigType);
            foreach (var prop in training.GetType().GetProperties().Where(p => p.CanRead && p.CanWrite && !setByKind.Contains(p.Name)))
                foreach (var message in AttributeErrors(training, prop, JsonNamingPolicy.CamelCase.ConvertName(prop.Name)))
                    Add($"config.{JsonNamingPolicy.CamelCase.ConvertName(prop.Name)}", message);
            if (training is IValidatableObject trainingRules)
                AddAll(trainingRules.Validate(new ValidationContext(training)), setByKind.Contains);
        }

        void AddAll(IEnumerable<ValidationResult> results, Func<string, bool> skipMember)
        {
            foreach (var r in results)
            {
                var members = r.MemberNames.ToList();
                if (members.Count == 0) Add("config", r.ErrorMessage ?? "invalid config");
                else if (members.Any(skipMember)) continue;
                foreach (var m in members)
                    Add($"config.{JsonNamingPolicy.CamelCase.ConvertName(m)}", r.ErrorMessage ?? $"The field {m} is invalid.");
            }
        }
        if (errors.Count == 0)
            foreach (var (field, message) in kind.Validate(instance))
                Add(string.IsNullOrEmpty(field) ? "config" : $"config.{field}", message);
        if (errors.Count > 0) return Fail(errors, kind);

        var canonical = Canonicalize(instance, kind.ConfigType);
        var withoutSeed = JsonNode.Parse(canonical)!.AsObject();
        withoutSeed.Remove("seed");
        return new ConfigBinding(kind, instance, canonical, Sha256(canonical), Sha256(withoutSeed.ToJsonString()),
            new Dictionary<string, string[]>());
    }

    /// <summary>The messages of <paramref name="property"/>'s validation attributes, with the JSON name as display name
    /// so each message names its field.</summary>
    private static IEnumerable<string> AttributeErrors(object owner, PropertyInfo property, string jsonName)
    {
        var value = property.GetValue(owner);
        foreach (var attr in property.GetCustomAttributes<ValidationAttribute>(true))
        {
            var result = attr.GetValidationResult(value, new ValidationContext(owner) { MemberName = property.Name, DisplayName = jsonName });
            if (result != ValidationResult.Success && result is not null)
                yield return result.ErrorMessage ?? $"The field {jsonName} is invalid.";
        }
    }

    /// <summary>Compact JSON with keys sorted at every level: equal configs give equal text and hashes.</summary>
    public static string Canonicalize(object config, Type type) =>
        SortKeys(ParametersOnly(JsonSerializer.SerializeToNode(config, type, Json)!.AsObject(), type))?.ToJsonString() ?? "null";

    /// <summary>Drops computed, read-only properties (e.g. a derived run name): only settable parameters are the config.</summary>
    private static JsonObject ParametersOnly(JsonObject obj, Type type)
    {
        var settable = ConfigSchema.Parameters(type).Select(p => p.JsonName).ToHashSet(StringComparer.Ordinal);
        foreach (var key in obj.Select(kv => kv.Key).Where(k => !settable.Contains(k)).ToList()) obj.Remove(key);
        return obj;
    }

    /// <summary>Lowercase hex SHA-256 of the UTF-8 text.</summary>
    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static JsonNode? SortKeys(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, SortKeys(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(SortKeys).ToArray()),
        _ => node?.DeepClone(),
    };

    private static string Describe(Type t)
    {
        var u = Nullable.GetUnderlyingType(t) ?? t;
        if (u == typeof(int) || u == typeof(long) || u == typeof(short)) return "an integer";
        if (u == typeof(double) || u == typeof(float) || u == typeof(decimal)) return "a number";
        if (u == typeof(bool)) return "true or false";
        if (u == typeof(string)) return "a string";
        if (u.IsArray || (u.IsGenericType && u.GetGenericArguments().Length == 1 && typeof(System.Collections.IEnumerable).IsAssignableFrom(u)))
            return "a list of " + Describe(u.IsArray ? u.GetElementType()! : u.GetGenericArguments()[0]).Replace("an ", "").Replace("a ", "") + "s";
        if (u.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(u).Select(ConfigSchema.EnumJsonName));
        return $"a {u.Name}";
    }

    private static ConfigBinding Fail(Dictionary<string, List<string>> errors, IRunKind? kind = null) =>
        new(kind, null, null, null, null, errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));

    /// <summary>A config record as a JSON object (camelCase), e.g. the default preset for the form.</summary>
    public static JsonObject ToJsonObject(IRunConfig config) =>
        ParametersOnly(JsonSerializer.SerializeToNode(config, config.GetType(), Json)!.AsObject(), config.GetType());

    /// <summary>Formats a value the way the form's text boxes show it.</summary>
    public static string FormatInvariant(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
