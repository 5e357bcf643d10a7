// Hugging Face tokenizer.json of LLaMA-1/2-style models (a SentencePiece BPE exported by the HF converter:
// model.type "BPE", byte_fallback true, pieces with '▁' for spaces, ranked merges) read into a Llama2cTokenizer.
// Microsoft.ML.Tokenizers 3.0.0 cannot do this: SentencePieceTokenizer.CreateFromTokenizerJson reads Unigram models
// only, LlamaTokenizer.Create wants the SentencePiece tokenizer.model protobuf, and BpeTokenizer has no byte fallback.
// The conversion mirrors llama2.c's tokenizer.py export: '▁' → ' ', byte pieces stay "<0xHH>", and a piece's score
// is minus the rank of the merge that makes it, so the greedy highest-score merge of run.c's encoder applies merges in
// the file's order. Byte-level BPE files (LLaMA-3, GPT-2 style) are refused.
using System.Text;
using System.Text.Json;

namespace BonStudio.Training.Text;

public static class HfLlamaTokenizerJson
{
    /// <summary>Reads <paramref name="path"/>; <paramref name="vocabSize"/> (the model's) must cover every piece id.</summary>
    public static Llama2cTokenizer Load(string path, int vocabSize)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer.json '{path}' does not exist.", path);
        using var doc = ParseJson(path);
        var root = doc.RootElement;
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: no 'model' object.");
        var type = model.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type != "BPE") throw new NotSupportedException($"{path}: model.type '{type}' is not supported (only SentencePiece-style BPE).");
        if (!(model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True))
            throw new NotSupportedException($"{path}: a BPE without byte_fallback (byte-level BPE, e.g. LLaMA-3 or GPT-2) is not a SentencePiece tokenizer; not supported.");
        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind == JsonValueKind.Object && pre.GetRawText().Contains("\"ByteLevel\"", StringComparison.Ordinal))
            throw new NotSupportedException($"{path}: a ByteLevel pre-tokenizer is not SentencePiece-style; not supported.");

        var pieces = new string?[vocabSize];
        foreach (var entry in model.GetProperty("vocab").EnumerateObject())
        {
            int id = entry.Value.GetInt32();
            if (id < 0 || id >= vocabSize) throw new InvalidDataException($"{path}: piece '{entry.Name}' has id {id}, outside the model's vocabulary of {vocabSize}.");
            pieces[id] = entry.Name;
        }
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            foreach (var token in added.EnumerateArray())
            {
                int id = token.GetProperty("id").GetInt32();
                if (id >= 0 && id < vocabSize) pieces[id] ??= token.GetProperty("content").GetString();
            }
        int missing = Array.FindIndex(pieces, p => p is null);
        if (missing >= 0) throw new InvalidDataException($"{path}: no piece has id {missing} (the model's vocabulary is {vocabSize}).");

        // rank of the first merge producing each piece
        var rank = new Dictionary<string, int>(StringComparer.Ordinal);
        int r = 0;
        foreach (var merge in model.GetProperty("merges").EnumerateArray())
        {
            var (a, b) = merge.ValueKind switch
            {
                JsonValueKind.String when merge.GetString()!.Split(' ') is [var x, var y] => (x, y),
                JsonValueKind.Array when merge.GetArrayLength() == 2 => (merge[0].GetString()!, merge[1].GetString()!),
                _ => throw new InvalidDataException($"{path}: merge {r} is neither \"a b\" nor [\"a\", \"b\"]."),
            };
            rank.TryAdd(a + b, r++);
        }

        var bytes = new byte[vocabSize][];
        var scores = new float[vocabSize];
        for (int id = 0; id < vocabSize; id++)
        {
            var piece = pieces[id]!;
            bytes[id] = Encoding.UTF8.GetBytes(piece.Replace('▁', ' '));
            // pieces no merge makes (characters, bytes, specials) rank below every merge
            scores[id] = rank.TryGetValue(piece, out var k) ? -k : -(r + id);
        }
        return new Llama2cTokenizer(bytes, scores, bytes.Max(b => b.Length), $"hf-tokenizer-json:{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)))}");
    }

    private static JsonDocument ParseJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e); }
    }
}
