// Hugging Face folders: LLaMA export → import, a GPT-2-layout folder written here (Conv1D [in, out]) into the native
// Gpt, BonStudio checkpoint export, shape refusal, and the GPT-2 BPE tokenizer.
using System.Text.Json.Nodes;
using BonStudio.Training.Models;
using BonStudio.Training.Models.Loaders;
using BonStudio.Training.Tests.Llama;
using BonStudio.Training.Text;
using static TorchSharp.torch;
using LlamaModel = BonStudio.Training.Models.Llama;

namespace BonStudio.Training.Tests.Loaders;

[Collection("Torch")]
public sealed class HuggingFaceLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bon-hf-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // GPT-2 uses the tanh approximation of GELU; the importer must honour it for logits to match.
    private static readonly GptConfig SmallGpt = new() { VocabSize = 60, ContextLength = 16, Layers = 2, Heads = 2, EmbeddingDim = 16, Activation = "gelu_tanh" };

    private static Tensor Logits(ICausalLM model, long[] ids)
    {
        using var _ = no_grad();
        return model.Forward(tensor(ids).view(1, -1), arange(ids.Length).view(1, -1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Llama_export_then_import_keeps_logits_identical(bool shared)
    {
        manual_seed(21);
        using var model = new LlamaModel(LlamaModelTests.Small(shared));
        var folder = Path.Combine(_dir, "llama");
        HuggingFaceLoader.ExportLlama(model, folder);

        using var imported = HuggingFaceLoader.LoadLlama(folder);
        Assert.Equal(RopeLayout.Halves, imported.Config.RopeLayout);                  // HF convention; q/k rows were permuted
        Assert.Equal(model.Config with { RopeLayout = RopeLayout.Halves }, imported.Config);
        long[] ids = [1, 7, 3, 22, 39, 5, 0, 12];
        // interleaved → halves permutes q/k dimensions, so dot products sum in another order: equal up to float rounding
        Assert.True(allclose(Logits(model, ids), Logits(imported, ids), 1e-5, 1e-5), "logits differ after export → import");

        // a model already in the HF layout round-trips bit for bit
        var again = Path.Combine(_dir, "llama2");
        HuggingFaceLoader.ExportLlama(imported, again);
        using var twice = HuggingFaceLoader.LoadLlama(again);
        Assert.Equal(imported.Config, twice.Config);
        Assert.True(Logits(imported, ids).eq(Logits(twice, ids)).all().item<bool>(), "halves-layout round trip is not exact");
    }

    [Fact]
    public void A_gpt2_layout_checkpoint_with_conv1d_weights_loads_and_matches_the_native_gpt()
    {
        manual_seed(5);
        using var native = new Gpt(SmallGpt);
        var folder = Path.Combine(_dir, "gpt2");
        WriteGpt2Folder(native, folder);

        using var gpt = HuggingFaceLoader.LoadGpt2(folder);
        Assert.Equal(SmallGpt with { Bias = true, Dropout = 0 }, gpt.Config);
        var state = gpt.state_dict();
        Assert.Equal(new long[] { 48, 16 }, state["h.0.attn.c_attn.weight"].shape);     // [out, in] after the transpose
        Assert.Equal(new long[] { 16, 64 }, state["h.1.mlp.c_proj.weight"].shape);
        long[] ids = [3, 1, 4, 1, 5, 9, 2, 6];
        Assert.True(allclose(Logits(native, ids), Logits(gpt, ids), 1e-6, 1e-6), "GPT-2 layout import differs from the native model");
    }

    [Fact]
    public void A_gpt2_folder_whose_shapes_do_not_match_config_is_refused_naming_the_tensor()
    {
        manual_seed(5);
        using var native = new Gpt(SmallGpt);
        var folder = Path.Combine(_dir, "bad");
        WriteGpt2Folder(native, folder, transposeConv1D: false);                      // stored [out, in]: wrong for GPT-2
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceLoader.LoadGpt2(folder));
        Assert.Contains("h.0.attn.c_attn.weight", e.Message);
        Assert.Contains("[16, 48]", e.Message);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        config["n_embd"] = 32;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        e = Assert.Throws<InvalidDataException>(() => HuggingFaceLoader.LoadGpt2(folder));
        Assert.Contains("wte.weight", e.Message);
        Assert.Contains("[60, 16]", e.Message);
    }

    [Fact]
    public void A_llama_folder_with_a_wrong_shape_is_refused()
    {
        manual_seed(2);
        using var model = new LlamaModel(LlamaModelTests.Small());
        var folder = Path.Combine(_dir, "llama-bad");
        HuggingFaceLoader.ExportLlama(model, folder);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!.AsObject();
        config["intermediate_size"] = 50;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => HuggingFaceLoader.LoadLlama(folder));
        Assert.Contains("mlp.gate_proj.weight", e.Message);
        Assert.Contains("[48, 32]", e.Message);
    }

    [Fact]
    public void BonStudio_checkpoints_export_to_hf_and_reload_with_identical_logits_and_tokenizer()
    {
        manual_seed(8);
        using var gpt = new Gpt(SmallGpt with { VocabSize = CharTokenizer.Instance.VocabSize, Bias = false });
        var checkpoint = Path.Combine(_dir, "gpt.safetensors");
        Checkpoint.Save(checkpoint, gpt, new CheckpointMetadata(Gpt.Architecture, gpt.Config.ToJson(), CharTokenizer.Instance.Name, 10));
        var folder = Path.Combine(_dir, "gpt-export");
        HuggingFaceLoader.ExportCheckpoint(checkpoint, folder);
        using var loaded = ModelLoader.Load(folder);
        Assert.Equal("hf-gpt2", loaded.Format);
        Assert.Equal("char:ascii", loaded.Tokenizer.Name);
        long[] ids = [1, 40, 41, 42, 3];
        Assert.True(allclose(Logits(gpt, ids), Logits(loaded.Model, ids), 1e-6, 1e-6));

        // a Llama checkpoint is stored and rebuilt like a trained model ("llama" is registered with Checkpoint)
        using var llama = new LlamaModel(LlamaModelTests.Small() with { VocabSize = CharTokenizer.Instance.VocabSize });
        var llamaCheckpoint = Path.Combine(_dir, "llama.safetensors");
        Checkpoint.Save(llamaCheckpoint, llama, new CheckpointMetadata(LlamaModel.Architecture, llama.Config.ToJson(), CharTokenizer.Instance.Name, 3));
        using var reloaded = ModelLoader.Load(llamaCheckpoint);
        Assert.Equal(llama.Config, Assert.IsType<LlamaModel>(reloaded.Model).Config);
        Assert.True(Logits(llama, ids).eq(Logits(reloaded.Model, ids)).all().item<bool>());
        var llamaFolder = Path.Combine(_dir, "llama-export");
        HuggingFaceLoader.ExportCheckpoint(llamaCheckpoint, llamaFolder);
        using var fromFolder = ModelLoader.Load(llamaFolder);
        Assert.Equal("hf-llama", fromFolder.Format);
        Assert.True(allclose(Logits(llama, ids), Logits(fromFolder.Model, ids), 1e-5, 1e-5));
        Assert.Equal("char:ascii", fromFolder.Tokenizer.Name);
    }

    [Fact]
    public void Gpt2_tokenizer_matches_the_reference_encoder()
    {
        var tokenizer = Gpt2Tokenizer.Instance;
        Assert.Equal(new[] { 15496, 995 }, tokenizer.Encode("Hello world"));
        Assert.Equal("Hello world", tokenizer.Decode([15496, 995]));
        Assert.Equal(50257, tokenizer.VocabSize);
        Assert.Null(tokenizer.BosId);
        Assert.Equal(50256, tokenizer.EosId);
        Assert.Same(tokenizer, TokenizerRegistry.Resolve("gpt2"));
    }

    /// <summary>Writes a native Gpt the way Hugging Face stores GPT-2: "transformer." prefix, Conv1D weights [in, out],
    /// the causal-mask buffers HF keeps in attn.bias, and config.json with GPT-2's field names.</summary>
    private static void WriteGpt2Folder(Gpt model, string folder, bool transposeConv1D = true)
    {
        Directory.CreateDirectory(folder);
        var c = model.Config;
        File.WriteAllText(Path.Combine(folder, "config.json"), new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = c.VocabSize, ["n_positions"] = c.ContextLength, ["n_embd"] = c.EmbeddingDim,
            ["n_layer"] = c.Layers, ["n_head"] = c.Heads, ["activation_function"] = "gelu_new",
        }.ToJsonString());
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, p) in model.state_dict())
        {
            bool conv = name.EndsWith("c_attn.weight") || name.EndsWith("c_proj.weight") || name.EndsWith("c_fc.weight");
            tensors["transformer." + name] = (conv && transposeConv1D ? p.t() : p).contiguous();
        }
        for (int i = 0; i < c.Layers; i++)
            tensors[$"transformer.h.{i}.attn.bias"] = ones(1, 1, c.ContextLength, c.ContextLength).tril();
        Safetensors.Save(Path.Combine(folder, "model.safetensors"), tensors);
    }
}
