using static TorchSharp.torch;

namespace BonStudio.Training.Models;

/// <summary>
/// A decoder-only language model that the batched KV-cached sampler and the trainers can drive.
/// Implemented by <c>Gpt</c> and <c>Llama</c> (one readable file each).
/// </summary>
public interface ICausalLM
{
    int VocabSize { get; }
    /// <summary>Maximum number of positions (prompt + generated).</summary>
    int ContextLength { get; }
    Device Device { get; }

    /// <summary>
    /// Logits for a batch of token ids.
    /// <paramref name="tokens"/>: (B, T) int64, the tokens at the next T positions.
    /// <paramref name="positions"/>: (B, T) int64 position ids; rows can differ because prompts of different
    /// lengths are left-padded (a row's first real token has position 0).
    /// <paramref name="keyMask"/>: (B, S) bool over all S = cache.Length + T key slots, true where the key is a real
    /// token; null when nothing is padded. Causality is always applied on top.
    /// <paramref name="cache"/>: when given, the keys/values of these T tokens are appended to it and attention
    /// covers everything cached so far. Null means a full recompute over <paramref name="tokens"/>.
    /// Returns (B, T, V) logits.
    /// </summary>
    Tensor Forward(Tensor tokens, Tensor positions, Tensor? keyMask = null, KvCache? cache = null);

    /// <summary>An empty cache for this model (one key/value pair per layer).</summary>
    KvCache NewCache();
}
