// The confidence sources of methods.md §3 that need only the answering model: answer likelihood and sample
// consistency, plus the greedy answering they share. Self-evaluation P(True) lives in SelfEvaluation.cs.
//   likelihood  = exp(mean log p(token)) over the greedy response's tokens (the stop token excluded), at T = 1
//   consistency = share of n sampled responses whose final answer equals the greedy response's final answer
using BonStudio.Training.Models;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;

namespace BonStudio.Training.Calibration;

/// <summary>A question answered greedily: the response text, its extracted answer, the checker's verdict and the
/// per-token log-probs of the response under the model (T = 1).</summary>
public sealed record AnsweredProblem(MathProblem Problem, string Response, string? Answer, bool Correct, float[] TokenLogProbs);

public static class ConfidenceSources
{
    /// <summary>Self-evaluation: P(yes)/(P(yes)+P(no)) after the taught question.</summary>
    public const string PTrue = "p-true";
    /// <summary>Share of n samples agreeing with the greedy answer.</summary>
    public const string Consistency = "consistency";
    /// <summary>exp of the mean token log-prob of the greedy response.</summary>
    public const string Likelihood = "likelihood";
    /// <summary>The probability of the ladder phrase a calibration-SFT model emitted.</summary>
    public const string Phrase = "phrase";
    /// <summary>The probability of the ladder phrase a calibration-SFT model finds most likely after its answer (constrained choice).</summary>
    public const string PhraseLadder = "phrase-ladder";
    /// <summary>Baseline: every answer gets the ladder's top phrase.</summary>
    public const string AlwaysConfident = "always-confident";
    /// <summary>Baseline: every answer gets the model's accuracy on the training questions (the best constant).</summary>
    public const string ConstantTrainAccuracy = "constant-train-accuracy";

    /// <summary>The sources a calibration-eval run can compute.</summary>
    public static IReadOnlyList<string> Measurable { get; } = [PTrue, Consistency, Likelihood];

    /// <summary>Throws naming the field when <paramref name="source"/> is not a measurable source.</summary>
    public static string Check(string source, string field) =>
        Measurable.Contains(source) ? source
            : throw new ArgumentException($"{field}: '{source}' is not a confidence source (one of {string.Join(", ", Measurable)}).");

    /// <summary>exp(mean token log-prob); 0 for an empty response (nothing was said, nothing to be sure of).</summary>
    public static double LikelihoodOf(IReadOnlyList<float> tokenLogProbs)
    {
        if (tokenLogProbs.Count == 0) return 0;
        double mean = tokenLogProbs.Average(x => (double)x);
        return Math.Clamp(Math.Exp(mean), 0, 1);
    }

    /// <summary>Share of <paramref name="sampleAnswers"/> equal to <paramref name="greedyAnswer"/> (extracted, normalised
    /// answers). A greedy response without an answer gets 0: there is nothing to agree with.</summary>
    public static double ConsistencyOf(string? greedyAnswer, IReadOnlyList<string?> sampleAnswers)
    {
        if (sampleAnswers.Count == 0) throw new ArgumentException("consistency needs at least one sample.", nameof(sampleAnswers));
        if (greedyAnswer is null) return 0;
        return sampleAnswers.Count(a => a == greedyAnswer) / (double)sampleAnswers.Count;
    }

    /// <summary>Greedy answers to <paramref name="problems"/> in batches (KV cache), checked by MiniMath's checker (which
    /// reads only the line after "####", so a trailing confidence line does not change the verdict).</summary>
    public static List<AnsweredProblem> AnswerGreedy(ICausalLM model, ITokenizer tokenizer, IReadOnlyList<MathProblem> problems,
        int maxNewTokens, CancellationToken ct = default, int batchSize = 64, Action<int>? onBatch = null)
    {
        var sampler = new Sampler(model, tokenizer);
        var result = new List<AnsweredProblem>(problems.Count);
        for (int i = 0; i < problems.Count; i += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = problems.Skip(i).Take(batchSize).ToList();
            var outputs = sampler.Sample(chunk.Select(p => Sampler.EncodePrompt(tokenizer, MiniMath.Prompt(p))).ToList(),
                new SamplingOptions { Temperature = 0, MaxNewTokens = maxNewTokens });
            for (int j = 0; j < chunk.Count; j++)
            {
                var text = outputs[j].Text!;
                var answer = MiniMath.ExtractAnswer(text);
                result.Add(new AnsweredProblem(chunk[j], text, answer, MiniMath.IsCorrect(text, chunk[j].Answer), outputs[j].TokenLogProbs));
            }
            onBatch?.Invoke(result.Count);
        }
        return result;
    }

    /// <summary>Consistency of each greedy answer with <paramref name="samples"/> temperature-<paramref name="temperature"/>
    /// samples of the same prompt. Prompts are replicated into batches of about <paramref name="rowsPerBatch"/> rows;
    /// deterministic in <paramref name="seed"/>.</summary>
    public static double[] ConsistencyScores(ICausalLM model, ITokenizer tokenizer, IReadOnlyList<AnsweredProblem> answered,
        int samples, double temperature, long seed, int maxNewTokens, CancellationToken ct = default, int rowsPerBatch = 128,
        Action<int>? onBatch = null)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), $"consistency needs at least one sample (got {samples}).");
        var sampler = new Sampler(model, tokenizer);
        var scores = new double[answered.Count];
        int problemsPerBatch = Math.Max(1, rowsPerBatch / samples);
        for (int i = 0; i < answered.Count; i += problemsPerBatch)
        {
            ct.ThrowIfCancellationRequested();
            var chunk = answered.Skip(i).Take(problemsPerBatch).ToList();
            var prompts = chunk.SelectMany(a => Enumerable.Repeat(Sampler.EncodePrompt(tokenizer, MiniMath.Prompt(a.Problem)), samples)).ToList();
            var outputs = sampler.Sample(prompts, new SamplingOptions
            {
                Temperature = temperature, MaxNewTokens = maxNewTokens, Seed = unchecked(seed * 1_000_003 + i),
            });
            for (int j = 0; j < chunk.Count; j++)
            {
                var answers = outputs.Skip(j * samples).Take(samples).Select(o => MiniMath.ExtractAnswer(o.Text!)).ToList();
                scores[i + j] = ConsistencyOf(chunk[j].Answer, answers);
            }
            onBatch?.Invoke(Math.Min(answered.Count, i + problemsPerBatch));
        }
        return scores;
    }

    /// <summary>The records of one source for <paramref name="answered"/> with <paramref name="confidences"/>.</summary>
    public static List<CalibrationRecord> Records(string source, IReadOnlyList<AnsweredProblem> answered, IReadOnlyList<double> confidences,
        Func<int, string?>? phrase = null) =>
        answered.Select((a, i) => new CalibrationRecord(source, a.Problem.Id, confidences[i], a.Correct, phrase?.Invoke(i), a.Answer, a.Problem.Level)).ToList();
}
