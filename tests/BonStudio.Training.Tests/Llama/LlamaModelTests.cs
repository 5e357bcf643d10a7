// Behaviour of the Llama model itself: RoPE layouts, grouped-query attention, left padding with the KV cache.
using BonStudio.Training.Models;
using BonStudio.Training.Models.Loaders;
using static TorchSharp.torch;
using LlamaModel = BonStudio.Training.Models.Llama;

namespace BonStudio.Training.Tests.Llama;

[Collection("Torch")]
public sealed class LlamaModelTests
{
    internal static LlamaConfig Small(bool shared = false, RopeLayout layout = RopeLayout.Interleaved) => new()
    {
        Dim = 32, HiddenDim = 48, Layers = 2, Heads = 4, KvHeads = 2, VocabSize = 40, ContextLength = 32,
        SharedClassifier = shared, RopeLayout = layout,
    };

    [Fact]
    public void Left_padded_batch_with_cache_gives_the_same_logits_as_each_row_alone()
    {
        manual_seed(7);
        using var model = new LlamaModel(Small());
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long[] a = [1, 5, 9, 3, 7], b = [1, 2];

        Tensor Alone(long[] row) => model.Forward(tensor(row).view(1, -1), arange(row.Length).view(1, -1))[0, -1];

        // batch: b left-padded by 3; then one more token through the cache
        var tokens = tensor(new long[,] { { 1, 5, 9, 3, 7 }, { 0, 0, 0, 1, 2 } });
        var positions = tensor(new long[,] { { 0, 1, 2, 3, 4 }, { 0, 0, 0, 0, 1 } });
        var mask = tensor(new bool[,] { { true, true, true, true, true }, { false, false, false, true, true } });
        using var cache = model.NewCache();
        var prefill = model.Forward(tokens, positions, mask, cache);
        Assert.True(allclose(prefill[0, -1], Alone(a), 1e-5, 1e-5));
        Assert.True(allclose(prefill[1, -1], Alone(b), 1e-5, 1e-5));

        var step = model.Forward(tensor(new long[,] { { 11 }, { 12 } }), tensor(new long[,] { { 5 }, { 2 } }),
            cat([mask, ones(2, 1, dtype: ScalarType.Bool)], 1), cache);
        Assert.True(allclose(step[0, -1], Alone([.. a, 11]), 1e-5, 1e-5));
        Assert.True(allclose(step[1, -1], Alone([.. b, 12]), 1e-5, 1e-5));
        Assert.False(step.isnan().any().item<bool>());
    }

    [Fact]
    public void Halves_layout_with_permuted_q_k_rows_equals_interleaved_layout()
    {
        manual_seed(3);
        using var interleaved = new LlamaModel(Small());
        using var halves = new LlamaModel(Small(layout: RopeLayout.Halves));
        using (no_grad())
        {
            var source = interleaved.state_dict();
            foreach (var (name, p) in halves.state_dict())
            {
                var w = source[name];
                if (name.EndsWith("wq.weight")) w = HuggingFaceLoader.InterleavedToHalves(w, 4);
                if (name.EndsWith("wk.weight")) w = HuggingFaceLoader.InterleavedToHalves(w, 2);
                p.copy_(w);
            }
        }
        using var _ = no_grad();
        var tokens = tensor(new long[] { 1, 4, 8, 15, 16, 23, 42 % 40 }).view(1, -1);
        var pos = arange(7).view(1, -1);
        Assert.True(allclose(interleaved.Forward(tokens, pos), halves.Forward(tokens, pos), 1e-5, 1e-5));
        // and the permutation is invertible
        var wq = interleaved.state_dict()["layers.0.attention.wq.weight"];
        Assert.True(HuggingFaceLoader.HalvesToInterleaved(HuggingFaceLoader.InterleavedToHalves(wq, 4), 4).eq(wq).all().item<bool>());
    }

    [Fact]
    public void Rope_leaves_position_zero_unchanged_and_rotates_pairs_as_documented()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, 2, 3, 4 }).view(1, 1, 1, 4);                 // one head of size 4
        var (cos0, sin0) = Rope.Angles(tensor(new long[] { 0 }).view(1, 1), 4, 10000);
        Assert.True(Rope.Apply(x, cos0, sin0, RopeLayout.Interleaved).eq(x).all().item<bool>());
        var (cos, sin) = Rope.Angles(tensor(new long[] { 3 }).view(1, 1), 4, 10000);
        var y = Rope.Apply(x, cos, sin, RopeLayout.Interleaved).flatten().data<float>().ToArray();
        double a0 = 3, a1 = 3 / 100.0;                                                 // angles: pos * 10000^(-d/4), d = 0, 2
        Assert.Equal(1 * Math.Cos(a0) - 2 * Math.Sin(a0), (double)y[0], 1e-5);
        Assert.Equal(1 * Math.Sin(a0) + 2 * Math.Cos(a0), (double)y[1], 1e-5);
        Assert.Equal(3 * Math.Cos(a1) - 4 * Math.Sin(a1), (double)y[2], 1e-5);
        var h = Rope.Apply(x, cos, sin, RopeLayout.Halves).flatten().data<float>().ToArray();
        Assert.Equal(1 * Math.Cos(a0) - 3 * Math.Sin(a0), (double)h[0], 1e-5);                   // pairs (0, 2) and (1, 3)
        Assert.Equal(1 * Math.Sin(a0) + 3 * Math.Cos(a0), (double)h[2], 1e-5);
    }

    [Fact]
    public void Gradients_flow_and_a_few_adamw_steps_fit_a_repeating_sequence()
    {
        manual_seed(4);
        using var model = new LlamaModel(Small());
        model.train();
        using var optimizer = TorchSharp.torch.optim.AdamW(model.parameters(), lr: 3e-3);
        var data = tensor(Enumerable.Range(0, 17).Select(i => (long)(i % 5 + 3)).ToArray()).view(1, -1);
        var inputs = data.narrow(1, 0, 16); var targets = data.narrow(1, 1, 16);
        double first = 0, last = 0;
        for (int step = 0; step < 40; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.forward(inputs);                                       // (1, 16, V)
            var loss = TorchSharp.torch.nn.functional.cross_entropy(logits.view(-1, 40), targets.reshape(-1));
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first / 4, $"loss went from {first} to {last}");
    }

    [Fact]
    public void Invalid_config_is_refused_naming_the_field()
    {
        var e = Assert.Throws<ArgumentException>(() => new LlamaModel(Small() with { KvHeads = 3 }));
        Assert.Contains("KvHeads", e.Message);
    }
}
