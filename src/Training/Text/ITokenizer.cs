namespace BonStudio.Training.Text;

/// <summary>
/// Text ↔ token ids. Implemented by the MiniMath character tokenizer, the GPT-2 BPE tokenizer
/// (Microsoft.ML.Tokenizers) and the llama2.c tokenizer.
/// </summary>
public interface ITokenizer
{
    /// <summary>Stable id saved with checkpoints, e.g. "char:minimath", "gpt2", "llama2c:tok512".</summary>
    string Name { get; }
    int VocabSize { get; }
    /// <summary>Token the model expects at the start of a sequence, if any.</summary>
    int? BosId { get; }
    /// <summary>End-of-text token; sampling stops on it.</summary>
    int? EosId { get; }
    /// <summary>Encodes text without adding BOS/EOS.</summary>
    int[] Encode(string text);
    string Decode(IEnumerable<int> ids);
}
