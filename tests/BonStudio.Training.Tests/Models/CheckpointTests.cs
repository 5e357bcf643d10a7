using BonStudio.Training.Models;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.Models;

[Collection("Torch")]
public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bonstudio-ckpt-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Save_then_load_gives_identical_logits_and_metadata()
    {
        using var model = GptTests.NewModel(seed: 3);
        var path = Path.Combine(_dir, "m.safetensors");
        Checkpoint.Save(path, model, new CheckpointMetadata("gpt", GptTests.Tiny.ToJson(), "char:ascii", 42, "{\"Steps\":7}"));

        var (loaded, meta) = Checkpoint.LoadGpt(path, CPU);
        using var _ = loaded;
        Assert.Equal(42, meta.Step);
        Assert.Equal("char:ascii", meta.Tokenizer);
        Assert.Equal("{\"Steps\":7}", meta.TrainingConfigJson);
        Assert.Equal(GptTests.Tiny, loaded.Config);

        using var tokens = randint(0, 20, [2, 9], dtype: ScalarType.Int64);
        using var a = model.Forward(tokens, GptTests.Positions(2, 9));
        using var b = loaded.Forward(tokens, GptTests.Positions(2, 9));
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void File_layout_is_standard_safetensors()
    {
        using var t = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        var path = Path.Combine(_dir, "t.safetensors");
        Safetensors.Save(path, [new("x", t)], new Dictionary<string, string> { ["k"] = "v" });
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        Assert.Contains("\"__metadata__\":{\"k\":\"v\"}", header);
        Assert.Contains("\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}", header);
        Assert.Equal(8 + headerLength + 24, bytes.Length);
        Assert.Equal(5f, BitConverter.ToSingle(bytes, (int)(8 + headerLength + 20)));
    }

    [Fact]
    public void A_file_whose_shapes_do_not_match_the_model_is_refused()
    {
        using var big = GptTests.NewModel(config: GptTests.Tiny with { EmbeddingDim = 32 });
        var path = Path.Combine(_dir, "big.safetensors");
        Checkpoint.Save(path, big, new CheckpointMetadata("gpt", (GptTests.Tiny with { EmbeddingDim = 32 }).ToJson(), "char:ascii", 1));
        using var small = GptTests.NewModel();
        var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.LoadInto(small, path));
        Assert.Contains("wte.weight", ex.Message);
        Assert.Contains("[20, 32]", ex.Message);
        Assert.Contains("[20, 16]", ex.Message);

        // A config in the metadata that disagrees with the tensors is refused too.
        var lying = Path.Combine(_dir, "lying.safetensors");
        Checkpoint.Save(lying, big, new CheckpointMetadata("gpt", GptTests.Tiny.ToJson(), "char:ascii", 1));
        Assert.Throws<InvalidDataException>(() => Checkpoint.LoadGpt(lying, CPU));
    }

    [Fact]
    public void A_file_that_is_not_safetensors_is_refused()
    {
        var path = Path.Combine(_dir, "junk.safetensors");
        File.WriteAllText(path, "this is not a checkpoint at all");
        var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadMetadata(path));
        Assert.Contains(path, ex.Message);
    }
}
