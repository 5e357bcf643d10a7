// Character-level tokenizer with a FIXED vocabulary: special tokens, newline, then printable ASCII.
// The id of every character never changes between versions, so checkpoints stay loadable.
using System.Text;

namespace BonStudio.Training.Text;

/// <summary>
/// One token per character. Vocabulary (stable, never reorder): 0 = &lt;pad&gt;, 1 = &lt;bos&gt;, 2 = &lt;eos&gt;,
/// 3 = '\n', 4..98 = printable ASCII 32 (' ') .. 126 ('~'). Suits MiniMath, whose text is plain ASCII.
/// </summary>
public sealed class CharTokenizer : ITokenizer
{
    public const int PadId = 0;
    public const int BosTokenId = 1;
    public const int EosTokenId = 2;
    public const int NewlineId = 3;
    private const int FirstPrintable = 32, LastPrintable = 126, FirstPrintableId = 4;

    /// <summary>The shared instance (the tokenizer has no state).</summary>
    public static CharTokenizer Instance { get; } = new();

    /// <summary>Saved in checkpoints; <see cref="TokenizerRegistry"/> resolves it back.</summary>
    public string Name => "char:ascii";
    public int VocabSize => FirstPrintableId + (LastPrintable - FirstPrintable + 1); // 99
    public int? BosId => BosTokenId;
    public int? EosId => EosTokenId;

    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n') ids[i] = NewlineId;
            else if (c >= FirstPrintable && c <= LastPrintable) ids[i] = FirstPrintableId + (c - FirstPrintable);
            else
                throw new ArgumentException(
                    $"character {Describe(c)} at index {i} is not in the {Name} vocabulary (printable ASCII and '\\n' only).",
                    nameof(text));
        }
        return ids;
    }

    /// <summary>Decodes ids to text; &lt;pad&gt;, &lt;bos&gt; and &lt;eos&gt; decode to nothing.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        int index = 0;
        foreach (var id in ids)
        {
            if (id == NewlineId) sb.Append('\n');
            else if (id >= FirstPrintableId && id < VocabSize) sb.Append((char)(FirstPrintable + id - FirstPrintableId));
            else if (id is < PadId or >= 4)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} at index {index} is outside the {Name} vocabulary (0..{VocabSize - 1}).");
            index++;
        }
        return sb.ToString();
    }

    private static string Describe(char c) =>
        char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}' (U+{(int)c:X4})";
}

/// <summary>Resolves a tokenizer name stored in a checkpoint to an instance. Fixed names ("char:ascii", "gpt2") map to
/// factories; names with a registered prefix (e.g. "llama2c-sha256:…" of imported models) go to that prefix's resolver.</summary>
public static class TokenizerRegistry
{
    private static readonly Dictionary<string, Func<ITokenizer>> Factories = new(StringComparer.Ordinal)
    {
        ["char:ascii"] = () => CharTokenizer.Instance,
    };
    private static readonly Dictionary<string, Func<string, ITokenizer>> PrefixResolvers = new(StringComparer.Ordinal);

    /// <summary>Registers another tokenizer (e.g. "gpt2") so checkpoints naming it can be loaded.</summary>
    public static void Register(string name, Func<ITokenizer> factory)
    {
        lock (Factories) Factories[name] = factory;
    }

    /// <summary>Resolves every name starting with <paramref name="prefix"/> (the resolver gets the whole name).</summary>
    public static void RegisterPrefix(string prefix, Func<string, ITokenizer> resolve)
    {
        lock (Factories) PrefixResolvers[prefix] = resolve;
    }

    public static ITokenizer Resolve(string name)
    {
        Func<ITokenizer>? factory;
        Func<string, ITokenizer>? byPrefix = null;
        lock (Factories)
        {
            if (!Factories.TryGetValue(name, out factory))
                byPrefix = PrefixResolvers.Where(p => name.StartsWith(p.Key, StringComparison.Ordinal)).Select(p => p.Value).FirstOrDefault();
            if (factory is null && byPrefix is null)
                throw new ArgumentException($"unknown tokenizer '{name}'; known: {string.Join(", ", Factories.Keys.Concat(PrefixResolvers.Keys.Select(k => k + "…")))}.");
        }
        // outside the lock: a prefix resolver may read a file
        return factory is not null ? factory() : byPrefix!(name);
    }
}
