// log π(completion | prompt) for a batch of (prompt, completion) pairs in one forward pass, with gradient:
// the building block of every weighted log-likelihood objective (SFT, RL, BoN-aware fine-tuning, methods.md §2)
// and of answer-likelihood confidence (§3).
using BonStudio.Training.Models;
using static TorchSharp.torch;

namespace BonStudio.Training.Sampling;

public static class CompletionLogProbs
{
    /// <summary>
    /// Per-token log-probs (B, T) of each completion token given its prompt and the completion tokens before it,
    /// at temperature 1, zero where row b has no completion token; and the mask (B, T) of real completion tokens.
    /// Rows are right-padded, so positions start at 0 in every row and no key mask is needed.
    /// Column t holds the log-prob of completion token t. Gradients flow when called outside no_grad.
    /// </summary>
    public static (Tensor TokenLogProbs, Tensor Mask) PerToken(ICausalLM model, IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions)
    {
        if (prompts.Count != completions.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {completions.Count} completions.");
        int batch = prompts.Count;
        int length = Enumerable.Range(0, batch).Max(b => prompts[b].Length + completions[b].Length) - 1; // inputs drop the last token
        int maxCompletion = completions.Max(c => c.Length);
        if (length > model.ContextLength) // the last token is only a target, as in LikelihoodTrainer
            throw new ArgumentException($"a prompt + completion has {length + 1} tokens, more than the context length {model.ContextLength} + 1.");
        for (int b = 0; b < batch; b++)
            if (prompts[b].Length == 0) throw new ArgumentException($"prompt {b} is empty (start it with BOS).");

        var input = new long[batch * length];
        var gatherIndex = new long[batch * maxCompletion]; // input position that predicts completion token t
        var targets = new long[batch * maxCompletion];
        var mask = new bool[batch * maxCompletion];
        for (int b = 0; b < batch; b++)
        {
            int[] p = prompts[b], c = completions[b];
            for (int j = 0; j < p.Length + c.Length - 1; j++) input[b * length + j] = j < p.Length ? p[j] : c[j - p.Length];
            for (int t = 0; t < c.Length; t++)
            {
                gatherIndex[b * maxCompletion + t] = p.Length - 1 + t;
                targets[b * maxCompletion + t] = c[t];
                mask[b * maxCompletion + t] = true;
            }
        }
        using var scope = NewDisposeScope();
        var device = model.Device;
        var tokens = tensor(input, [batch, length], ScalarType.Int64).to(device);
        var positions = arange(length, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(batch, -1);
        var logits = model.Forward(tokens, positions);                                          // (B, T_in, V)
        var index = tensor(gatherIndex, [batch, maxCompletion], ScalarType.Int64).to(device);   // (B, T)
        var picked = logits.gather(1, index.unsqueeze(2).expand(-1, -1, logits.shape[2]));       // (B, T, V)
        var logProbs = nn.functional.log_softmax(picked.to_type(ScalarType.Float32), -1)
            .gather(2, tensor(targets, [batch, maxCompletion], ScalarType.Int64).to(device).unsqueeze(2)).squeeze(2); // (B, T)
        var m = tensor(mask, [batch, maxCompletion]).to(device);
        return (logProbs.masked_fill(m.logical_not(), 0).MoveToOuterDisposeScope(), m.MoveToOuterDisposeScope());
    }

    /// <summary>Sum over completion tokens: (B,) log π(completion_b | prompt_b), differentiable.</summary>
    public static Tensor Sum(ICausalLM model, IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions)
    {
        var (perToken, mask) = PerToken(model, prompts, completions);
        using (perToken) using (mask) return perToken.sum(1);
    }
}
