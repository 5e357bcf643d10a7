// One entry point for "a model on disk": detects the format (llama2.c .bin, Hugging Face folder), loads the model
// and its tokenizer, and knows how that model wants a prompt encoded and which token ends generation.
// Also the logic behind the `generate` command-line verb (src/Web/Cli/GenerateCommand.cs is a thin shell over it).
using System.Text.Json;
using System.Text.Json.Serialization;
using BonStudio.Training.Sampling;
using BonStudio.Training.Text;
using static TorchSharp.torch;

namespace BonStudio.Training.Models.Loaders;

/// <summary>A loaded model with its tokenizer and generation conventions. Dispose to free the weights.</summary>
public sealed class LoadedModel(ICausalLM model, ITokenizer tokenizer, int? endToken, string format, Func<string, int[]> encodePrompt) : IDisposable
{
    public ICausalLM Model { get; } = model;
    public ITokenizer Tokenizer { get; } = tokenizer;
    /// <summary>Token that ends generation (not included in the output). llama2.c: 1 (BOS), as run.c does.</summary>
    public int? EndToken { get; } = endToken;
    /// <summary>"llama2c", "hf-llama", "hf-gpt2", or the architecture of a BonStudio checkpoint ("gpt", "llama").</summary>
    public string Format { get; } = format;

    /// <summary>The ids the model is fed for a prompt (llama2.c: BOS + dummy-prefix space + BPE, like run.c).</summary>
    public int[] EncodePrompt(string prompt) => encodePrompt(prompt);

    /// <summary>Text of generated ids that follow <paramref name="promptIds"/>.</summary>
    public string DecodeContinuation(IReadOnlyList<int> promptIds, IEnumerable<int> generated) =>
        Tokenizer is Llama2cTokenizer llama
            ? llama.DecodeAfter(promptIds.Count > 0 ? promptIds[^1] : null, generated)
            : Tokenizer.Decode(generated);

    /// <summary>Text of a whole sequence (prompt + generated); BOS/EOS markers of the prompt are not shown.</summary>
    public string DecodeSequence(IReadOnlyList<int> promptIds, IEnumerable<int> generated) =>
        Tokenizer is Llama2cTokenizer llama
            ? llama.Decode(promptIds.Concat(generated))
            : Tokenizer.Decode(promptIds.Where(id => id != Tokenizer.BosId && id != Tokenizer.EosId)) + Tokenizer.Decode(generated);

    public void Dispose() => (Model as IDisposable)?.Dispose();
}

/// <summary>What <c>generate --json</c> prints. <paramref name="Text"/> is the whole sequence as run.c prints it (prompt echo
/// included, BOS not shown); <paramref name="GeneratedText"/> is the continuation alone.</summary>
public sealed record GenerateResult(
    [property: JsonPropertyName("prompt_ids")] int[] PromptIds,
    [property: JsonPropertyName("generated_ids")] int[] GeneratedIds,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("generated_text")] string GeneratedText)
{
    // the output goes to a terminal or a pipe, not into HTML: keep non-ASCII readable
    private static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    public string ToJson() => JsonSerializer.Serialize(this, Options);
}

public static class ModelLoader
{
    /// <summary>
    /// Loads a model from <paramref name="path"/>: a llama2.c legacy checkpoint (.bin) or a Hugging Face folder
    /// (config.json + *.safetensors). <paramref name="tokenizerPath"/> overrides the tokenizer found beside the model
    /// (llama2.c: tokenizer.bin or tok{vocab}.bin in the same folder).
    /// </summary>
    public static LoadedModel Load(string path, string? tokenizerPath = null, Device? device = null)
    {
        if (Directory.Exists(path)) return HuggingFaceLoader.Load(path, tokenizerPath, device);
        if (!File.Exists(path)) throw new FileNotFoundException($"model '{path}' does not exist (expected a llama2.c .bin file, a BonStudio .safetensors checkpoint or a Hugging Face folder).", path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return LoadCheckpoint(path, tokenizerPath, device);

        var llama = Llama2cCheckpoint.Load(path, device);
        try
        {
            var tokPath = tokenizerPath ?? FindLlama2cTokenizer(path, llama.Config.VocabSize);
            var tokenizer = Llama2cTokenizer.Load(tokPath, llama.Config.VocabSize);
            return new LoadedModel(llama, tokenizer, endToken: tokenizer.BosId, "llama2c", tokenizer.EncodeWithBos);
        }
        catch
        {
            llama.Dispose();
            throw;
        }
    }

    /// <summary>A BonStudio checkpoint: the tokenizer is the one named in its metadata (or a llama2.c file via tokenizerPath).</summary>
    private static LoadedModel LoadCheckpoint(string path, string? tokenizerPath, Device? device)
    {
        var (model, meta) = Checkpoint.LoadCausalLM(path, device ?? CPU);
        try
        {
            if (tokenizerPath is not null)
            {
                var llamaTokenizer = Llama2cTokenizer.Load(tokenizerPath, model.VocabSize);
                return new LoadedModel(model, llamaTokenizer, llamaTokenizer.BosId, meta.Architecture, llamaTokenizer.EncodeWithBos);
            }
            var tokenizer = TokenizerRegistry.Resolve(meta.Tokenizer);
            return new LoadedModel(model, tokenizer, tokenizer.EosId, meta.Architecture, text => Sampler.EncodePrompt(tokenizer, text));
        }
        catch
        {
            (model as IDisposable)?.Dispose();
            throw;
        }
    }

    private static string FindLlama2cTokenizer(string modelPath, int vocabSize)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        string[] candidates = [Path.Combine(folder, "tokenizer.bin"), Path.Combine(folder, $"tok{vocabSize}.bin")];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException(
                $"no tokenizer for '{modelPath}': pass --tokenizer, or put tokenizer.bin or tok{vocabSize}.bin beside the model.");
    }

    /// <summary>Encodes <paramref name="prompt"/>, generates with the batched KV-cached <see cref="Sampler"/>, and decodes:
    /// the whole `generate` verb. Temperature 0 = greedy (first index on ties); stops at the model's end token.</summary>
    public static GenerateResult Generate(LoadedModel loaded, string prompt, int maxNewTokens, double temperature, long seed = 0)
    {
        var promptIds = loaded.EncodePrompt(prompt);
        var generated = Generate(loaded, [promptIds], maxNewTokens, temperature, seed)[0];
        return new GenerateResult(promptIds, generated, loaded.DecodeSequence(promptIds, generated), loaded.DecodeContinuation(promptIds, generated));
    }

    /// <summary>Several prompts (already encoded, different lengths allowed) in one batch; returns the new ids of each.</summary>
    public static int[][] Generate(LoadedModel loaded, IReadOnlyList<int[]> promptIds, int maxNewTokens, double temperature, long seed = 0)
    {
        var options = new SamplingOptions
        {
            MaxNewTokens = maxNewTokens, Temperature = temperature, Seed = seed,
            StopTokenIds = loaded.EndToken is int end ? [end] : [],
        };
        return new Sampler(loaded.Model, loaded.Tokenizer).Sample(promptIds, options).Select(r => r.TokenIds).ToArray();
    }
}

/// <summary>Runs when the assembly loads: lets <see cref="Checkpoint"/> rebuild Llama checkpoints and
/// <see cref="TokenizerRegistry"/> resolve "gpt2", so imported models are stored and reloaded like trained ones.</summary>
internal static class LoaderRegistration
{
#pragma warning disable CA2255 // deliberate: registration must happen before any checkpoint is read, without a call site to forget
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Register()
    {
        Checkpoint.RegisterArchitecture(Llama.Architecture, (meta, device) => new Llama(LlamaConfig.FromJson(meta.ModelConfigJson), device));
        TokenizerRegistry.Register("gpt2", () => Gpt2Tokenizer.Instance);
        TokenizerRegistry.RegisterPrefix(Llama2cTokenizerStore.Prefix, Llama2cTokenizerStore.Resolve);
    }
#pragma warning restore CA2255
}
