// Batched sampling from any ICausalLM with a KV cache: left-padded prompts of different lengths are prefilled
// once, then decoded one token per step; rows that finish leave the batch so the work shrinks as they stop.
// The same loop without the cache (full recompute each step) is kept as the reference for tests and benchmarks.
using BonStudio.Training.Models;
using BonStudio.Training.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Sampling;

/// <summary>How to sample. Defaults: plain temperature-1 sampling of up to 128 tokens, stopping at the tokenizer's EOS.</summary>
public sealed record SamplingOptions
{
    /// <summary>Softmax temperature; 0 = greedy (argmax, the first index on ties).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Keep only the K most likely tokens before sampling (0 = off).</summary>
    public int TopK { get; init; } = 0;
    /// <summary>Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches P (1 = off).</summary>
    public double TopP { get; init; } = 1.0;
    /// <summary>Most tokens generated per sample (also limited by the model's context length).</summary>
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>Token ids that end a sample (not included in the output). Null = the tokenizer's EOS, if any.</summary>
    public IReadOnlyList<int>? StopTokenIds { get; init; }
    /// <summary>Texts that end a sample once the decoded output ends with one (the text is kept). Needs a tokenizer.</summary>
    public IReadOnlyList<string>? StopStrings { get; init; }
    /// <summary>Seed of the sampler's own torch.Generator: same prompts + options + model → same samples.</summary>
    public long Seed { get; init; } = 0;
    /// <summary>False = recompute the whole sequence every step (slow reference path; same results up to float rounding).</summary>
    public bool UseKvCache { get; init; } = true;

    public void Validate()
    {
        if (!(Temperature >= 0) || double.IsInfinity(Temperature)) throw new ArgumentException($"SamplingOptions.Temperature must be ≥ 0 (got {Temperature}).");
        if (TopK < 0) throw new ArgumentException($"SamplingOptions.TopK must be ≥ 0 (got {TopK}).");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"SamplingOptions.TopP must be in (0, 1] (got {TopP}).");
        if (MaxNewTokens < 1) throw new ArgumentException($"SamplingOptions.MaxNewTokens must be ≥ 1 (got {MaxNewTokens}).");
    }
}

public enum FinishReason { Stop, Length }

/// <summary>One generated continuation.</summary>
/// <param name="TokenIds">Generated ids, without the stop token.</param>
/// <param name="TokenLogProbs">log p(token) of each generated id under the model at temperature 1 with no top-k/top-p,
/// i.e. the model's own distribution (what likelihood-based objectives and confidence scores need), whatever the
/// sampling settings were.</param>
/// <param name="SumLogProb">Sum of <paramref name="TokenLogProbs"/> (the stop token's log-prob is not included).</param>
/// <param name="FinishReason">Stop (a stop token or string) or Length (max tokens or context full).</param>
/// <param name="Text">Decoded ids when the sampler has a tokenizer, else null.</param>
public sealed record SampleResult(int[] TokenIds, float[] TokenLogProbs, double SumLogProb, FinishReason FinishReason, string? Text);

/// <summary>Batched sampler. Not thread-safe per instance (cheap to create). Runs under no_grad.</summary>
public sealed class Sampler(ICausalLM model, ITokenizer? tokenizer = null)
{
    /// <summary>Token used to left-pad shorter prompts; masked out, so any valid id works.</summary>
    private const long PadToken = 0;

    /// <summary>One continuation per prompt, in prompt order. Prompts may have different lengths.</summary>
    public IReadOnlyList<SampleResult> Sample(IReadOnlyList<int[]> prompts, SamplingOptions options) =>
        Run(prompts, replicate: 0, options);

    /// <summary><paramref name="n"/> continuations of one prompt; the prompt is prefilled once and its cache replicated.</summary>
    public IReadOnlyList<SampleResult> SampleN(int[] prompt, int n, SamplingOptions options)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"n must be ≥ 1 (got {n}).");
        return Run([prompt], replicate: n, options);
    }

    /// <summary>Encodes text prompts (BOS prepended when the tokenizer has one) and samples one continuation each.</summary>
    public IReadOnlyList<SampleResult> Sample(IReadOnlyList<string> prompts, SamplingOptions options)
    {
        var tok = tokenizer ?? throw new InvalidOperationException("text prompts need a tokenizer.");
        return Sample(prompts.Select(p => EncodePrompt(tok, p)).ToList(), options);
    }

    /// <summary>BOS (if the tokenizer has one) followed by the encoded text.</summary>
    public static int[] EncodePrompt(ITokenizer tokenizer, string text) =>
        tokenizer.BosId is int bos ? [bos, .. tokenizer.Encode(text)] : tokenizer.Encode(text);

    private IReadOnlyList<SampleResult> Run(IReadOnlyList<int[]> prompts, int replicate, SamplingOptions options)
    {
        options.Validate();
        if (prompts.Count == 0) return [];
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i] is null || prompts[i].Length == 0) throw new ArgumentException($"prompt {i} is empty (start it with BOS).");
            foreach (var id in prompts[i])
                if (id < 0 || id >= model.VocabSize) throw new ArgumentException($"prompt {i} contains token id {id}, outside the model's vocabulary 0..{model.VocabSize - 1}.");
        }
        if (options.StopStrings is { Count: > 0 } && tokenizer is null) throw new ArgumentException("SamplingOptions.StopStrings needs a tokenizer.");
        var stopIds = (options.StopTokenIds ?? (tokenizer?.EosId is int eos ? [eos] : [])).ToHashSet();
        var stopStrings = options.StopStrings?.Where(s => s.Length > 0).ToArray() ?? [];

        int promptRows = prompts.Count;
        int maxLen = prompts.Max(p => p.Length);
        if (maxLen > model.ContextLength)
            throw new ArgumentException($"a prompt has {maxLen} tokens but the model's context length is {model.ContextLength}.");
        int limit = Math.Min(options.MaxNewTokens, model.ContextLength - maxLen + 1); // last token needs no forward pass
        var device = model.Device;

        using var noGrad = no_grad();
        using var generator = new Generator((ulong)options.Seed, device);
        using var cache = options.UseKvCache ? model.NewCache() : null;

        // Left-pad: row b's first real token sits at slot maxLen - len_b and has position 0.
        var tokenData = new long[promptRows * maxLen];
        var positionData = new long[promptRows * maxLen];
        var realData = new bool[promptRows * maxLen];
        bool padded = prompts.Any(p => p.Length != maxLen);
        for (int b = 0; b < promptRows; b++)
        {
            int offset = maxLen - prompts[b].Length;
            for (int j = 0; j < maxLen; j++)
            {
                bool real = j >= offset;
                tokenData[b * maxLen + j] = real ? prompts[b][j - offset] : PadToken;
                positionData[b * maxLen + j] = real ? j - offset : 0;
                realData[b * maxLen + j] = real;
            }
        }

        Tensor? sequence = null, sequencePositions = null; // full-recompute path only: (B, S)
        Tensor? keyMask = null;                            // (B, S) when padded
        Tensor logits, nextPosition;                       // (B, V), (B,)
        using (var scope = NewDisposeScope())
        {
            var tokens = tensor(tokenData, [promptRows, maxLen], ScalarType.Int64).to(device);
            var positions = tensor(positionData, [promptRows, maxLen], ScalarType.Int64).to(device);
            keyMask = padded ? tensor(realData, [promptRows, maxLen]).to(device) : null;
            var last = model.Forward(tokens, positions, keyMask, cache).select(1, -1); // (B, V)
            nextPosition = tensor(prompts.Select(p => (long)p.Length).ToArray(), ScalarType.Int64).to(device);
            if (cache is null) { sequence = tokens; sequencePositions = positions; }
            if (replicate > 0)
            {
                // n samples of one prompt: copy the prefilled row n times instead of prefilling n times.
                var rows = zeros(replicate, ScalarType.Int64, device);
                cache?.SelectRows(rows);
                last = last.index_select(0, rows);
                nextPosition = nextPosition.index_select(0, rows);
                sequence = sequence?.index_select(0, rows);
                sequencePositions = sequencePositions?.index_select(0, rows);
            }
            logits = last.DetachFromDisposeScope();
            nextPosition.DetachFromDisposeScope();
            keyMask?.DetachFromDisposeScope();
            sequence?.DetachFromDisposeScope();
            sequencePositions?.DetachFromDisposeScope();
        }

        int samples = replicate > 0 ? replicate : promptRows;
        var generated = Enumerable.Range(0, samples).Select(_ => new List<int>()).ToArray();
        var logProbs = Enumerable.Range(0, samples).Select(_ => new List<float>()).ToArray();
        var finish = new FinishReason?[samples];
        var active = Enumerable.Range(0, samples).ToList(); // batch row → sample index

        try
        {
            for (int step = 0; step < limit; step++)
            {
                using var scope = NewDisposeScope();
                var (next, nextLogProb) = Choose(logits, options, generator); // (B,), (B,)
                var nextIds = next.cpu().data<long>().ToArray();
                var nextLps = nextLogProb.cpu().data<float>().ToArray();

                var keep = new List<long>(active.Count);
                for (int row = 0; row < active.Count; row++)
                {
                    int s = active[row];
                    int id = (int)nextIds[row];
                    if (stopIds.Contains(id)) { finish[s] = FinishReason.Stop; continue; }
                    generated[s].Add(id);
                    logProbs[s].Add(nextLps[row]);
                    if (stopStrings.Length > 0 && EndsWithStop(generated[s], stopStrings)) { finish[s] = FinishReason.Stop; continue; }
                    if (generated[s].Count >= limit) { finish[s] = FinishReason.Length; continue; }
                    keep.Add(row);
                }
                if (keep.Count == 0) break;

                if (keep.Count < active.Count)
                {
                    // Finished rows leave the batch (cache included), so later steps do less work.
                    var rows = tensor(keep.ToArray(), ScalarType.Int64).to(device);
                    cache?.SelectRows(rows);
                    next = next.index_select(0, rows);
                    Replace(ref nextPosition, nextPosition.index_select(0, rows));
                    if (keyMask is not null) Replace(ref keyMask, keyMask.index_select(0, rows));
                    if (sequence is not null) Replace(ref sequence, sequence.index_select(0, rows));
                    if (sequencePositions is not null) Replace(ref sequencePositions, sequencePositions.index_select(0, rows));
                    active = keep.Select(r => active[(int)r]).ToList();
                }

                var nextColumn = next.unsqueeze(1);               // (B, 1)
                var positionColumn = nextPosition.unsqueeze(1);   // (B, 1)
                if (keyMask is not null) Replace(ref keyMask, cat([keyMask, ones_like(nextColumn, ScalarType.Bool)], 1)); // (B, S+1)
                Tensor stepLogits;
                if (cache is not null)
                    stepLogits = model.Forward(nextColumn, positionColumn, keyMask, cache).select(1, -1);
                else
                {
                    Replace(ref sequence!, cat([sequence!, nextColumn], 1));
                    Replace(ref sequencePositions!, cat([sequencePositions!, positionColumn], 1));
                    stepLogits = model.Forward(sequence!, sequencePositions!, keyMask, null).select(1, -1);
                }
                Replace(ref logits, stepLogits);
                Replace(ref nextPosition, nextPosition + 1);
            }
        }
        finally
        {
            logits.Dispose(); nextPosition.Dispose(); keyMask?.Dispose(); sequence?.Dispose(); sequencePositions?.Dispose();
        }

        return Enumerable.Range(0, samples).Select(s => new SampleResult(
            generated[s].ToArray(), logProbs[s].ToArray(), logProbs[s].Sum(x => (double)x),
            finish[s] ?? FinishReason.Length, tokenizer?.Decode(generated[s]))).ToList();
    }

    /// <summary>Picks the next token per row of (B, V) logits with temperature/top-k/top-p; returns (B,) ids and their
    /// (B,) log-probs under the unmodified temperature-1 distribution.</summary>
    public static (Tensor Next, Tensor LogProb) Choose(Tensor logits, SamplingOptions options, Generator generator)
    {
        logits = logits.to_type(ScalarType.Float32);                 // (B, V)
        var logProbs = nn.functional.log_softmax(logits, -1);        // (B, V) at temperature 1
        Tensor next;
        if (options.Temperature == 0) next = logits.argmax(-1);       // first index on ties
        else
        {
            var scaled = logits / options.Temperature;
            long vocab = scaled.shape[1];
            if (options.TopK > 0 && options.TopK < vocab)
            {
                var kth = scaled.topk(options.TopK, dim: -1).values.narrow(1, options.TopK - 1, 1); // (B, 1)
                scaled = scaled.masked_fill(scaled.lt(kth), double.NegativeInfinity);
            }
            if (options.TopP < 1)
            {
                var (sorted, order) = scaled.sort(dim: -1, descending: true);
                var probs = nn.functional.softmax(sorted, -1);
                // Drop a token when the tokens ranked above it already reach TopP (the top token always stays).
                var drop = (probs.cumsum(-1) - probs).gt(options.TopP);
                sorted = sorted.masked_fill(drop, double.NegativeInfinity);
                scaled = full_like(scaled, double.NegativeInfinity).scatter(1, order, sorted);
            }
            var p = nn.functional.softmax(scaled, -1);
            next = multinomial(p, 1, replacement: true, generator: generator).squeeze(1);
        }
        var chosen = logProbs.gather(1, next.unsqueeze(1)).squeeze(1);
        return (next, chosen);
    }

    private bool EndsWithStop(List<int> ids, string[] stops)
    {
        var text = tokenizer!.Decode(ids);
        foreach (var s in stops) if (text.EndsWith(s, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Swaps in a tensor that outlives the step's dispose scope and frees the one it replaces.</summary>
    private static void Replace(ref Tensor field, Tensor value)
    {
        value.DetachFromDisposeScope();
        if (!ReferenceEquals(field, value)) field.Dispose();
        field = value;
    }
}
