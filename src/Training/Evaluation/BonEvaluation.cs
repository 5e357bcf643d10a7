// Best-of-N evaluation (issue #3 item 1): for every prompt and temperature, draw n samples with the batched
// KV-cached sampler, extract and check each answer, score every sample with each verifier, and hand the whole
// sample set to a sink (the web job stores it; the CLI may print it). Metrics are computed afterwards from what
// was stored (Metrics/BonMetrics), so a stored evaluation can always be re-measured and re-scored.
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Sampling;
using BonStudio.Training.Text;
using BonStudio.Training.Verifiers;

namespace BonStudio.Training.Evaluation;

/// <summary>One prompt to evaluate.</summary>
/// <param name="Key">Stable id (aligns evaluations for per-prompt diffs and makes resume exact).</param>
/// <param name="Prompt">The exact text the model is given.</param>
/// <param name="Reference">The reference answer.</param>
/// <param name="Check">Extracts the answer from a response and grades it against <paramref name="Reference"/>.</param>
public sealed record EvalProblem(string Key, string Prompt, string Reference, int? Difficulty, Func<string, (string? Extracted, bool Correct)> Check)
{
    /// <summary>True when Check's "extracted" text is a verdict with its reason (code checker: "passed", "failed: …",
    /// "timeout: …", "crash: …"): storage then also records it as the sample's verdict reason.</summary>
    public bool CheckReturnsVerdict { get; init; }
}

public sealed record EvaluatedSample(int Index, string Text, string? Extracted, bool Correct, int TokenCount, double LogProb,
                                     IReadOnlyDictionary<string, double> Scores);

/// <summary>The n samples of one prompt at one temperature.</summary>
public sealed record EvaluatedPrompt(EvalProblem Problem, double Temperature, IReadOnlyList<EvaluatedSample> Samples);

/// <summary>Receives each finished sample set (in order); storing it is the caller's business.</summary>
public interface ISampleSink
{
    void Write(EvaluatedPrompt prompt);
}

/// <summary>Sampling settings of a Best-of-N evaluation.</summary>
public sealed record BonEvalOptions
{
    /// <summary>Samples per prompt.</summary>
    public int N { get; init; } = 32;
    /// <summary>One sample set per temperature.</summary>
    public IReadOnlyList<double> Temperatures { get; init; } = [1.0];
    public double TopP { get; init; } = 1.0;
    public int TopK { get; init; } = 0;
    public int MaxNewTokens { get; init; } = 96;
    public long Seed { get; init; } = 0;
}

public static class BonEvaluation
{
    /// <summary>
    /// Evaluates <paramref name="problems"/>. Prompt sets for which <paramref name="alreadyDone"/> answers true
    /// (key, temperature) are skipped, so a resumed evaluation writes every sample set exactly once. Each prompt's
    /// sampler seed depends only on (seed, temperature index, prompt key), so results do not depend on order or resume.
    /// </summary>
    public static void Run(ICausalLM model, ITokenizer tokenizer, IReadOnlyList<EvalProblem> problems, BonEvalOptions options,
                           IReadOnlyList<IVerifier> verifiers, ISampleSink sink, IRunReporter reporter,
                           Func<string, double, bool>? alreadyDone = null)
    {
        if (options.N < 1) throw new ArgumentException($"N must be ≥ 1 (got {options.N}).", nameof(options));
        if (options.Temperatures.Count == 0) throw new ArgumentException("at least one temperature is required.", nameof(options));
        var sampler = new Sampler(model, tokenizer);
        int total = problems.Count * options.Temperatures.Count, done = 0;
        for (int t = 0; t < options.Temperatures.Count; t++)
        {
            double temperature = options.Temperatures[t];
            foreach (var problem in problems)
            {
                reporter.CancellationToken.ThrowIfCancellationRequested();
                done++;
                if (alreadyDone?.Invoke(problem.Key, temperature) == true) continue;

                var sampling = new SamplingOptions
                {
                    Temperature = temperature, TopP = options.TopP, TopK = options.TopK, MaxNewTokens = options.MaxNewTokens,
                    Seed = PromptSeed(options.Seed, t, problem.Key),
                };
                var results = sampler.SampleN(Sampler.EncodePrompt(tokenizer, problem.Prompt), options.N, sampling);
                var texts = results.Select(r => r.Text ?? tokenizer.Decode(r.TokenIds)).ToArray();
                var checks = texts.Select(problem.Check).ToArray();
                var inputs = texts.Select((text, i) => new VerifierInput(problem.Key, problem.Prompt, i, text, checks[i].Correct)).ToArray();
                var scores = verifiers.Select(v => (v.Name, Values: v.Score(inputs))).ToArray();

                var samples = results.Select((r, i) => new EvaluatedSample(
                    i, texts[i], checks[i].Extracted, checks[i].Correct, r.TokenIds.Length, r.SumLogProb,
                    scores.ToDictionary(s => s.Name, s => s.Values[i]))).ToList();
                sink.Write(new EvaluatedPrompt(problem, temperature, samples));
                reporter.Progress((double)done / total, $"T={temperature}: {done}/{total} sample sets");
            }
        }
    }

    /// <summary>Seed of one prompt's sampler: FNV-1a of the key mixed with the run seed and temperature index.</summary>
    public static long PromptSeed(long seed, int temperatureIndex, string key)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in key) { h ^= c; h *= 1099511628211UL; }
        h ^= (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)temperatureIndex;
        h *= 1099511628211UL;
        return (long)(h >> 1);
    }
}
