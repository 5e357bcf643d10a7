// Ladder-constrained decoding of the confidence line (calibration-SFT evaluation): instead of reading the phrase the
// model spells greedily one character at a time (which blends half-learnt phrases, e.g. "highly unly"), every ladder
// phrase is scored as the end of the model's own answer and the most likely one is taken — the multiple-choice
// scoring of lm-eval and the constrained choice of outlines/guidance. Never unparseable by construction.
//
// Score of phrase k for an answer = log π(response + "\nConf: " + phrase_k + EOS | BOS + question prompt), exactly the
// text and loss the model was fine-tuned on (LinguisticFormat.Completion, LikelihoodTrainer). The response part is
// the same for every k, so with a character tokenizer the ranking is that of log π(phrase_k + EOS | ... "Conf: "):
// the probability of saying exactly that phrase and stopping. Scoring the whole completion keeps the tokenization
// the training used for any tokenizer.
using BonStudio.Training.Models;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using static TorchSharp.torch;

namespace BonStudio.Training.Calibration;

/// <summary>The constrained choice for one answer: the phrase, its ladder probability and every phrase's log-prob
/// (ladder order, most confident first).</summary>
public sealed record LadderChoice(string Phrase, double Probability, double[] LogProbs, bool Shortened);

public static class LadderDecoding
{
    /// <summary>
    /// For each (problem, response), the ladder phrase with the highest log π(completion + EOS | prompt), where the
    /// completion is the response's answer part (its own confidence line, if any, removed) + "\nConf: " + phrase.
    /// A response too long for the context with the longest phrase is replaced by its short form "#### answer"
    /// (as the P(True) judge does; <see cref="LadderChoice.Shortened"/>). Ties go to the earlier (more confident)
    /// ladder entry. Deterministic: no sampling, one forward pass per batch of rows (no gradient).
    /// </summary>
    public static List<LadderChoice> Choose(ICausalLM model, ITokenizer tokenizer, IReadOnlyList<(MathProblem Problem, string Response)> answers,
        PhraseLadderView ladder, CancellationToken ct = default, int rowsPerBatch = 128)
    {
        int bos = tokenizer.BosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no BOS token.");
        int eos = tokenizer.EosId ?? throw new ArgumentException($"tokenizer {tokenizer.Name} has no EOS token.");
        var phrases = ladder.Entries;
        int k = phrases.Count;
        var prompts = new List<int[]>(answers.Count * k);
        var completions = new List<int[]>(answers.Count * k);
        var shortened = new bool[answers.Count];
        for (int i = 0; i < answers.Count; i++)
        {
            var (problem, response) = answers[i];
            int[] prompt = [bos, .. tokenizer.Encode(MiniMath.Prompt(problem))];
            var answer = LinguisticFormat.AnswerPart(response);
            var rows = Rows(answer);
            // The last token is only a target: prompt + completion − 1 positions must fit.
            if (rows.Max(c => c.Length) + prompt.Length - 1 > model.ContextLength)
            {
                shortened[i] = true;
                rows = Rows(SelfEvaluation.ShortForm(answer));
                if (rows.Max(c => c.Length) + prompt.Length - 1 > model.ContextLength)
                    throw new ArgumentException($"question {problem.Id} is too long to score a confidence phrase in a context of {model.ContextLength} positions.");
            }
            foreach (var c in rows) { prompts.Add(prompt); completions.Add(c); }
        }
        int[][] Rows(string answer) =>
            phrases.Select(p => (int[])[.. tokenizer.Encode(LinguisticFormat.Completion(answer, p.Phrase)), eos]).ToArray();

        var scores = new double[prompts.Count];
        using (no_grad())
        {
            for (int start = 0; start < prompts.Count; start += rowsPerBatch)
            {
                ct.ThrowIfCancellationRequested();
                int n = Math.Min(rowsPerBatch, prompts.Count - start);
                using var scope = NewDisposeScope();
                var sums = CompletionLogProbs.Sum(model, prompts.GetRange(start, n), completions.GetRange(start, n))
                    .to_type(ScalarType.Float64).cpu().data<double>().ToArray();
                Array.Copy(sums, 0, scores, start, n);
            }
        }

        var result = new List<LadderChoice>(answers.Count);
        for (int i = 0; i < answers.Count; i++)
        {
            var logProbs = scores.AsSpan(i * k, k).ToArray();
            int best = 0;
            for (int j = 1; j < k; j++) if (logProbs[j] > logProbs[best]) best = j;
            result.Add(new LadderChoice(phrases[best].Phrase, phrases[best].Probability, logProbs, shortened[i]));
        }
        return result;
    }
}
