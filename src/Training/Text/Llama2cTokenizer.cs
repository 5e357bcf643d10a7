// The llama2.c tokenizer (tokenizer.bin / tok512.bin): SentencePiece-derived pieces with merge scores, encoded the
// way run.c does it (BOS, a dummy-prefix space, code points or byte fallback, then greedy highest-score pair merges)
// and decoded the way run.c prints it. See Fixtures/llama2c/FORMAT.md sections 4-6.
using System.Text;

namespace BonStudio.Training.Text;

public sealed class Llama2cTokenizer : ITokenizer
{
    private readonly byte[][] _pieces;
    private readonly float[] _scores;
    // pieces keyed by their bytes (Latin-1 maps each byte to one char, so this is an exact byte-string key)
    private readonly Dictionary<string, int> _lookup = new(StringComparer.Ordinal);

    public string Name { get; }
    public int VocabSize => _pieces.Length;
    public int MaxTokenLength { get; }
    /// <summary>llama2.c: BOS = 1 (also the id that ends generation in run.c).</summary>
    public int? BosId => 1;
    public int? EosId => 2;

    public Llama2cTokenizer(IReadOnlyList<byte[]> pieces, IReadOnlyList<float> scores, int maxTokenLength, string name = "llama2c")
    {
        if (pieces.Count != scores.Count) throw new ArgumentException("pieces and scores differ in length.");
        _pieces = pieces.ToArray();
        _scores = scores.ToArray();
        MaxTokenLength = maxTokenLength;
        Name = name;
        for (int i = 0; i < _pieces.Length; i++) _lookup.TryAdd(Key(_pieces[i]), i);
    }

    /// <summary>Reads a llama2.c tokenizer file; the vocabulary size comes from the model (the file does not store it).</summary>
    public static Llama2cTokenizer Load(string path, int vocabSize)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"llama2.c tokenizer '{path}' does not exist.", path);
        using var reader = new BinaryReader(File.OpenRead(path));
        var length = reader.BaseStream.Length;
        if (length < 4) throw new InvalidDataException($"llama2.c tokenizer '{path}': {length} bytes is too short.");
        int maxTokenLength = reader.ReadInt32();
        var pieces = new byte[vocabSize][];
        var scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            long at = reader.BaseStream.Position;
            if (at + 8 > length)
                throw new InvalidDataException($"llama2.c tokenizer '{path}': ends at byte {length} after {i} of {vocabSize} tokens (vocabulary size from the model).");
            scores[i] = reader.ReadSingle();
            int len = reader.ReadInt32();
            if (len < 0 || at + 8 + len > length)
                throw new InvalidDataException($"llama2.c tokenizer '{path}': token {i} at byte {at} has an invalid length {len}.");
            pieces[i] = reader.ReadBytes(len);
        }
        if (reader.BaseStream.Position != length)
            throw new InvalidDataException(
                $"llama2.c tokenizer '{path}': {length - reader.BaseStream.Position} bytes left after {vocabSize} tokens; does the vocabulary size match the model?");
        return new Llama2cTokenizer(pieces, scores, maxTokenLength, $"llama2c:{Path.GetFileNameWithoutExtension(path)}");
    }

    /// <summary>The tokenizer in the llama2.c file format (max_token_length, then score, length, bytes per token).</summary>
    public byte[] ToFileBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(MaxTokenLength);
            for (int i = 0; i < _pieces.Length; i++)
            {
                writer.Write(_scores[i]);
                writer.Write(_pieces[i].Length);
                writer.Write(_pieces[i]);
            }
        }
        return stream.ToArray();
    }

    /// <summary>Reads a whole llama2.c tokenizer file from memory: the vocabulary is every entry up to the end
    /// (used for files BonStudio wrote itself, whose size was checked against the model on import).</summary>
    public static Llama2cTokenizer FromFileBytes(byte[] data, string name, string where)
    {
        if (data.Length < 4) throw new InvalidDataException($"llama2.c tokenizer '{where}': {data.Length} bytes is too short.");
        var pieces = new List<byte[]>();
        var scores = new List<float>();
        int at = 4, maxTokenLength = BitConverter.ToInt32(data, 0);
        while (at < data.Length)
        {
            if (at + 8 > data.Length) throw new InvalidDataException($"llama2.c tokenizer '{where}': truncated entry at byte {at}.");
            float score = BitConverter.ToSingle(data, at);
            int len = BitConverter.ToInt32(data, at + 4);
            if (len < 0 || at + 8L + len > data.Length)
                throw new InvalidDataException($"llama2.c tokenizer '{where}': token {pieces.Count} at byte {at} has an invalid length {len}.");
            scores.Add(score);
            pieces.Add(data[(at + 8)..(at + 8 + len)]);
            at += 8 + len;
        }
        return new Llama2cTokenizer(pieces, scores, maxTokenLength, name);
    }

    public byte[] Piece(int id) => _pieces[id];
    public float Score(int id) => _scores[id];

    /// <summary>Encodes without BOS (the dummy-prefix space is still added), per the <see cref="ITokenizer"/> contract.</summary>
    public int[] Encode(string text) => EncodeWithBos(text)[1..];

    /// <summary>run.c's encode(text, bos=1, eos=0): exactly the ids run.c feeds the model.</summary>
    public int[] EncodeWithBos(string text)
    {
        var tokens = new List<int> { BosId!.Value };
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > 0)
        {
            if (!_lookup.TryGetValue(" ", out var space))
                throw new InvalidOperationException($"tokenizer {Name} has no single-space piece for the dummy prefix.");
            tokens.Add(space);
        }

        // code points: a new one starts at every byte that is not a continuation byte (10xxxxxx); at most 4 bytes
        int start = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            bool endsHere = i + 1 == bytes.Length || (bytes[i + 1] & 0xC0) != 0x80 || i + 1 - start >= 4;
            if (!endsHere) continue;
            var codePoint = bytes.AsSpan(start, i + 1 - start);
            if (_lookup.TryGetValue(Key(codePoint), out var id)) tokens.Add(id);
            else foreach (var b in codePoint) tokens.Add(b + 3);                     // byte fallback: <0xHH> = byte + 3
            start = i + 1;
        }

        // merge the adjacent pair whose merged piece scores highest (leftmost on ties) until none merges
        while (true)
        {
            float bestScore = float.NegativeInfinity;
            int bestId = -1, bestIndex = -1;
            for (int i = 0; i + 1 < tokens.Count; i++)
            {
                var merged = Key(_pieces[tokens[i]]) + Key(_pieces[tokens[i + 1]]);
                if (_lookup.TryGetValue(merged, out var id) && _scores[id] > bestScore)
                {
                    bestScore = _scores[id]; bestId = id; bestIndex = i;
                }
            }
            if (bestIndex < 0) break;
            tokens[bestIndex] = bestId;
            tokens.RemoveAt(bestIndex + 1);
        }
        return tokens.ToArray();
    }

    /// <summary>Decodes ids to text: byte-fallback pieces become raw bytes (so multi-byte characters come back whole),
    /// BOS is dropped and the space after a BOS is removed, as run.c does.</summary>
    public string Decode(IEnumerable<int> ids) => DecodeAfter(null, ids, runCFilter: false);

    /// <summary>Decodes <paramref name="ids"/> that follow <paramref name="previous"/> (e.g. generated ids after the prompt).</summary>
    public string DecodeAfter(int? previous, IEnumerable<int> ids, bool runCFilter = false)
    {
        var bytes = new List<byte>();
        int? prev = previous;
        foreach (var id in ids)
        {
            if (id < 0 || id >= _pieces.Length) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (0..{_pieces.Length - 1}).");
            if (id == BosId) { prev = id; continue; }
            var piece = (ReadOnlySpan<byte>)_pieces[id];
            if (prev == BosId && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
            if (ByteFallback(piece) is { } raw) piece = new[] { raw };
            // run.c's safe_printf: a single byte that is neither printable ASCII nor whitespace is not printed
            bool skip = runCFilter && piece.Length == 1 && !(piece[0] >= 0x20 && piece[0] < 0x7F) && !IsCSpace(piece[0]);
            if (!skip) bytes.AddRange(piece.ToArray());
            prev = id;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>What run.c prints for a whole sequence (BOS first), without its final newline.</summary>
    public string DecodeLikeRunC(IEnumerable<int> ids) => DecodeAfter(null, ids, runCFilter: true);

    private static byte? ByteFallback(ReadOnlySpan<byte> piece)
    {
        // "<0xHH>" stands for the raw byte HH
        if (piece.Length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>') return null;
        return byte.TryParse(Encoding.ASCII.GetString(piece[3..5]), System.Globalization.NumberStyles.HexNumber, null, out var b) ? b : null;
    }

    private static bool IsCSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static string Key(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}
