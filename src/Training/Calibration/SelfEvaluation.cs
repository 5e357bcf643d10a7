// Self-evaluation P(True) (methods.md §3 (a)) in a fixed format a character-level model can be taught:
//
//   <question>\nA: <the model's response>\nCorrect? yes|no
//
// After "Correct? " the next character decides: confidence = P('y') / (P('y') + P('n')) = sigmoid(logit_y − logit_n),
// read from one forward pass. The model learns the format from its own greedy and sampled answers labelled by the
// checker (SFT data built here, trained with LikelihoodTrainer). When a long response would not fit the context,
// the response is replaced by its short form "#### <answer>" (in training and evaluation alike).
using BonStudio.Training.Models;
using BonStudio.Training.Runtime;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tasks;
using BonStudio.Training.Text;
using static TorchSharp.torch;

namespace BonStudio.Training.Calibration;

public static class SelfEvaluation
{
    /// <summary>Asked after the response.</summary>
    public const string Question = "\nCorrect? ";
    public const string Yes = "yes", No = "no";

    /// <summary>The self-evaluation prompt for <paramref name="response"/> to <paramref name="problem"/>: the full
    /// response when BOS + prompt + "yes" + EOS fit <paramref name="contextLength"/>, else its short form.</summary>
    public static string Prompt(MathProblem problem, string response, int contextLength)
    {
        var full = MiniMath.Prompt(problem) + response + Question;
        if (Fits(full, contextLength)) return full;
        var shortForm = MiniMath.Prompt(problem) + ShortForm(response) + Question;
        return Fits(shortForm, contextLength) ? shortForm
            : throw new ArgumentException($"question {problem.Id} is too long for a self-evaluation prompt in a context of {contextLength} positions.");
    }

    /// <summary>"#### 33" for a response with an answer; the response's last 12 characters otherwise.</summary>
    internal static string ShortForm(string response)
    {
        int at = response.IndexOf(MiniMath.AnswerMarker, StringComparison.Ordinal);
        if (at >= 0)
        {
            int end = response.IndexOf('\n', at);
            return end < 0 ? response[at..] : response[at..end];
        }
        return response.Length <= 12 ? response : response[^12..];
    }

    // BOS + text + "yes" + EOS, the last token only a target.
    private static bool Fits(string text, int contextLength) => 1 + text.Length + Yes.Length <= contextLength;

    /// <summary>The SFT pair teaching the verdict on one response.</summary>
    public static TrainingPair Pair(MathProblem problem, string response, bool correct, int contextLength) =>
        new(Prompt(problem, response, contextLength), correct ? Yes : No);

    /// <summary>P(yes)/(P(yes)+P(no)) from the next-token logits (any shape ending in V); the first characters of
    /// "yes" and "no" are single tokens of the char tokenizer.</summary>
    public static double PTrueFromLogits(ReadOnlySpan<float> logits, ITokenizer tokenizer)
    {
        var (yes, no) = VerdictTokens(tokenizer);
        return Sigmoid((double)logits[yes] - logits[no]);
    }

    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>Token ids of the first character of "yes" and of "no".</summary>
    public static (int Yes, int No) VerdictTokens(ITokenizer tokenizer)
    {
        var y = tokenizer.Encode(Yes); var n = tokenizer.Encode(No);
        if (y.Length == 0 || n.Length == 0 || y[0] == n[0])
            throw new ArgumentException($"tokenizer {tokenizer.Name} does not give 'yes' and 'no' distinct first tokens.");
        return (y[0], n[0]);
    }

    /// <summary>P(True) of each (problem, response) under <paramref name="judge"/>: one forward pass per batch of
    /// right-padded prompts, reading the logits at each row's last real position.</summary>
    public static double[] PTrue(ICausalLM judge, ITokenizer tokenizer, IReadOnlyList<(MathProblem Problem, string Response)> items,
        CancellationToken ct = default, int batchSize = 64)
    {
        var (yes, no) = VerdictTokens(tokenizer);
        var result = new double[items.Count];
        using var noGrad = no_grad();
        for (int i = 0; i < items.Count; i += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var prompts = items.Skip(i).Take(batchSize)
                .Select(x => Sampler.EncodePrompt(tokenizer, Prompt(x.Problem, x.Response, judge.ContextLength))).ToList();
            int b = prompts.Count, t = prompts.Max(p => p.Length);
            var data = new long[b * t];
            for (int r = 0; r < b; r++) for (int j = 0; j < prompts[r].Length; j++) data[r * t + j] = prompts[r][j];
            var tokens = tensor(data, [b, t], ScalarType.Int64).to(judge.Device);
            var positions = arange(t, dtype: ScalarType.Int64, device: judge.Device).unsqueeze(0).expand(b, -1);
            var logits = judge.Forward(tokens, positions);                                              // (B, T, V), causal: right padding is never seen
            var last = tensor(prompts.Select(p => (long)p.Length - 1).ToArray(), ScalarType.Int64).to(judge.Device);
            var atLast = logits.gather(1, last.view(b, 1, 1).expand(b, 1, logits.shape[2])).squeeze(1); // (B, V)
            var margin = (atLast.select(1, yes) - atLast.select(1, no)).to_type(ScalarType.Float64).cpu(); // (B,)
            var m = margin.data<double>().ToArray();
            for (int r = 0; r < b; r++) result[i + r] = Sigmoid(m[r]);
        }
        return result;
    }

    /// <summary>
    /// The teaching data: for each problem the model's greedy response and <paramref name="samplesPerProblem"/>
    /// temperature-<paramref name="temperature"/> samples, each labelled yes/no by the checker.
    /// </summary>
    public static List<TrainingPair> TeachingData(ICausalLM model, ITokenizer tokenizer, IReadOnlyList<MathProblem> problems,
        int samplesPerProblem, double temperature, long seed, int maxNewTokens, CancellationToken ct = default)
    {
        var pairs = new List<TrainingPair>();
        var greedy = ConfidenceSources.AnswerGreedy(model, tokenizer, problems, maxNewTokens, ct);
        pairs.AddRange(greedy.Select(a => Pair(a.Problem, a.Response, a.Correct, model.ContextLength)));
        if (samplesPerProblem > 0)
        {
            var sampler = new Sampler(model, tokenizer);
            int perBatch = Math.Max(1, 128 / samplesPerProblem);
            for (int i = 0; i < problems.Count; i += perBatch)
            {
                ct.ThrowIfCancellationRequested();
                var chunk = problems.Skip(i).Take(perBatch).ToList();
                var prompts = chunk.SelectMany(p => Enumerable.Repeat(Sampler.EncodePrompt(tokenizer, MiniMath.Prompt(p)), samplesPerProblem)).ToList();
                var outputs = sampler.Sample(prompts, new SamplingOptions { Temperature = temperature, MaxNewTokens = maxNewTokens, Seed = unchecked(seed * 7919 + i) });
                for (int k = 0; k < outputs.Count; k++)
                {
                    var p = chunk[k / samplesPerProblem];
                    pairs.Add(Pair(p, outputs[k].Text!, MiniMath.IsCorrect(outputs[k].Text!, p.Answer), model.ContextLength));
                }
            }
        }
        return pairs;
    }

    /// <summary>Teaches <paramref name="judge"/> (in place) the self-evaluation format on <paramref name="pairs"/>;
    /// reports <c>ptrue_teach/loss</c>.</summary>
    public static double Teach(ICausalLM judge, ITokenizer tokenizer, IReadOnlyList<TrainingPair> pairs, LikelihoodTrainingOptions options,
        IRunReporter reporter, Action<int, int>? onStep = null) =>
        LikelihoodTrainer.Train(judge, tokenizer, pairs, options, reporter, "ptrue_teach", onStep);
}
