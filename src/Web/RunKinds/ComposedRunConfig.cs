// A web run config that composes a Training config record instead of re-declaring it: the Training record's
// DataAnnotations stay the one description of its parameters, and the web record adds only what the web needs
// (model ids resolved to checkpoint paths, follow-up runs). JSON stays flat: the Training record's parameters sit
// next to the web fields (see RunConfigBinder's contract modifier), so configs look exactly like a plain record's.
using System.Reflection;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using BonStudio.Training.Runtime;

namespace BonStudio.Web.RunKinds;

/// <summary>The untyped view of <see cref="ComposedRunConfig{TTraining}"/> the binder and schema use.</summary>
public interface IComposedRunConfig : IRunConfig
{
    /// <summary>The Training record holding every parameter the web record does not declare itself.</summary>
    IRunConfig Training { get; }
    /// <summary>The Training record to execute and validate: <see cref="Training"/> with the web fields that replace
    /// some of its parameters (same name, a form-friendly type) applied.</summary>
    IRunConfig ToTrainingConfig();
}

/// <summary>Names Training parameters the web form does not offer because the run kind fills them at run time
/// (e.g. a checkpoint path resolved from a model id). Their attribute and cross-field errors are left to the web fields that feed them.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class SetByRunKindAttribute(params string[] trainingProperties) : Attribute
{
    public IReadOnlyList<string> TrainingProperties { get; } = trainingProperties;
}

/// <summary>
/// Base of a web run config: the web-only fields are the derived record's properties; every other parameter is the
/// Training record's. A derived property with the same name as a Training one replaces it in the form and JSON
/// (override <see cref="ToTraining"/> to convert it back).
/// </summary>
public abstract record ComposedRunConfig<TTraining> : IComposedRunConfig where TTraining : class, IRunConfig, new()
{
    /// <summary>The Training record's parameters (flattened into the config's JSON, never nested).</summary>
    [JsonIgnore]
    public TTraining Training { get; init; } = new();

    /// <summary>The Training record to run: <see cref="Training"/> plus what the derived record's replacing fields say.</summary>
    public virtual TTraining ToTraining() => Training;

    IRunConfig IComposedRunConfig.Training => Training;
    IRunConfig IComposedRunConfig.ToTrainingConfig() => ToTraining();
    long IRunConfig.Seed => Training.Seed;
    string IRunConfig.Device => Training.Device;
    int IRunConfig.Threads => Training.Threads;
}

/// <summary>Flattens <see cref="IComposedRunConfig.Training"/>'s parameters into the web record's JSON object.</summary>
public static class ComposedRunConfigJson
{
    /// <summary>A System.Text.Json contract modifier: adds each Training parameter as a property of the composed record.</summary>
    public static void Flatten(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || !typeof(IComposedRunConfig).IsAssignableFrom(info.Type)) return;
        foreach (var parameter in ConfigSchema.Parameters(info.Type).Where(p => p.OnTraining))
        {
            var property = parameter.Property;
            var json = info.CreateJsonPropertyInfo(property.PropertyType, parameter.JsonName);
            json.Get = config => property.GetValue(((IComposedRunConfig)config).Training);
            // Deserialisation fills the fresh instance's own Training record (created by its initializer), before anyone sees it.
            json.Set = (config, value) => property.SetValue(((IComposedRunConfig)config).Training, value);
            info.Properties.Add(json);
        }
    }

    /// <summary>The Training record type a composed config type wraps, or null for a plain config record.</summary>
    public static Type? TrainingType(Type configType)
    {
        for (var t = configType; t is not null; t = t.BaseType)
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ComposedRunConfig<>))
                return t.GetGenericArguments()[0];
        return null;
    }

    /// <summary>The Training property names the run kind fills itself (<see cref="SetByRunKindAttribute"/>).</summary>
    public static IReadOnlySet<string> SetByRunKind(Type configType) =>
        configType.GetCustomAttribute<SetByRunKindAttribute>()?.TrainingProperties.ToHashSet(StringComparer.Ordinal)
        ?? new HashSet<string>(StringComparer.Ordinal);
}
