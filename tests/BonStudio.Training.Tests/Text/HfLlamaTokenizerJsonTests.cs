// tokenizer.json of SentencePiece-style LLaMA models: a file in the Hugging Face layout (vocab with '▁', byte pieces,
// ranked merges) written here from the llama2.c tok512 fixture converts back into a tokenizer that encodes exactly
// like the original; byte-level BPE files are refused. (No real LLaMA tokenizer.json is available offline.)
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BonStudio.Training.Text;

namespace BonStudio.Training.Tests.Text;

public sealed class HfLlamaTokenizerJsonTests : IDisposable
{
    private static readonly string Tok512 = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama2c", "tok512.bin");
    private readonly string _dir = Directory.CreateTempSubdirectory("bon-tokjson-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The HF converter's view of a llama2.c tokenizer: '▁' for spaces, merges in descending score order,
    /// each split into two vocabulary pieces.</summary>
    private static JsonObject ToTokenizerJson(Llama2cTokenizer tok, bool stringMerges)
    {
        string Piece(int id) => Encoding.UTF8.GetString(tok.Piece(id)).Replace(' ', '▁');
        var vocab = new JsonObject();
        var ids = new Dictionary<string, int>();
        for (int id = 0; id < tok.VocabSize; id++) { vocab[Piece(id)] = id; ids[Piece(id)] = id; }
        var merges = new JsonArray();
        foreach (var id in Enumerable.Range(3, tok.VocabSize - 3).Where(i => !Piece(i).StartsWith("<0x")).OrderByDescending(tok.Score).ThenBy(i => i))
        {
            var p = Piece(id);
            var split = Enumerable.Range(1, p.Length - 1).Select(k => (A: p[..k], B: p[k..])).FirstOrDefault(s => ids.ContainsKey(s.A) && ids.ContainsKey(s.B));
            if (split.A is null) continue;
            merges.Add(stringMerges ? JsonValue.Create($"{split.A} {split.B}") : new JsonArray(split.A, split.B));
        }
        return new JsonObject
        {
            ["version"] = "1.0",
            ["normalizer"] = new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(
                new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" }, new JsonObject { ["type"] = "Replace", ["content"] = "▁" }) },
            ["model"] = new JsonObject { ["type"] = "BPE", ["byte_fallback"] = true, ["vocab"] = vocab, ["merges"] = merges },
        };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_sentencepiece_style_tokenizer_json_encodes_like_the_llama2c_tokenizer(bool stringMerges)
    {
        var original = Llama2cTokenizer.Load(Tok512, 512);
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, ToTokenizerJson(original, stringMerges).ToJsonString());

        var converted = HfLlamaTokenizerJson.Load(path, 512);

        foreach (var text in new[] { "Once upon a time, there was a little girl named Lily.", "The sun was hot!\nTom said: \"no\"", "ünïcödé 漢字 tab\there", "" })
        {
            Assert.Equal(original.EncodeWithBos(text), converted.EncodeWithBos(text));
            Assert.Equal(original.Decode(original.EncodeWithBos(text)), converted.Decode(converted.EncodeWithBos(text)));
        }
    }

    [Fact]
    public void Byte_level_bpe_and_unigram_files_are_refused()
    {
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, """{"model": {"type": "BPE", "byte_fallback": false, "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}""");
        Assert.Contains("byte_fallback", Assert.Throws<NotSupportedException>(() => HfLlamaTokenizerJson.Load(path, 1)).Message);
        File.WriteAllText(path, """{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}""");
        Assert.Contains("Unigram", Assert.Throws<NotSupportedException>(() => HfLlamaTokenizerJson.Load(path, 1)).Message);
        File.WriteAllText(path, """{"model": {"type": "BPE", "byte_fallback": true, "vocab": {"a": 0, "b": 5}, "merges": []}}""");
        Assert.Contains("id 5", Assert.Throws<InvalidDataException>(() => HfLlamaTokenizerJson.Load(path, 2)).Message);
    }
}
