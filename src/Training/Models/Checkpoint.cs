// Model checkpoints: a safetensors file holding a model's state dict, with what is needed to rebuild the model
// (architecture, model config JSON, tokenizer name) and to reproduce/resume the run (step, training config JSON)
// in the file's "__metadata__".
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Models;

/// <summary>What a checkpoint says about itself.</summary>
/// <param name="Architecture">"gpt", "llama", ...: selects the loader.</param>
/// <param name="ModelConfigJson">The architecture's config record as JSON (e.g. <see cref="GptConfig"/>).</param>
/// <param name="Tokenizer">Tokenizer name (<see cref="Text.ITokenizer.Name"/>).</param>
/// <param name="Step">Optimizer step the weights were taken at.</param>
/// <param name="TrainingConfigJson">The run's config record as JSON, or null.</param>
public sealed record CheckpointMetadata(string Architecture, string ModelConfigJson, string Tokenizer, long Step, string? TrainingConfigJson = null)
{
    internal const string ArchitectureKey = "architecture", ModelConfigKey = "model_config", TokenizerKey = "tokenizer",
        StepKey = "step", TrainingConfigKey = "training_config", FormatKey = "format";

    internal Dictionary<string, string> ToDictionary()
    {
        var d = new Dictionary<string, string>
        {
            [FormatKey] = "pt", // what Hugging Face tools expect
            [ArchitectureKey] = Architecture,
            [ModelConfigKey] = ModelConfigJson,
            [TokenizerKey] = Tokenizer,
            [StepKey] = Step.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (TrainingConfigJson is not null) d[TrainingConfigKey] = TrainingConfigJson;
        return d;
    }

    internal static CheckpointMetadata FromDictionary(IReadOnlyDictionary<string, string> d, string path)
    {
        string Get(string key) => d.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"{path}: checkpoint metadata lacks '{key}' (not a BonStudio checkpoint?).");
        var stepText = Get(StepKey);
        if (!long.TryParse(stepText, System.Globalization.CultureInfo.InvariantCulture, out var step))
            throw new InvalidDataException($"{path}: checkpoint metadata 'step' is '{stepText}', not an integer.");
        return new CheckpointMetadata(Get(ArchitectureKey), Get(ModelConfigKey), Get(TokenizerKey), step,
            d.TryGetValue(TrainingConfigKey, out var tc) ? tc : null);
    }
}

public static class Checkpoint
{
    private static readonly Dictionary<string, Func<CheckpointMetadata, Device, nn.Module>> Builders = new(StringComparer.Ordinal)
    {
        [Gpt.Architecture] = (meta, device) => new Gpt(GptConfig.FromJson(meta.ModelConfigJson)).to(device),
    };

    /// <summary>Lets another architecture (e.g. "llama") be rebuilt by <see cref="Load"/>: the builder makes an
    /// untrained module of the right shape from the metadata.</summary>
    public static void RegisterArchitecture(string architecture, Func<CheckpointMetadata, Device, nn.Module> build)
    {
        lock (Builders) Builders[architecture] = build;
    }

    /// <summary>Saves <paramref name="model"/>'s state dict (parameters and buffers) with <paramref name="metadata"/>.</summary>
    public static void Save(string path, nn.Module model, CheckpointMetadata metadata) =>
        Safetensors.Save(path, model.state_dict(), metadata.ToDictionary());

    public static CheckpointMetadata ReadMetadata(string path) =>
        CheckpointMetadata.FromDictionary(Safetensors.ReadMetadata(path), path);

    /// <summary>Copies the file's tensors into <paramref name="model"/>. The names and shapes must match exactly;
    /// otherwise the file is refused, naming the first differences.</summary>
    public static void LoadInto(nn.Module model, string path)
    {
        var (tensors, _) = Safetensors.Load(path);
        try
        {
            var state = model.state_dict();
            var problems = new List<string>();
            foreach (var (name, target) in state)
            {
                if (!tensors.TryGetValue(name, out var source)) problems.Add($"missing tensor '{name}'");
                else if (!source.shape.SequenceEqual(target.shape))
                    problems.Add($"'{name}' has shape [{string.Join(", ", source.shape)}] in the file but the model expects [{string.Join(", ", target.shape)}]");
            }
            foreach (var name in tensors.Keys.Where(n => !state.ContainsKey(n))) problems.Add($"unexpected tensor '{name}'");
            if (problems.Count > 0)
                throw new InvalidDataException($"{path} does not fit this model: {string.Join("; ", problems.Take(5))}" +
                                               (problems.Count > 5 ? $" (and {problems.Count - 5} more)" : "") + ".");
            using var noGrad = no_grad();
            foreach (var (name, target) in state) target.copy_(tensors[name]);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Rebuilds the model a checkpoint describes and loads its weights onto <paramref name="device"/>.</summary>
    public static (nn.Module Model, CheckpointMetadata Metadata) Load(string path, Device device)
    {
        var meta = ReadMetadata(path);
        Func<CheckpointMetadata, Device, nn.Module>? build;
        lock (Builders) Builders.TryGetValue(meta.Architecture, out build);
        if (build is null) throw new InvalidDataException($"{path}: architecture '{meta.Architecture}' has no registered loader.");
        nn.Module model;
        try { model = build(meta, device); }
        catch (Exception ex) when (ex is ArgumentException or System.Text.Json.JsonException)
        { throw new InvalidDataException($"{path}: model config in the metadata is invalid: {ex.Message}", ex); }
        LoadInto(model, path);
        model.eval();
        return (model, meta);
    }

    /// <summary>Loads a checkpoint as a language model for sampling/evaluation.</summary>
    public static (ICausalLM Model, CheckpointMetadata Metadata) LoadCausalLM(string path, Device device)
    {
        var (model, meta) = Load(path, device);
        return model is ICausalLM lm ? (lm, meta)
            : throw new InvalidDataException($"{path}: architecture '{meta.Architecture}' is not a causal language model.");
    }

    /// <summary>Loads a GPT checkpoint.</summary>
    public static (Gpt Model, CheckpointMetadata Metadata) LoadGpt(string path, Device device)
    {
        var (model, meta) = Load(path, device);
        return model is Gpt gpt ? (gpt, meta)
            : throw new InvalidDataException($"{path}: architecture is '{meta.Architecture}', not '{Gpt.Architecture}'.");
    }
}
