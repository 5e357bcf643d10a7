// GPT-2 checkpoints in the Hugging Face layout (config.json + *.safetensors [+ tokenizer.json]) ↔ BonStudio's Gpt.
// The names are GPT-2's own (wte, wpe, h.N.attn.c_attn, ..., ln_f), optionally under "transformer."; the attention
// and MLP matrices are Conv1D weights stored [in, out], so they are transposed for nn.Linear's [out, in].
// Note: GPT-2 uses the tanh approximation of GELU ("gelu_new") while Gpt uses the exact GELU, so a real GPT-2's
// logits differ slightly (about 1e-3); a checkpoint exported by BonStudio round-trips exactly.
using System.Text.Json.Nodes;
using TorchSharp;
using BonStudio.Training.Sampling;
using BonStudio.Training.Text;
using static TorchSharp.torch;

namespace BonStudio.Training.Models.Loaders;

public static partial class HuggingFaceLoader
{
    private static readonly string[] Conv1DSuffixes = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"];

    /// <summary>Reads a GPT-2 config.json into a <see cref="GptConfig"/> (biases on, no dropout).</summary>
    public static GptConfig ReadGpt2Config(string folder, JsonObject? json = null)
    {
        json ??= ReadConfigJson(folder);
        var where = Path.Combine(folder, "config.json");
        var config = new GptConfig
        {
            VocabSize = Int(json, "vocab_size", where),
            ContextLength = json["n_positions"] is not null ? Int(json, "n_positions", where) : Int(json, "n_ctx", where),
            Layers = Int(json, "n_layer", where),
            Heads = Int(json, "n_head", where),
            EmbeddingDim = Int(json, "n_embd", where),
            Bias = true,
            Dropout = 0.0,
            // GPT-2's config says "gelu_new" (the tanh approximation); older files omit it, meaning the same.
            Activation = (json["activation_function"]?.GetValue<string>() ?? "gelu_new") switch
            {
                "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => "gelu_tanh",
                "gelu" => "gelu",
                var other => throw new InvalidDataException($"{where}: activation_function '{other}' is not supported (gelu_new or gelu)."),
            },
        };
        try { config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{where}: {e.Message}", e); }
        return config;
    }

    /// <summary>Loads only the weights of a GPT-2 folder into a native <see cref="Gpt"/>.</summary>
    public static Gpt LoadGpt2(string folder, Device? device = null)
    {
        var config = ReadGpt2Config(folder);
        var model = new Gpt(config);
        try
        {
            using var scope = NewDisposeScope();
            var tensors = ReadSafetensors(folder);
            bool prefixed = tensors.ContainsKey("transformer.wte.weight");
            using (no_grad())
            {
                foreach (var (name, target) in model.state_dict())
                {
                    var hf = (prefixed ? "transformer." : "") + name;
                    if (!tensors.TryGetValue(hf, out var source))
                        throw new InvalidDataException($"{folder}: tensor '{hf}' is missing from the safetensors files.");
                    if (IsConv1D(name))
                    {
                        // Conv1D stores [in, out]: check against the transposed target shape so the message names the file's layout
                        if (source.dim() != 2 || source.shape[0] != target.shape[1] || source.shape[1] != target.shape[0])
                            throw new InvalidDataException(
                                $"{folder}: tensor '{hf}' has shape [{string.Join(", ", source.shape)}] but config.json implies Conv1D [in, out] = [{target.shape[1]}, {target.shape[0]}].");
                        source = source.t();
                    }
                    CopyChecked(target, source, hf, folder);
                }
            }
            model.eval();
            if (device is not null) model.to(device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static LoadedModel LoadGpt2Folder(string folder, JsonObject json, string? tokenizerPath, Device? device)
    {
        var model = LoadGpt2(folder, device);
        try
        {
            ITokenizer tokenizer;
            if (tokenizerPath is not null)
                throw new NotSupportedException($"{folder}: --tokenizer is not used for GPT-2 folders (the GPT-2 BPE or the tokenizer named in config.json is used).");
            if (json[TokenizerField]?.GetValue<string>() is { } registered) tokenizer = TokenizerRegistry.Resolve(registered);
            else if (model.Config.VocabSize >= Gpt2Tokenizer.GptVocabSize) tokenizer = Gpt2Tokenizer.Instance;
            else
                throw new InvalidDataException(
                    $"{folder}: vocab_size {model.Config.VocabSize} is smaller than GPT-2's {Gpt2Tokenizer.GptVocabSize} and config.json names no '{TokenizerField}'.");
            // GPT-2 has no BOS; generation stops at its end-of-text token
            return new LoadedModel(model, tokenizer, tokenizer.EosId, "hf-gpt2", text => EncodeForGpt(tokenizer, text));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>BOS + text when the tokenizer has a BOS; GPT-2: the text, or &lt;|endoftext|&gt; alone for an empty prompt.</summary>
    private static int[] EncodeForGpt(ITokenizer tokenizer, string text)
    {
        var ids = Sampler.EncodePrompt(tokenizer, text);
        return ids.Length == 0 && tokenizer.EosId is int eos ? [eos] : ids;
    }

    /// <summary>Writes a <see cref="Gpt"/> as a Hugging Face GPT2LMHeadModel folder (Conv1D [in, out] weights, tied head).
    /// Biases absent from the model (Bias = false) are written as zeros, which is the same function.</summary>
    public static void ExportGpt(Gpt model, string folder, string? tokenizerName = null)
    {
        Directory.CreateDirectory(folder);
        var c = model.Config;
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["vocab_size"] = c.VocabSize,
            ["n_positions"] = c.ContextLength,
            ["n_ctx"] = c.ContextLength,
            ["n_embd"] = c.EmbeddingDim,
            ["n_layer"] = c.Layers,
            ["n_head"] = c.Heads,
            ["layer_norm_epsilon"] = 1e-5,
            ["activation_function"] = c.Activation == "gelu_tanh" ? "gelu_new" : "gelu",
            ["tie_word_embeddings"] = true,
            ["torch_dtype"] = "float32",
        };
        if (tokenizerName is not null) json[TokenizerField] = tokenizerName;
        WriteConfigJson(folder, json);

        using var scope = NewDisposeScope();
        var state = model.state_dict();
        var output = new Dictionary<string, Tensor>();
        foreach (var (name, p) in state)
        {
            var w = p.detach().cpu().to(float32);
            output[name] = (IsConv1D(name) ? w.t() : w).contiguous();
        }
        if (!c.Bias)
            foreach (var (name, p) in state.Where(kv => kv.Key.EndsWith(".weight") && !kv.Key.StartsWith("w")))
            {
                var bias = name[..^".weight".Length] + ".bias";
                output.TryAdd(bias, zeros(p.shape[0]));
            }
        WriteSafetensors(Path.Combine(folder, "model.safetensors"), output);
    }

    /// <summary>Exports a BonStudio checkpoint (.safetensors written by <see cref="Checkpoint"/>) to a Hugging Face folder.</summary>
    public static void ExportCheckpoint(string checkpointPath, string folder)
    {
        var (model, meta) = Checkpoint.Load(checkpointPath, CPU);
        using var _ = model;
        switch (model)
        {
            case Gpt gpt: ExportGpt(gpt, folder, meta.Tokenizer); break;
            case Llama llama: ExportLlama(llama, folder, meta.Tokenizer); break;
            default: throw new NotSupportedException($"{checkpointPath}: architecture '{meta.Architecture}' has no Hugging Face export.");
        }
    }

    private static bool IsConv1D(string name) => Conv1DSuffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal));
}
