// Model import (ModelImporter): the llama2.c fixture and a GPT-2-layout folder are converted into BonStudio
// checkpoints that Checkpoint.LoadCausalLM + TokenizerRegistry (the path every run kind uses) reload with identical
// logits and the same prompt encoding; bad sources are refused before anything is written.
using BonStudio.Training.Models;
using BonStudio.Training.Models.Loaders;
using BonStudio.Training.Sampling;
using BonStudio.Training.Text;
using static TorchSharp.torch;
using LlamaModel = BonStudio.Training.Models.Llama;

namespace BonStudio.Training.Tests.Loaders;

[Collection("Torch")]
public sealed class ModelImporterTests : IDisposable
{
    private static readonly string Llama2cFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama2c");
    private readonly string _dir = Directory.CreateTempSubdirectory("bon-import-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Tensor Logits(ICausalLM model, int[] ids)
    {
        using var _ = no_grad();
        return model.Forward(tensor(ids.Select(i => (long)i).ToArray()).view(1, -1), arange(ids.Length).view(1, -1));
    }

    [Fact]
    public void The_llama2c_fixture_imports_as_a_checkpoint_with_identical_logits_and_prompt_ids()
    {
        // Arrange: a private copy of the fixture (the import must not depend on the source staying put).
        var source = Path.Combine(_dir, "src");
        Directory.CreateDirectory(source);
        File.Copy(Path.Combine(Llama2cFolder, "stories260K.bin"), Path.Combine(source, "stories260K.bin"));
        File.Copy(Path.Combine(Llama2cFolder, "tok512.bin"), Path.Combine(source, "tok512.bin"));
        using var original = ModelLoader.Load(Path.Combine(source, "stories260K.bin"));

        // Act
        var imported = ModelImporter.Import(Path.Combine(source, "stories260K.bin"), null, Path.Combine(_dir, "models", "a"), Path.Combine(_dir, "tokenizers"));
        Directory.Delete(source, recursive: true);

        // Assert: metadata, a content-addressed tokenizer, and the model as every run kind loads it.
        Assert.Equal(("llama", "llama2c"), (imported.Architecture, imported.SourceFormat));
        Assert.StartsWith(Llama2cTokenizerStore.Prefix, imported.Tokenizer);
        Assert.True(File.Exists(Path.Combine(_dir, "tokenizers", imported.Tokenizer[Llama2cTokenizerStore.Prefix.Length..] + ".bin")));
        Assert.Equal(((LlamaModel)original.Model).Config.ParameterCount, imported.Parameters);
        var (model, meta) = Checkpoint.LoadCausalLM(imported.CheckpointPath, CPU);
        using var module = (nn.Module)model;
        Assert.Equal(imported.Tokenizer, meta.Tokenizer);
        var tokenizer = TokenizerRegistry.Resolve(meta.Tokenizer);
        Assert.Equal(512, tokenizer.VocabSize);
        const string prompt = "Once upon a time, Lily";
        var ids = Sampler.EncodePrompt(tokenizer, prompt);
        Assert.Equal(original.EncodePrompt(prompt), ids);
        Assert.True(Logits(original.Model, ids).eq(Logits(model, ids)).all().item<bool>(), "imported logits differ from the llama2.c checkpoint's");
        Assert.Equal(original.Tokenizer.Decode(ids[1..]), tokenizer.Decode(ids[1..]));

        // importing the same tokenizer again reuses the stored file; an existing destination is refused
        var again = ModelImporter.Import(imported.CheckpointPath, null, Path.Combine(_dir, "models", "b"), Path.Combine(_dir, "tokenizers"));
        Assert.Equal(imported.Tokenizer, again.Tokenizer);
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "tokenizers")));
        Assert.Throws<IOException>(() => ModelImporter.Import(imported.CheckpointPath, null, Path.Combine(_dir, "models", "b"), Path.Combine(_dir, "tokenizers")));
    }

    [Fact]
    public void A_gpt2_layout_folder_imports_with_the_gpt2_bpe_tokenizer_and_identical_logits()
    {
        manual_seed(3);
        using var gpt = new Gpt(new GptConfig { VocabSize = Gpt2Tokenizer.GptVocabSize, ContextLength = 16, Layers = 1, Heads = 2, EmbeddingDim = 8, Activation = "gelu_tanh" });
        var folder = Path.Combine(_dir, "gpt2");
        HuggingFaceLoader.ExportGpt(gpt, folder);                                  // no bonstudio_tokenizer: GPT-2's BPE

        var imported = ModelImporter.Import(folder, null, Path.Combine(_dir, "models", "gpt2"), Path.Combine(_dir, "tokenizers"));

        Assert.Equal(("gpt", "gpt2", "hf-gpt2"), (imported.Architecture, imported.Tokenizer, imported.SourceFormat));
        Assert.Equal(gpt.ParameterCount, imported.Parameters);
        var (model, meta) = Checkpoint.LoadCausalLM(imported.CheckpointPath, CPU);
        using var module = (nn.Module)model;
        var ids = Sampler.EncodePrompt(TokenizerRegistry.Resolve(meta.Tokenizer), "Hello world");
        Assert.Equal(Gpt2Tokenizer.Instance.Encode("Hello world"), ids);
        Assert.True(allclose(Logits(gpt, ids), Logits(model, ids), 1e-6, 1e-6));
    }

    [Fact]
    public void Sources_of_the_wrong_shape_are_refused_before_anything_is_written()
    {
        var destination = Path.Combine(_dir, "models", "x");
        var tokenizers = Path.Combine(_dir, "tokenizers");
        var missing = Assert.Throws<FileNotFoundException>(() => ModelImporter.Import(Path.Combine(_dir, "nope.bin"), null, destination, tokenizers));
        Assert.Contains("does not exist", missing.Message);

        var text = Path.Combine(_dir, "notes.txt");
        File.WriteAllText(text, "hello");
        Assert.Contains("neither a llama2.c", Assert.Throws<ArgumentException>(() => ModelImporter.Import(text, null, destination, tokenizers)).Message);

        var emptyFolder = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        Assert.Contains("no config.json", Assert.Throws<FileNotFoundException>(() => ModelImporter.Import(emptyFolder, null, destination, tokenizers)).Message);

        // a llama2.c file cut short: its size does not match its header
        var truncated = Path.Combine(_dir, "short.bin");
        var bytes = File.ReadAllBytes(Path.Combine(Llama2cFolder, "stories260K.bin"));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        File.Copy(Path.Combine(Llama2cFolder, "tok512.bin"), Path.Combine(_dir, "tok512.bin"));
        Assert.Throws<InvalidDataException>(() => ModelImporter.Import(truncated, null, destination, tokenizers));

        Assert.False(Directory.Exists(destination));
        Assert.Empty(Directory.GetDirectories(_dir, "x*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Llama_hidden_states_times_the_tied_classifier_are_its_logits()
    {
        manual_seed(4);
        using var llama = new LlamaModel(BonStudio.Training.Tests.Llama.LlamaModelTests.Small(shared: true));
        using var _ = no_grad();
        var tokens = tensor(new long[] { 1, 5, 9, 2, 7 }).view(1, -1);
        var hidden = llama.HiddenStates(tokens);                                        // (1, T, C)
        Assert.Equal([1L, 5L, llama.Config.Dim], hidden.shape);
        var logits = nn.functional.linear(hidden, llama.get_parameter("tok_embeddings.weight")!);
        Assert.True(allclose(logits, llama.forward(tokens), 1e-6, 1e-6));
    }
}
