// The one extension point that matters most: a run kind = a config record type (DataAnnotations drive the form,
// the REST API and `run`) + an executor that calls Training and reports through IRunReporter.
// Adding a kind = one new file in this folder with a class deriving from RunKind<TConfig>; it is discovered by reflection.
// TConfig is the Training record itself (sft, rl) or, when the web needs ids instead of paths, a ComposedRunConfig<T>
// that adds only those web fields to the Training record (bon-finetune, calibration-*, verifier): never re-declare a parameter.
using BonStudio.Training.Runtime;
using BonStudio.Web.Jobs;

namespace BonStudio.Web.RunKinds;

/// <summary>A kind of run (sft, bon-eval, rl, ...).</summary>
public interface IRunKind
{
    /// <summary>Stable id used in configs, the API and the database, e.g. "sft".</summary>
    string Name { get; }
    /// <summary>Human title for menus.</summary>
    string Title { get; }
    /// <summary>One or two sentences shown above the form.</summary>
    string Description { get; }
    /// <summary>The config record type (implements <see cref="IRunConfig"/>).</summary>
    Type ConfigType { get; }
    /// <summary>The default preset: what the New run form is prefilled with.</summary>
    IRunConfig CreateDefaultConfig();
    /// <summary>Cross-field rules beyond the record's attributes (key = camelCase field name or "" for the whole config).</summary>
    IEnumerable<(string Field, string Message)> Validate(IRunConfig config);
    /// <summary>The work a valid config asks for (steps, samples, simulator steps), shown before launch.</summary>
    WorkEstimate Estimate(IRunConfig config);
    /// <summary>Runs to completion on the calling thread; throws OperationCanceledException when cancelled.</summary>
    void Execute(IRunConfig config, string runDirectory, IRunReporter reporter);
}

/// <summary>Base class binding a kind to its config record type.</summary>
public abstract class RunKind<TConfig> : IRunKind where TConfig : class, IRunConfig
{
    public abstract string Name { get; }
    public abstract string Title { get; }
    public abstract string Description { get; }
    public Type ConfigType => typeof(TConfig);

    /// <summary>The default preset.</summary>
    public abstract TConfig DefaultConfig();

    /// <summary>The kind's executor.</summary>
    protected abstract void Execute(TConfig config, string runDirectory, IRunReporter reporter);

    /// <summary>The work <paramref name="config"/> asks for, counted before launch.</summary>
    protected abstract WorkEstimate Estimate(TConfig config);

    /// <summary>The reporter as the job's database reporter, for kinds that read or store rows (model ids, samples, pairs);
    /// <paramref name="why"/> completes "{Name} ..." in the error a plain reporter gets.</summary>
    protected DbRunReporter RequireDatabase(IRunReporter reporter, string why) => reporter as DbRunReporter
        ?? throw new InvalidOperationException($"{Name} {why}: run it through the job or `run` (a DbRunReporter).");

    /// <summary>Cross-field rules the attributes cannot express (IValidatableObject on the record is honoured too).</summary>
    protected virtual IEnumerable<(string Field, string Message)> Validate(TConfig config) => [];

    IRunConfig IRunKind.CreateDefaultConfig() => DefaultConfig();

    IEnumerable<(string Field, string Message)> IRunKind.Validate(IRunConfig config) => Validate((TConfig)config);

    WorkEstimate IRunKind.Estimate(IRunConfig config) => Estimate((TConfig)config);

    void IRunKind.Execute(IRunConfig config, string runDirectory, IRunReporter reporter) =>
        Execute((TConfig)config, runDirectory, reporter);
}

/// <summary>All kinds known to this build, discovered once from this assembly.</summary>
public sealed class RunKindRegistry
{
    private readonly Dictionary<string, IRunKind> _kinds;

    public RunKindRegistry(IEnumerable<IRunKind> kinds) =>
        _kinds = kinds.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>Every concrete <see cref="IRunKind"/> type in this assembly (registered in DI at start-up).</summary>
    public static IEnumerable<Type> DiscoverTypes() =>
        typeof(RunKindRegistry).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IRunKind).IsAssignableFrom(t));

    public IReadOnlyCollection<IRunKind> All => _kinds.Values.OrderBy(k => k.Name, StringComparer.Ordinal).ToList();

    public bool TryGet(string? name, out IRunKind kind)
    {
        kind = null!;
        return name is not null && _kinds.TryGetValue(name, out kind!);
    }

    public IRunKind Get(string name) => TryGet(name, out var k) ? k
        : throw new KeyNotFoundException($"unknown run kind '{name}' (known: {string.Join(", ", _kinds.Keys.Order())})");
}
