// llama2.c checkpoint writer/reader round trip and refusal of malformed files.
using BonStudio.Training.Models;
using BonStudio.Training.Models.Loaders;
using BonStudio.Training.Tests.Llama;
using static TorchSharp.torch;
using LlamaModel = BonStudio.Training.Models.Llama;

namespace BonStudio.Training.Tests.Loaders;

[Collection("Torch")]
public sealed class Llama2cCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bon-llama2c-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Write_then_load_keeps_logits_identical_for_shared_and_separate_classifiers(bool shared)
    {
        manual_seed(11);
        using var model = new LlamaModel(LlamaModelTests.Small(shared));
        var path = Path.Combine(_dir, "m.bin");
        Llama2cCheckpoint.Write(path, model);

        var config = Llama2cCheckpoint.ReadConfig(path);
        Assert.Equal(shared, config.SharedClassifier);
        using var loaded = Llama2cCheckpoint.Load(path);
        using var _ = no_grad();
        var tokens = tensor(new long[] { 1, 2, 3, 4, 5 }).view(1, -1);
        var pos = arange(5).view(1, -1);
        Assert.True(model.Forward(tokens, pos).eq(loaded.Forward(tokens, pos)).all().item<bool>());
    }

    [Fact]
    public void A_file_whose_size_does_not_match_its_header_is_refused_with_expected_and_actual_bytes()
    {
        var path = Path.Combine(_dir, "short.bin");
        var bytes = File.ReadAllBytes(Llama2cReferenceTests.ModelPath);
        File.WriteAllBytes(path, bytes[..^4]);
        var e = Assert.Throws<InvalidDataException>(() => Llama2cCheckpoint.Load(path));
        Assert.Contains("1056536 bytes", e.Message);
        Assert.Contains("implies 1056540 bytes", e.Message);

        File.WriteAllBytes(path, [.. bytes, 0, 0, 0, 0]);
        e = Assert.Throws<InvalidDataException>(() => ModelLoader.Load(path, Llama2cReferenceTests.TokenizerPath));
        Assert.Contains("1056544 bytes", e.Message);
    }

    [Fact]
    public void A_header_with_invalid_fields_is_refused_naming_the_field()
    {
        var path = Path.Combine(_dir, "bad.bin");
        using (var w = new BinaryWriter(File.Create(path)))
            foreach (var v in new[] { 64, 172, 5, 8, 3, 512, 512 }) w.Write(v);       // 8 heads, 3 kv heads
        var e = Assert.Throws<InvalidDataException>(() => Llama2cCheckpoint.Load(path));
        Assert.Contains("KvHeads", e.Message);
    }

    [Fact]
    public void Missing_tokenizer_is_reported_with_what_to_do()
    {
        manual_seed(1);
        using var model = new LlamaModel(LlamaModelTests.Small());
        var path = Path.Combine(_dir, "lonely.bin");
        Llama2cCheckpoint.Write(path, model);
        var e = Assert.Throws<FileNotFoundException>(() => ModelLoader.Load(path));
        Assert.Contains("--tokenizer", e.Message);
    }
}
