using BonStudio.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.Models;

[Collection("Torch")]
public class GptTests
{
    internal static readonly GptConfig Tiny = new() { VocabSize = 20, ContextLength = 32, Layers = 2, Heads = 2, EmbeddingDim = 16 };

    internal static Gpt NewModel(long seed = 1, GptConfig? config = null)
    {
        torch.manual_seed(seed);
        var model = new Gpt(config ?? Tiny);
        model.eval();
        return model;
    }

    internal static Tensor Positions(long batch, long length) =>
        arange(length, dtype: ScalarType.Int64).unsqueeze(0).expand(batch, -1);

    [Fact]
    public void Forward_returns_batch_by_time_by_vocab_logits()
    {
        using var model = NewModel();
        using var tokens = randint(0, 20, [3, 7], dtype: ScalarType.Int64);
        using var logits = model.Forward(tokens, Positions(3, 7));
        Assert.Equal(new long[] { 3, 7, 20 }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public void Future_tokens_do_not_change_past_logits()
    {
        using var model = NewModel();
        using var a = randint(0, 20, [2, 10], dtype: ScalarType.Int64);
        using var b = a.clone();
        b[.., 6..] = randint(0, 20, [2, 4], dtype: ScalarType.Int64);
        using var la = model.Forward(a, Positions(2, 10));
        using var lb = model.Forward(b, Positions(2, 10));
        Assert.True(la[.., ..6].allclose(lb[.., ..6], rtol: 1e-5, atol: 1e-6));
        Assert.False(la[.., 6..].allclose(lb[.., 6..], rtol: 1e-5, atol: 1e-6)); // the later positions do see them
    }

    [Fact]
    public void Cached_forward_in_pieces_equals_one_full_forward()
    {
        using var model = NewModel();
        using var tokens = randint(0, 20, [2, 12], dtype: ScalarType.Int64);
        using var full = model.Forward(tokens, Positions(2, 12));
        using var cache = model.NewCache();
        using var first = model.Forward(tokens[.., ..5], Positions(2, 5), null, cache);
        var pieces = new List<Tensor> { first };
        for (int t = 5; t < 12; t++)
            pieces.Add(model.Forward(tokens[.., t..(t + 1)], full_like(tokens[.., ..1], t), null, cache));
        Assert.Equal(12, cache.Length);
        using var joined = cat(pieces, 1);
        Assert.True(joined.allclose(full, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Cache_grows_past_its_first_buffer_and_keeps_selected_rows()
    {
        using var model = NewModel(config: Tiny with { ContextLength = 160 });
        using var tokens = randint(0, 20, [3, 150], dtype: ScalarType.Int64);
        using var full = model.Forward(tokens, Positions(3, 150));
        using var cache = model.NewCache();
        using var first = model.Forward(tokens[.., ..50], Positions(3, 50), null, cache);
        using var second = model.Forward(tokens[.., 50..100], Positions(3, 150)[.., 50..100], null, cache); // grows 64 → 128
        Assert.True(second.allclose(full[.., 50..100], rtol: 1e-4, atol: 1e-5));
        using var rows = tensor(new long[] { 2, 0 });
        cache.SelectRows(rows);                                                                 // rows 1 leaves the batch
        Assert.Equal(2, cache.Rows);
        using var third = model.Forward(tokens.index_select(0, rows)[.., 100..150], Positions(2, 150)[.., 100..150], null, cache); // 128 → 256
        Assert.Equal(150, cache.Length);
        Assert.True(third.allclose(full.index_select(0, rows)[.., 100..150], rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Left_padded_row_gives_the_same_logits_as_the_row_alone()
    {
        using var model = NewModel();
        using var row = randint(0, 20, [1, 5], dtype: ScalarType.Int64);
        using var alone = model.Forward(row, Positions(1, 5));
        // Pad to 8 with junk tokens on the left; the real tokens keep positions 0..4.
        using var padded = cat([tensor(new long[] { 7, 7, 7 }).unsqueeze(0), row], 1);
        using var positions = tensor(new long[] { 0, 0, 0, 0, 1, 2, 3, 4 }).unsqueeze(0);
        using var mask = tensor(new[] { false, false, false, true, true, true, true, true }).unsqueeze(0);
        using var logits = model.Forward(padded, positions, mask);
        Assert.True(logits[.., 3..].allclose(alone, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Too_long_sequences_and_bad_configs_are_refused()
    {
        using var model = NewModel();
        using var tokens = zeros([1, 33], ScalarType.Int64);
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(tokens, Positions(1, 33)));
        Assert.Contains("context length 32", ex.Message);
        var bad = Assert.Throws<ArgumentException>(() => new Gpt(Tiny with { EmbeddingDim = 15 }));
        Assert.Contains("EmbeddingDim", bad.Message);
    }

    [Fact]
    public void Head_is_tied_to_the_token_embedding()
    {
        using var model = NewModel();
        var names = model.state_dict().Keys.ToList();
        Assert.Contains("wte.weight", names);
        Assert.DoesNotContain(names, n => n.Contains("lm_head"));
        // 2 layers × (12·C² + 13·C with biases and 2 LayerNorms) + wte + wpe + ln_f, C = 16.
        long c = 16, expected = 2 * (12 * c * c + 13 * c) + 20 * c + 32 * c + 2 * c;
        Assert.Equal(expected, model.ParameterCount);
    }
}
