// A learned reward model as an IVerifier: scores a prompt's samples in batches with P(correct) from a "gpt-rm"
// checkpoint (RewardModelRun). It ignores the checker's verdict it is handed.
using BonStudio.Training.Models;
using BonStudio.Training.Text;
using static TorchSharp.torch;

namespace BonStudio.Training.Verifiers;

/// <summary>A verifier that owns native resources (a model) and must be disposed.</summary>
public interface IDisposableVerifier : IVerifier, IDisposable;

public sealed class RewardModelVerifier : IDisposableVerifier
{
    private readonly RewardModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly int _batchSize;
    private readonly bool _minOverSteps;

    /// <param name="name">Stored with the score layer; defaults to "reward-model(&lt;file name&gt;)".</param>
    /// <param name="minOverSteps">Score a sample by its worst step (a model trained with the "process" objective).</param>
    public RewardModelVerifier(RewardModel model, ITokenizer tokenizer, string name, int batchSize = 64, bool minOverSteps = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be ≥ 1.");
        _model = model; _tokenizer = tokenizer; _batchSize = batchSize; Name = name; _minOverSteps = minOverSteps;
    }

    /// <summary>Loads a "gpt-rm" checkpoint. <paramref name="id"/> (e.g. a model id in the database) names the layer
    /// "reward-model#id"; without it the layer is "reward-model(file name)".</summary>
    public static RewardModelVerifier Load(string checkpointPath, Device device, string? id = null, int batchSize = 64)
    {
        if (string.IsNullOrWhiteSpace(checkpointPath) || !checkpointPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"reward model path '{checkpointPath}' is not a .safetensors file.", nameof(checkpointPath));
        if (!File.Exists(checkpointPath)) throw new FileNotFoundException($"reward model checkpoint '{checkpointPath}' does not exist.", checkpointPath);
        RewardModel.EnsureRegistered();
        var (module, meta) = Checkpoint.Load(checkpointPath, device);
        if (module is not RewardModel model)
            throw new InvalidDataException($"{checkpointPath}: architecture is '{meta.Architecture}', not '{RewardModel.Architecture}' or '{RewardModel.LlamaArchitecture}' (a reward model).");
        var name = id is null ? $"reward-model({Path.GetFileName(checkpointPath)})" : $"reward-model#{id}";
        // A process-trained model is read at its step ends; the objective is in the checkpoint's training config.
        bool process = false;
        if (!string.IsNullOrEmpty(meta.TrainingConfigJson))
        {
            using var config = System.Text.Json.JsonDocument.Parse(meta.TrainingConfigJson);
            process = config.RootElement.TryGetProperty(nameof(RewardModelConfig.Objective), out var objective)
                && objective.ValueKind == System.Text.Json.JsonValueKind.String && objective.GetString() == "process";
        }
        return new RewardModelVerifier(model, TokenizerRegistry.Resolve(meta.Tokenizer), name, batchSize, process);
    }

    public string Name { get; }

    public double[] Score(IReadOnlyList<VerifierInput> samples) =>
        samples.Count == 0 ? [] : RewardModelRun.Score(_model, _tokenizer, samples.Select(s => (s.Prompt, s.Response)).ToList(), batchSize: _batchSize, minOverSteps: _minOverSteps);

    public void Dispose() => _model.Dispose();
}
