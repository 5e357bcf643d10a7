// Reads a config record's parameters (type, label, help, range, default) from its DataAnnotations,
// so the New run form, the REST API and `run` share ONE description of each kind. A ComposedRunConfig's
// parameters are its own web fields plus its Training record's, described by the Training record's attributes.
using System.Collections.Concurrent;
using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BonStudio.Web.RunKinds;

/// <summary>How a parameter is edited.</summary>
public enum ConfigFieldType { Integer, Number, Boolean, Text, Choice, IntegerList, NumberList }

/// <summary>One parameter of a run kind's config record.</summary>
/// <param name="JsonName">camelCase name used in JSON, the API and error messages.</param>
/// <param name="Label">Display name ([Display(Name)] / [DisplayName] or the property name split into words).</param>
/// <param name="Help">[Description] text.</param>
/// <param name="Minimum">[Range] minimum, if any.</param>
/// <param name="Maximum">[Range] maximum, if any.</param>
/// <param name="Choices">Allowed values for enums and [AllowedValues] strings.</param>
public sealed record ConfigField(
    string JsonName, PropertyInfo Property, string Label, string? Help, ConfigFieldType Type,
    double? Minimum, double? Maximum, bool Required, IReadOnlyList<string>? Choices);

/// <summary>One settable parameter of a config type.</summary>
/// <param name="JsonName">camelCase name used in JSON, the API and error messages.</param>
/// <param name="Property">The property, declared on the config record or (when <paramref name="OnTraining"/>) on the Training record it composes.</param>
public sealed record ConfigParameter(string JsonName, PropertyInfo Property, bool OnTraining)
{
    /// <summary>The object holding this parameter's value: the config itself or its Training record.</summary>
    public object Owner(object config) => OnTraining ? ((IComposedRunConfig)config).Training : config;
}

public static class ConfigSchema
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<ConfigField>> Cache = new();
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<ConfigParameter>> ParameterCache = new();

    /// <summary>The editable parameters of a config record type, in declaration order.</summary>
    public static IReadOnlyList<ConfigField> Fields(Type configType) => Cache.GetOrAdd(configType, Build);

    /// <summary>Every settable parameter of a config type (form-editable or not), in declaration order: for a
    /// <see cref="ComposedRunConfig{TTraining}"/>, its web-only fields first, then the Training record's parameters
    /// (a web field with the same name standing in for the Training one; <see cref="SetByRunKindAttribute"/> ones left out).</summary>
    public static IReadOnlyList<ConfigParameter> Parameters(Type configType) => ParameterCache.GetOrAdd(configType, BuildParameters);

    private static IReadOnlyList<ConfigParameter> BuildParameters(Type type)
    {
        var own = Settable(type).ToList();
        if (ComposedRunConfigJson.TrainingType(type) is not Type trainingType)
            return own.Select(p => new ConfigParameter(JsonName(p), p, OnTraining: false)).ToList();
        var setByKind = ComposedRunConfigJson.SetByRunKind(type);
        var ownByName = own.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var training = Settable(trainingType).Where(p => !setByKind.Contains(p.Name)).ToList();
        var trainingNames = training.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        return own.Where(p => !trainingNames.Contains(p.Name)).Select(p => new ConfigParameter(JsonName(p), p, OnTraining: false))
            .Concat(training.Select(p => ownByName.TryGetValue(p.Name, out var replacement)
                ? new ConfigParameter(JsonName(p), replacement, OnTraining: false)
                : new ConfigParameter(JsonName(p), p, OnTraining: true)))
            .ToList();
    }

    /// <summary>Public instance properties with a public setter (init counts) that JSON does not ignore.</summary>
    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0
                        && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .OrderBy(p => p.MetadataToken);

    private static string JsonName(PropertyInfo p) => JsonNamingPolicy.CamelCase.ConvertName(p.Name);

    private static IReadOnlyList<ConfigField> Build(Type type)
    {
        var fields = new List<ConfigField>();
        foreach (var parameter in Parameters(type))
        {
            var p = parameter.Property;
            var underlying = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            var allowed = p.GetCustomAttribute<AllowedValuesAttribute>()?.Values.Select(v => v?.ToString() ?? "").ToList();
            ConfigFieldType kind;
            IReadOnlyList<string>? choices = null;
            if (underlying == typeof(bool)) kind = ConfigFieldType.Boolean;
            else if (underlying.IsEnum) { kind = ConfigFieldType.Choice; choices = Enum.GetNames(underlying).Select(EnumJsonName).ToList(); }
            else if (underlying == typeof(int) || underlying == typeof(long) || underlying == typeof(short)) kind = ConfigFieldType.Integer;
            else if (underlying == typeof(double) || underlying == typeof(float) || underlying == typeof(decimal)) kind = ConfigFieldType.Number;
            else if (underlying == typeof(string) && allowed is { Count: > 0 }) { kind = ConfigFieldType.Choice; choices = allowed; }
            else if (underlying == typeof(string)) kind = ConfigFieldType.Text;
            else if (underlying == typeof(int[]) || underlying == typeof(long[]) || underlying == typeof(List<int>) || underlying == typeof(IReadOnlyList<int>)) kind = ConfigFieldType.IntegerList;
            else if (underlying == typeof(double[]) || underlying == typeof(List<double>) || underlying == typeof(IReadOnlyList<double>)) kind = ConfigFieldType.NumberList;
            else continue; // collections and nested records are not form-editable yet; JSON still binds them
            var range = p.GetCustomAttribute<RangeAttribute>();
            if (range is not null && !IsNumeric(range.OperandType)) range = null; // e.g. [Range(typeof(bool), "false", "true")]
            fields.Add(new ConfigField(
                JsonName: parameter.JsonName,
                Property: p,
                Label: p.GetCustomAttribute<DisplayAttribute>()?.GetName() ?? p.GetCustomAttribute<DisplayNameAttribute>()?.DisplayName ?? SplitWords(p.Name),
                Help: p.GetCustomAttribute<DescriptionAttribute>()?.Description ?? p.GetCustomAttribute<DisplayAttribute>()?.GetDescription(),
                Type: kind,
                Minimum: range is null ? null : Convert.ToDouble(range.Minimum, System.Globalization.CultureInfo.InvariantCulture),
                Maximum: range is null ? null : Convert.ToDouble(range.Maximum, System.Globalization.CultureInfo.InvariantCulture),
                Required: p.GetCustomAttribute<RequiredAttribute>() is not null,
                Choices: choices));
        }
        return fields;
    }

    private static bool IsNumeric(Type t) =>
        t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(float) || t == typeof(decimal) || t == typeof(short);

    /// <summary>How an enum member is written in JSON (camelCase, like the serializer's converter).</summary>
    public static string EnumJsonName(string memberName) => JsonNamingPolicy.CamelCase.ConvertName(memberName);

    private static string SplitWords(string name)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1])) sb.Append(' ');
            sb.Append(i == 0 ? name[i] : char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}
