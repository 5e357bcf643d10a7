// Acceptance tests against the real stories260K llama2.c model: prompt ids, greedy ids, logits and text must match
// run.c's recorded outputs (Fixtures/llama2c/reference.json; its "semantics" block defines the fields).
using System.Text.Json.Nodes;
using BonStudio.Training.Models;
using BonStudio.Training.Models.Loaders;
using BonStudio.Training.Text;
using static TorchSharp.torch;

namespace BonStudio.Training.Tests.Llama;

[Collection("Torch")]
public sealed class Llama2cReferenceTests
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama2c");
    public static readonly string ModelPath = Path.Combine(Folder, "stories260K.bin");
    public static readonly string TokenizerPath = Path.Combine(Folder, "tok512.bin");
    private static readonly JsonObject Reference = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "reference.json")))!.AsObject();
    private const double Tolerance = 1e-3;

    public static IEnumerable<object[]> Cases() =>
        Reference["cases"]!.AsArray().Select((_, i) => new object[] { i });

    private static int[] Ints(JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<int>()).ToArray();

    [Theory, MemberData(nameof(Cases))]
    public void Prompt_ids_greedy_ids_and_text_match_run_c(int index)
    {
        var c = Reference["cases"]![index]!;
        using var loaded = ModelLoader.Load(ModelPath, TokenizerPath);
        var tokenizer = (Llama2cTokenizer)loaded.Tokenizer;
        var prompt = c["prompt"]!.GetValue<string>();
        var expectedPrompt = Ints(c["prompt_token_ids"]);
        var expectedGenerated = Ints(c["generated_token_ids"]);
        int steps = c["steps"]!.GetValue<int>();

        var result = ModelLoader.Generate(loaded, prompt, maxNewTokens: steps - expectedPrompt.Length + 1, temperature: 0);

        Assert.Equal(expectedPrompt, result.PromptIds);
        Assert.Equal(expectedGenerated, result.GeneratedIds);
        Assert.Equal(c["generated_text"]!.GetValue<string>(), result.GeneratedText);
        Assert.Equal(c["text"]!.GetValue<string>(), result.Text);
        Assert.Equal(c["text"]!.GetValue<string>(), tokenizer.DecodeLikeRunC(result.PromptIds.Concat(result.GeneratedIds)));
    }

    [Theory, MemberData(nameof(Cases))]
    public void Logits_at_every_recorded_position_match_within_1e3_with_and_without_cache(int index)
    {
        var c = Reference["cases"]![index]!;
        var positions = c["positions"]!.AsArray();
        var inputs = positions.Select(p => (long)p!["input_token"]!.GetValue<int>()).ToArray();
        using var model = Llama2cCheckpoint.Load(ModelPath);
        using var _ = no_grad();
        using var scope = NewDisposeScope();

        // full recompute over the whole sequence at once
        var tokens = tensor(inputs).view(1, -1);
        var pos = arange(inputs.Length).view(1, -1);
        var full = model.Forward(tokens, pos)[0];                                     // (T, V)

        // one token at a time through the KV cache, as run.c does
        using var cache = model.NewCache();
        var stepwise = cat(inputs.Select((t, i) => model.Forward(tensor(new[] { t }).view(1, 1), tensor(new long[] { i }).view(1, 1), null, cache)[0]).ToArray(), 0);

        foreach (var logits in new[] { full, stepwise })
        {
            var values = logits.to(float64).data<double>().ToArray();
            int vocab = (int)logits.shape[1];
            for (int p = 0; p < positions.Count; p++)
            {
                var entry = positions[p]!;
                foreach (var pair in entry["top5"]!.AsArray())
                {
                    int id = pair![0]!.GetValue<int>();
                    double expected = pair[1]!.GetValue<double>();
                    Assert.True(Math.Abs(values[p * vocab + id] - expected) <= Tolerance,
                        $"case {index} pos {p} id {id}: {values[p * vocab + id]} vs reference {expected}");
                }
                if (entry["logits_first10"] is JsonArray first10)
                    for (int id = 0; id < first10.Count; id++)
                        Assert.True(Math.Abs(values[p * vocab + id] - first10[id]!.GetValue<double>()) <= Tolerance,
                            $"case {index} pos {p} id {id}: {values[p * vocab + id]} vs reference {first10[id]}");
                // the recorded next token is the argmax wherever it was not forced by the prompt
                if (!entry["forced"]!.GetValue<bool>())
                    Assert.Equal(entry["next_token"]!.GetValue<int>(), logits[p].argmax().item<long>());
            }
        }
    }

    [Fact]
    public void Batched_kv_cached_generation_of_all_cases_together_gives_the_same_ids()
    {
        var cases = Reference["cases"]!.AsArray();
        using var loaded = ModelLoader.Load(ModelPath, TokenizerPath);
        // prompts of different lengths in one batch (left-padded), each with its own budget: use the largest, then cut
        var prompts = cases.Select(c => Ints(c!["prompt_token_ids"])).ToList();
        prompts.Add(Ints(cases[0]!["prompt_token_ids"])[..1]);                        // BOS alone: the shortest row
        int steps = cases[0]!["steps"]!.GetValue<int>();
        var generated = ModelLoader.Generate(loaded, prompts, maxNewTokens: steps, temperature: 0);
        for (int i = 0; i < cases.Count; i++)
        {
            var expected = Ints(cases[i]!["generated_token_ids"]);
            Assert.Equal(expected, generated[i].Take(steps - prompts[i].Length + 1));
        }
        // the BOS-only row equals the same prompt run on its own
        var alone = ModelLoader.Generate(loaded, [prompts[^1]], maxNewTokens: steps, temperature: 0);
        Assert.Equal(alone[0], generated[^1]);
    }

    [Fact]
    public void Sampling_at_temperature_is_seeded_and_stays_in_vocabulary()
    {
        using var loaded = ModelLoader.Load(ModelPath, TokenizerPath);
        var a = ModelLoader.Generate(loaded, "The dog", maxNewTokens: 20, temperature: 1.0, seed: 5);
        var b = ModelLoader.Generate(loaded, "The dog", maxNewTokens: 20, temperature: 1.0, seed: 5);
        var c = ModelLoader.Generate(loaded, "The dog", maxNewTokens: 20, temperature: 1.0, seed: 6);
        Assert.Equal(a.GeneratedIds, b.GeneratedIds);
        Assert.NotEqual(a.GeneratedIds, c.GeneratedIds);
        Assert.All(a.GeneratedIds, id => Assert.InRange(id, 0, 511));
        Assert.DoesNotContain(1, a.GeneratedIds);
        Assert.Contains("\"prompt_ids\":[1,", a.ToJson());
    }

    [Fact]
    public void Encode_cases_match_run_c()
    {
        var tokenizer = Llama2cTokenizer.Load(TokenizerPath, 512);
        foreach (var c in Reference["encode_cases"]!.AsArray())
        {
            var text = c!["text"]!.GetValue<string>();
            Assert.Equal(Ints(c["token_ids"]), tokenizer.EncodeWithBos(text));
            var pieces = c["pieces"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
            Assert.Equal(pieces, tokenizer.EncodeWithBos(text).Select(id => System.Text.Encoding.UTF8.GetString(tokenizer.Piece(id))).ToArray());
            // decoding gives the text back (byte fallback reassembles multi-byte characters)
            Assert.Equal(text, tokenizer.Decode(tokenizer.EncodeWithBos(text)));
        }
    }

    [Fact]
    public void Tokenizer_encode_without_bos_keeps_the_dummy_prefix()
    {
        var tokenizer = Llama2cTokenizer.Load(TokenizerPath, 512);
        Assert.Equal(new[] { 403, 407, 261, 378 }, tokenizer.Encode("Once upon a time"));
        Assert.Empty(tokenizer.Encode(""));
        Assert.Equal(512, tokenizer.VocabSize);
        Assert.Equal(7, tokenizer.MaxTokenLength);
    }

    [Fact]
    public void Header_describes_stories260K()
    {
        var config = Llama2cCheckpoint.ReadConfig(ModelPath);
        Assert.Equal((64, 172, 5, 8, 4, 512, 512, true),
            (config.Dim, config.HiddenDim, config.Layers, config.Heads, config.KvHeads, config.VocabSize, config.ContextLength, config.SharedClassifier));
    }
}
