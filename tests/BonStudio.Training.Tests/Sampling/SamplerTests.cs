using BonStudio.Training.Models;
using BonStudio.Training.Sampling;
using BonStudio.Training.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.Sampling;

[Collection("Torch")]
public class SamplerTests
{
    private static readonly int[][] Prompts = [[1, 5, 6, 7, 8, 9, 3], [1, 4], [1, 10, 11, 12, 13]];
    private static readonly SamplingOptions Greedy = new() { Temperature = 0, MaxNewTokens = 12, StopTokenIds = [] };

    [Fact]
    public void Kv_cached_greedy_equals_full_recompute_greedy()
    {
        using var model = GptTests.NewModel(seed: 5);
        var sampler = new Sampler(model);
        var cached = sampler.Sample(Prompts, Greedy);
        var full = sampler.Sample(Prompts, Greedy with { UseKvCache = false });
        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(full[i].TokenIds, cached[i].TokenIds);
            Assert.Equal(12, cached[i].TokenIds.Length);
            for (int t = 0; t < 12; t++) Assert.Equal(full[i].TokenLogProbs[t], cached[i].TokenLogProbs[t], 1e-4);
        }
    }

    [Fact]
    public void Left_padded_batch_equals_each_prompt_alone()
    {
        using var model = GptTests.NewModel(seed: 6);
        var sampler = new Sampler(model);
        var batch = sampler.Sample(Prompts, Greedy);
        for (int i = 0; i < Prompts.Length; i++)
        {
            var alone = sampler.Sample([Prompts[i]], Greedy)[0];
            Assert.Equal(alone.TokenIds, batch[i].TokenIds);
            Assert.Equal(alone.SumLogProb, batch[i].SumLogProb, 1e-3);
        }
    }

    [Fact]
    public void Greedy_output_is_the_argmax_of_the_model_and_logprobs_are_at_temperature_one()
    {
        using var model = GptTests.NewModel(seed: 7);
        var result = new Sampler(model).Sample([Prompts[0]], Greedy with { MaxNewTokens = 1 })[0];
        using var logits = model.Forward(tensor(Prompts[0].Select(x => (long)x).ToArray()).unsqueeze(0), GptTests.Positions(1, Prompts[0].Length));
        var last = logits[0, -1];
        Assert.Equal(last.argmax().item<long>(), result.TokenIds[0]);
        Assert.Equal(nn.functional.log_softmax(last, 0)[result.TokenIds[0]].item<float>(), result.TokenLogProbs[0], 1e-5);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public void Same_seed_gives_the_same_samples_and_another_seed_differs()
    {
        using var model = GptTests.NewModel(seed: 8);
        var sampler = new Sampler(model);
        var options = new SamplingOptions { Temperature = 1.5, MaxNewTokens = 16, StopTokenIds = [], Seed = 11 };
        var a = sampler.SampleN(Prompts[0], 8, options);
        torch.manual_seed(999); // the global RNG must not matter
        var b = sampler.SampleN(Prompts[0], 8, options);
        var c = sampler.SampleN(Prompts[0], 8, options with { Seed = 12 });
        Assert.Equal(a.Select(r => r.TokenIds), b.Select(r => r.TokenIds));
        Assert.NotEqual(a.Select(r => string.Join(",", r.TokenIds)), c.Select(r => string.Join(",", r.TokenIds)));
        Assert.True(a.Select(r => string.Join(",", r.TokenIds)).Distinct().Count() > 1); // n samples differ from each other
    }

    [Fact]
    public void Sample_n_replicates_the_prompt()
    {
        using var model = GptTests.NewModel(seed: 9);
        var sampler = new Sampler(model);
        var n = sampler.SampleN(Prompts[1], 3, Greedy);
        var one = sampler.Sample([Prompts[1]], Greedy)[0];
        Assert.All(n, r => Assert.Equal(one.TokenIds, r.TokenIds));
    }

    [Fact]
    public void Stop_token_ends_a_row_early_and_is_excluded()
    {
        using var model = GptTests.NewModel(seed: 10);
        var sampler = new Sampler(model);
        var free = sampler.Sample(Prompts, Greedy);
        // Declare the token each row emits at step 3 a stop token: rows stop at or before step 3 and leave the batch.
        var stop = free[0].TokenIds[3];
        var stopped = sampler.Sample(Prompts, Greedy with { StopTokenIds = [stop] });
        for (int i = 0; i < Prompts.Length; i++)
        {
            int at = Array.IndexOf(free[i].TokenIds, stop);
            if (at < 0) { Assert.Equal(free[i].TokenIds, stopped[i].TokenIds); Assert.Equal(FinishReason.Length, stopped[i].FinishReason); }
            else
            {
                Assert.Equal(free[i].TokenIds[..at], stopped[i].TokenIds);
                Assert.Equal(FinishReason.Stop, stopped[i].FinishReason);
                Assert.Equal(free[i].TokenLogProbs[..at].Sum(x => (double)x), stopped[i].SumLogProb, 1e-3);
            }
        }
        Assert.True(stopped[0].TokenIds.Length <= 3);
        Assert.Equal(FinishReason.Stop, stopped[0].FinishReason);
    }

    [Fact]
    public void Top_k_and_top_p_restrict_the_support()
    {
        using var logits = tensor(new float[] { 3f, 2.5f, 2f, 0f, -1f, -2f }).unsqueeze(0).expand(4000, -1);
        using var generator = new Generator(1);
        // softmax ≈ [0.49, 0.30, 0.18, 0.024, 0.009, 0.003]
        Tensor next;
        (next, _) = Sampler.Choose(logits, new SamplingOptions { TopK = 2 }, generator);
        var counts = next.bincount(null, 6).data<long>().ToArray();
        Assert.True(counts[0] > 0 && counts[1] > 0);
        Assert.Equal(0, counts[2..].Sum());
        (next, _) = Sampler.Choose(logits, new SamplingOptions { TopP = 0.85 }, generator); // top-3 reach 0.97 > 0.85 > 0.79
        counts = next.bincount(null, 6).data<long>().ToArray();
        Assert.True(counts[0] > 0 && counts[1] > 0 && counts[2] > 0);
        Assert.Equal(0, counts[3..].Sum());
        (next, _) = Sampler.Choose(logits, new SamplingOptions(), generator);
        counts = next.bincount(null, 6).data<long>().ToArray();
        Assert.True(counts[3..].Sum() > 0); // without restriction the tail is sampled
    }

    [Fact]
    public void Context_limit_ends_generation_with_length_and_bad_options_are_refused()
    {
        using var model = GptTests.NewModel(seed: 11);
        var sampler = new Sampler(model);
        var r = sampler.Sample([Enumerable.Repeat(4, 30).ToArray()], Greedy with { MaxNewTokens = 50 })[0];
        Assert.Equal(3, r.TokenIds.Length); // 30 prompt slots + 2 cached + the last token, context 32
        Assert.Equal(FinishReason.Length, r.FinishReason);
        Assert.Throws<ArgumentException>(() => sampler.Sample(Prompts, Greedy with { TopP = 0 }));
        Assert.Throws<ArgumentException>(() => sampler.Sample([[1, 25]], Greedy));
        Assert.Throws<ArgumentException>(() => sampler.Sample([Array.Empty<int>()], Greedy));
    }

    [Fact]
    public void Stop_strings_end_a_sample_with_a_tokenizer()
    {
        var tok = BonStudio.Training.Text.CharTokenizer.Instance;
        using var model = GptTests.NewModel(seed: 12, config: GptTests.Tiny with { VocabSize = tok.VocabSize });
        var sampler = new Sampler(model, tok);
        var free = sampler.Sample(["12+3="], Greedy with { StopTokenIds = [] })[0];
        var stopAt = free.Text![..4];
        var stopped = sampler.Sample(["12+3="], Greedy with { StopTokenIds = [], StopStrings = [stopAt] })[0];
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.EndsWith(stopAt, stopped.Text);
        Assert.True(stopped.TokenIds.Length <= 4);
    }
}

[Collection("Torch")]
public class CompletionLogProbsTests
{
    [Fact]
    public void Scoring_sampled_completions_gives_the_sampler_logprobs_with_gradient()
    {
        using var model = GptTests.NewModel(seed: 13);
        int[][] prompts = [[1, 5, 6, 7], [1, 4], [1, 9, 9, 9, 9, 9]];
        var samples = new Sampler(model).Sample(prompts, new SamplingOptions { MaxNewTokens = 6, StopTokenIds = [2], Seed = 3 });
        var completions = samples.Select(s => s.TokenIds).ToList();
        var (perToken, mask) = CompletionLogProbs.PerToken(model, prompts, completions);
        for (int b = 0; b < prompts.Length; b++)
        {
            Assert.Equal(completions[b].Length, mask[b].sum().item<long>());
            for (int t = 0; t < completions[b].Length; t++) Assert.Equal(samples[b].TokenLogProbs[t], perToken[b, t].item<float>(), 1e-4);
        }
        using var sum = CompletionLogProbs.Sum(model, prompts, completions);
        Assert.True(sum.requires_grad);
        sum.sum().backward();
        Assert.Contains(model.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);
    }
}
