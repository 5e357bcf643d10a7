// Batched, KV-cached decoding over any ICausalLM with left-padded prompts of different lengths: one prefill pass,
// then one token per row per step. Greedy at temperature 0 (first index on ties), otherwise softmax sampling with
// an explicit torch.Generator so results depend only on the seed. Stops a row at the end token (not included).
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Models.Loaders;

/// <summary>Decoding settings.</summary>
public sealed record GenerationOptions
{
    /// <summary>Largest number of new tokens per prompt.</summary>
    public int MaxNewTokens { get; init; } = 64;
    /// <summary>0 = greedy (first index on ties); otherwise logits are divided by it before sampling.</summary>
    public double Temperature { get; init; } = 0.0;
    /// <summary>Token that ends a row (not included in the output); null = never stop early.</summary>
    public int? EndToken { get; init; }
    /// <summary>Seed of the sampling generator (ignored when greedy).</summary>
    public long Seed { get; init; } = 0;
}

public static class Generation
{
    /// <summary>
    /// Generates a continuation for each prompt (all in one batch). Every prompt must be non-empty.
    /// Returns the new ids per prompt, without the end token. Also stops at the model's context length.
    /// </summary>
    public static int[][] Generate(ICausalLM model, IReadOnlyList<int[]> prompts, GenerationOptions options)
    {
        if (prompts.Count == 0) return [];
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("every prompt needs at least one token (e.g. BOS).");
        if (options.Temperature < 0) throw new ArgumentException($"temperature must be >= 0 (got {options.Temperature}).");
        if (options.MaxNewTokens < 0) throw new ArgumentException($"max new tokens must be >= 0 (got {options.MaxNewTokens}).");
        int B = prompts.Count, longest = prompts.Max(p => p.Length);
        if (longest > model.ContextLength)
            throw new ArgumentException($"a prompt of {longest} tokens does not fit the model's context of {model.ContextLength}.");
        int maxNew = Math.Min(options.MaxNewTokens, model.ContextLength - longest + 1);
        var device = model.Device;
        var outputs = Enumerable.Range(0, B).Select(_ => new List<int>()).ToArray();
        var finished = new bool[B];
        if (maxNew <= 0) return outputs.Select(o => o.ToArray()).ToArray();

        using var noGrad = no_grad();
        using var cache = model.NewCache();
        using var generator = options.Temperature > 0 ? new Generator((ulong)options.Seed, device) : null;

        // prefill: left-pad so every prompt ends in the last column; a row's first real token has position 0
        var tokens = new long[B, longest];
        var positions = new long[B, longest];
        var mask = new bool[B, longest];
        for (int b = 0; b < B; b++)
        {
            int pad = longest - prompts[b].Length;
            for (int t = 0; t < longest; t++)
            {
                bool real = t >= pad;
                tokens[b, t] = real ? prompts[b][t - pad] : 0;
                positions[b, t] = real ? t - pad : 0;
                mask[b, t] = real;
            }
        }
        var keyMask = tensor(mask, device: device).DetachFromDisposeScope();
        var nextPositions = tensor(prompts.Select(p => (long)p.Length).ToArray(), device: device).view(B, 1).DetachFromDisposeScope();
        Tensor next;
        using (var scope = NewDisposeScope())
        {
            var logits = model.Forward(tensor(tokens, device: device), tensor(positions, device: device), keyMask, cache);
            next = Choose(logits.select(1, -1), options.Temperature, generator).MoveToOuterDisposeScope();   // (B)
        }

        for (int step = 0; ; step++)
        {
            var chosen = next.cpu().data<long>().ToArray();
            for (int b = 0; b < B; b++)
            {
                if (finished[b]) continue;
                if (options.EndToken == (int)chosen[b]) { finished[b] = true; continue; }
                outputs[b].Add((int)chosen[b]);
                if (outputs[b].Count >= maxNew) finished[b] = true;
            }
            if (finished.All(f => f)) break;

            using var scope = NewDisposeScope();
            var newMask = cat([keyMask, ones(B, 1, dtype: ScalarType.Bool, device: device)], 1);
            keyMask.Dispose(); keyMask = newMask.DetachFromDisposeScope();
            var logits = model.Forward(next.view(B, 1), nextPositions, keyMask, cache);  // (B, 1, V)
            next.Dispose();
            next = Choose(logits.select(1, -1), options.Temperature, generator).MoveToOuterDisposeScope();
            var advanced = (nextPositions + 1).DetachFromDisposeScope();
            nextPositions.Dispose(); nextPositions = advanced;
        }
        next.Dispose(); keyMask.Dispose(); nextPositions.Dispose();
        return outputs.Select(o => o.ToArray()).ToArray();
    }

    /// <summary>(B, V) logits → (B) ids: argmax (first index on ties) or a sample at the given temperature.</summary>
    public static Tensor Choose(Tensor logits, double temperature, Generator? generator)
    {
        if (temperature == 0) return FirstArgmax(logits);
        var probs = (logits.to(float32) / temperature).softmax(-1);
        return multinomial(probs, 1, generator: generator).squeeze(-1);
    }

    /// <summary>Index of the maximum, the smallest index among equal maxima (what run.c's sample_argmax does).</summary>
    public static Tensor FirstArgmax(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var max = logits.max(-1, keepdim: true).values;
        var vocab = logits.shape[^1];
        var index = arange(vocab, device: logits.device).expand_as(logits);
        // ids that are not maximal get V; the minimum over the row is then the first maximal id
        return where(logits.eq(max), index, vocab).min(-1).values.MoveToOuterDisposeScope();
    }
}
