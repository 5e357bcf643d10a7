// Log-likelihood of completions given prompts under a causal LM, batched: the building block of every weighted
// log-likelihood objective L = −Σ_j a_j · log π(y_j | x) (methods.md §2). log π(y | x) is the SUM of the completion's
// token log-probs (the end-of-text token included when the completion ended with it), i.e. the probability of the
// whole response, which is what the BoN estimators' weights multiply. Sequences are right-padded; with causal
// attention real tokens never see the padding, so no key mask is needed.
using BonStudio.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.FineTuning;

/// <summary>A prompt (BOS first) and the completion whose likelihood is wanted (EOS last if it ended).</summary>
public sealed record PromptCompletion(int[] Prompt, int[] Completion);

/// <summary>Right-padded model inputs for a batch of <see cref="PromptCompletion"/>s.</summary>
/// <param name="Input">(B, T) tokens 0..len−2 of each sequence.</param>
/// <param name="Target">(B, T) tokens 1..len−1 (what each position predicts); 0 where padded.</param>
/// <param name="CompletionMask">(B, T) float32: 1 where the target is a completion token, else 0.</param>
public sealed record LikelihoodBatch(Tensor Input, Tensor Target, Tensor CompletionMask);

public static class SequenceLikelihood
{
    /// <summary>Builds the right-padded batch. Every prompt needs ≥ 1 token; completions may be empty.</summary>
    public static LikelihoodBatch Collate(IReadOnlyList<PromptCompletion> sequences, Device device)
    {
        if (sequences.Count == 0) throw new ArgumentException("no sequences to collate.", nameof(sequences));
        int t = sequences.Max(s => s.Prompt.Length + s.Completion.Length) - 1;
        if (t < 1) throw new ArgumentException("every sequence is a single token: nothing to predict.", nameof(sequences));
        var input = new long[sequences.Count * t];
        var target = new long[sequences.Count * t];
        var mask = new float[sequences.Count * t];
        for (int b = 0; b < sequences.Count; b++)
        {
            var (prompt, completion) = (sequences[b].Prompt, sequences[b].Completion);
            if (prompt.Length == 0) throw new ArgumentException($"sequence {b} has an empty prompt (start it with BOS).", nameof(sequences));
            int len = prompt.Length + completion.Length;
            for (int j = 0; j < len - 1; j++)
            {
                input[b * t + j] = j < prompt.Length ? prompt[j] : completion[j - prompt.Length];
                int next = j + 1;
                target[b * t + j] = next < prompt.Length ? prompt[next] : completion[next - prompt.Length];
                mask[b * t + j] = next >= prompt.Length ? 1f : 0f; // position j predicts token j+1
            }
        }
        return new LikelihoodBatch(
            tensor(input, [sequences.Count, t], ScalarType.Int64).to(device),
            tensor(target, [sequences.Count, t], ScalarType.Int64).to(device),
            tensor(mask, [sequences.Count, t], ScalarType.Float32).to(device));
    }

    /// <summary>(B, T) log-probs of the targets under (B, T, V) logits.</summary>
    public static Tensor TokenLogProbs(Tensor logits, Tensor target) =>
        nn.functional.log_softmax(logits.to_type(ScalarType.Float32), -1).gather(2, target.unsqueeze(2)).squeeze(2);

    /// <summary>(B,) log π(completion | prompt): the sum of the completion's token log-probs (differentiable).</summary>
    public static Tensor CompletionLogProbs(torch.nn.Module<Tensor, Tensor> model, LikelihoodBatch batch, out Tensor logits)
    {
        logits = model.forward(batch.Input);                                    // (B, T, V)
        return (TokenLogProbs(logits, batch.Target) * batch.CompletionMask).sum(1); // (B,)
    }

    /// <summary>
    /// (B,) Σ_t KL(π(·|x, y&lt;t) ‖ π_ref(·|x, y&lt;t)) over the completion positions: the exact per-position KL of the
    /// full next-token distributions along the given responses (differentiable in <paramref name="logits"/>).
    /// </summary>
    public static Tensor CompletionKl(Tensor logits, Tensor referenceLogits, Tensor completionMask)
    {
        var logP = nn.functional.log_softmax(logits.to_type(ScalarType.Float32), -1);          // (B, T, V)
        var logQ = nn.functional.log_softmax(referenceLogits.to_type(ScalarType.Float32), -1); // (B, T, V)
        var perPosition = (logP.exp() * (logP - logQ)).sum(-1);                                // (B, T)
        return (perPosition * completionMask).sum(1);                                           // (B,)
    }
}
