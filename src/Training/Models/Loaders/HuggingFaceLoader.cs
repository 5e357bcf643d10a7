// Hugging Face model folders (config.json + *.safetensors, optional tokenizer files) for LLaMA-architecture
// checkpoints, and export of BonStudio's Llama to that layout.
// HF LLaMA checkpoints use rotate-halves RoPE: Meta's interleaved q/k rows were permuted by
// convert_llama_weights_to_hf.py (w.view(heads, d/heads/2, 2, in).transpose(1, 2)), so an imported model keeps the
// weights as stored and runs with RopeLayout.Halves; exporting an interleaved model applies that permutation.
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Training.Sampling;
using BonStudio.Training.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Models.Loaders;

public static partial class HuggingFaceLoader
{
    /// <summary>config.json field naming the BonStudio tokenizer of an exported model (a TokenizerRegistry name).</summary>
    public const string TokenizerField = "bonstudio_tokenizer";

    /// <summary>Loads a Hugging Face folder; the architecture comes from config.json's model_type.</summary>
    public static LoadedModel Load(string folder, string? tokenizerPath = null, Device? device = null)
    {
        var config = ReadConfigJson(folder);
        var modelType = config["model_type"]?.GetValue<string>();
        return modelType switch
        {
            "llama" => LoadLlamaFolder(folder, config, tokenizerPath, device),
            "gpt2" => LoadGpt2Folder(folder, config, tokenizerPath, device),
            _ => throw new NotSupportedException(
                $"{Path.Combine(folder, "config.json")}: model_type '{modelType}' is not supported (supported: llama, gpt2)."),
        };
    }

    // ---------------------------------------------------------------- LLaMA

    /// <summary>Reads a LLaMA config.json into a <see cref="LlamaConfig"/> (rotate-halves RoPE).</summary>
    public static LlamaConfig ReadLlamaConfig(string folder, JsonObject? json = null)
    {
        json ??= ReadConfigJson(folder);
        var where = Path.Combine(folder, "config.json");
        if (json["rope_scaling"] is JsonNode scaling && scaling.GetValueKind() != JsonValueKind.Null)
            throw new NotSupportedException($"{where}: rope_scaling is not supported.");
        int heads = Int(json, "num_attention_heads", where);
        var config = new LlamaConfig
        {
            Dim = Int(json, "hidden_size", where),
            HiddenDim = Int(json, "intermediate_size", where),
            Layers = Int(json, "num_hidden_layers", where),
            Heads = heads,
            KvHeads = json["num_key_value_heads"] is null ? heads : Int(json, "num_key_value_heads", where),
            VocabSize = Int(json, "vocab_size", where),
            ContextLength = Int(json, "max_position_embeddings", where),
            NormEps = json["rms_norm_eps"]?.GetValue<double>() ?? 1e-6,
            RopeTheta = json["rope_theta"]?.GetValue<double>() ?? 10000.0,
            RopeLayout = RopeLayout.Halves,
            SharedClassifier = json["tie_word_embeddings"]?.GetValue<bool>() ?? false,
        };
        try { config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{where}: {e.Message}", e); }
        return config;
    }

    /// <summary>Loads only the LLaMA weights of a Hugging Face folder.</summary>
    public static Llama LoadLlama(string folder, Device? device = null)
    {
        var config = ReadLlamaConfig(folder);
        var model = new Llama(config);
        try
        {
            using var scope = NewDisposeScope();
            var tensors = ReadSafetensors(folder);
            var state = model.state_dict();
            using (no_grad())
            {
                foreach (var (ours, hf) in LlamaNames(config))
                {
                    if (!tensors.TryGetValue(hf, out var source))
                        throw new InvalidDataException($"{folder}: tensor '{hf}' is missing from the safetensors files.");
                    CopyChecked(state[ours], source, hf, folder);
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

    private static LoadedModel LoadLlamaFolder(string folder, JsonObject json, string? tokenizerPath, Device? device)
    {
        var model = LoadLlama(folder, device);
        try
        {
            if (tokenizerPath is null && json[TokenizerField]?.GetValue<string>() is { } registered)
            {
                var named = TokenizerRegistry.Resolve(registered);
                return new LoadedModel(model, named, named.EosId, "hf-llama", text => Sampler.EncodePrompt(named, text));
            }
            var tokPath = tokenizerPath ?? new[] { "tokenizer.bin", "tokenizer.json" }.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException(
                    $"{folder}: no tokenizer this loader reads; pass --tokenizer with a llama2.c tokenizer.bin or a SentencePiece-style tokenizer.json.");
            var tokenizer = tokPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? HfLlamaTokenizerJson.Load(tokPath, model.Config.VocabSize)
                : Llama2cTokenizer.Load(tokPath, model.Config.VocabSize);
            return new LoadedModel(model, tokenizer, tokenizer.BosId, "hf-llama", tokenizer.EncodeWithBos);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="model"/> as a Hugging Face LlamaForCausalLM folder (config.json + model.safetensors).
    /// <paramref name="tokenizerName"/> (a <see cref="TokenizerRegistry"/> name) is recorded in config.json.</summary>
    public static void ExportLlama(Llama model, string folder, string? tokenizerName = null)
    {
        Directory.CreateDirectory(folder);
        var c = model.Config;
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = c.Dim,
            ["intermediate_size"] = c.HiddenDim,
            ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads,
            ["num_key_value_heads"] = c.KvHeads,
            ["vocab_size"] = c.VocabSize,
            ["max_position_embeddings"] = c.ContextLength,
            ["rms_norm_eps"] = c.NormEps,
            ["rope_theta"] = c.RopeTheta,
            ["tie_word_embeddings"] = c.SharedClassifier,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = "float32",
        };
        if (tokenizerName is not null) json[TokenizerField] = tokenizerName;
        WriteConfigJson(folder, json);

        using var scope = NewDisposeScope();
        var state = model.state_dict();
        var output = new Dictionary<string, Tensor>();
        foreach (var (ours, hf) in LlamaNames(c))
        {
            var w = state[ours].detach().cpu().to(float32);
            if (c.RopeLayout == RopeLayout.Interleaved && ours.EndsWith("attention.wq.weight")) w = InterleavedToHalves(w, c.Heads);
            if (c.RopeLayout == RopeLayout.Interleaved && ours.EndsWith("attention.wk.weight")) w = InterleavedToHalves(w, c.KvHeads);
            output[hf] = w.contiguous();
        }
        WriteSafetensors(Path.Combine(folder, "model.safetensors"), output);
    }

    /// <summary>Meta → HF row order of a q/k projection: per head, rows (2j, 2j+1) go to (j, j + d/2).</summary>
    public static Tensor InterleavedToHalves(Tensor w, int heads)
    {
        long rows = w.shape[0], cols = w.shape[1];
        return w.view(heads, rows / heads / 2, 2, cols).transpose(1, 2).reshape(rows, cols);
    }

    /// <summary>HF → Meta row order (inverse of <see cref="InterleavedToHalves"/>).</summary>
    public static Tensor HalvesToInterleaved(Tensor w, int heads)
    {
        long rows = w.shape[0], cols = w.shape[1];
        return w.view(heads, 2, rows / heads / 2, cols).transpose(1, 2).reshape(rows, cols);
    }

    private static IEnumerable<(string Ours, string Hf)> LlamaNames(LlamaConfig c)
    {
        yield return ("tok_embeddings.weight", "model.embed_tokens.weight");
        for (int i = 0; i < c.Layers; i++)
        {
            yield return ($"layers.{i}.attention_norm.weight", $"model.layers.{i}.input_layernorm.weight");
            yield return ($"layers.{i}.attention.wq.weight", $"model.layers.{i}.self_attn.q_proj.weight");
            yield return ($"layers.{i}.attention.wk.weight", $"model.layers.{i}.self_attn.k_proj.weight");
            yield return ($"layers.{i}.attention.wv.weight", $"model.layers.{i}.self_attn.v_proj.weight");
            yield return ($"layers.{i}.attention.wo.weight", $"model.layers.{i}.self_attn.o_proj.weight");
            yield return ($"layers.{i}.ffn_norm.weight", $"model.layers.{i}.post_attention_layernorm.weight");
            yield return ($"layers.{i}.feed_forward.w1.weight", $"model.layers.{i}.mlp.gate_proj.weight");
            yield return ($"layers.{i}.feed_forward.w2.weight", $"model.layers.{i}.mlp.down_proj.weight");
            yield return ($"layers.{i}.feed_forward.w3.weight", $"model.layers.{i}.mlp.up_proj.weight");
        }
        yield return ("norm.weight", "model.norm.weight");
        if (!c.SharedClassifier) yield return ("output.weight", "lm_head.weight");
    }

    // ---------------------------------------------------------------- shared helpers

    private static JsonObject ReadConfigJson(string folder)
    {
        var path = Path.Combine(folder, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"Hugging Face folder '{folder}' has no config.json.", path);
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidDataException($"{path}: expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
    }

    private static int Int(JsonObject json, string field, string where)
    {
        var node = json[field] ?? throw new InvalidDataException($"{where}: field '{field}' is missing.");
        try { return node.GetValue<int>(); }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{where}: field '{field}' must be an integer (got {node.ToJsonString()}).", e);
        }
    }

    /// <summary>Copies <paramref name="source"/> into a parameter after checking its shape; converts to float32.</summary>
    private static void CopyChecked(Tensor target, Tensor source, string name, string folder)
    {
        if (!target.shape.SequenceEqual(source.shape))
            throw new InvalidDataException(
                $"{folder}: tensor '{name}' has shape [{string.Join(", ", source.shape)}] but config.json implies [{string.Join(", ", target.shape)}].");
        target.copy_(source.to(target.dtype));
    }

    /// <summary>All tensors of every *.safetensors file in the folder (keys must not repeat across files).</summary>
    private static Dictionary<string, Tensor> ReadSafetensors(string folder)
    {
        var files = Directory.GetFiles(folder, "*.safetensors").OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new FileNotFoundException($"Hugging Face folder '{folder}' has no *.safetensors file.");
        var all = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var file in files)
            foreach (var (name, t) in Safetensors.Load(file).Tensors)
                if (!all.TryAdd(name, t)) throw new InvalidDataException($"{file}: tensor '{name}' also appears in another safetensors file.");
        return all;
    }

    private static void WriteSafetensors(string path, Dictionary<string, Tensor> tensors) =>
        Safetensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

    private static void WriteConfigJson(string folder, JsonObject json) =>
        File.WriteAllText(Path.Combine(folder, "config.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}
