// Reader and writer of llama2.c's original ("legacy", no magic) checkpoint format: a 7 x int32 header
// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means a separate
// classifier is stored at the end) followed by float32 arrays in a fixed order. See Fixtures/llama2c/FORMAT.md.
using TorchSharp;
using static TorchSharp.torch;

namespace BonStudio.Training.Models.Loaders;

public static class Llama2cCheckpoint
{
    public const int HeaderBytes = 7 * sizeof(int);

    /// <summary>Reads the header and checks the file size; does not read the weights.</summary>
    public static LlamaConfig ReadConfig(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"llama2.c checkpoint '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>Loads a llama2.c checkpoint into a <see cref="Llama"/> on <paramref name="device"/> (CPU when null).</summary>
    public static Llama Load(string path, Device? device = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"llama2.c checkpoint '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        var config = ReadHeader(stream, path);
        var model = new Llama(config);
        using var reader = new BinaryReader(stream);
        var state = model.state_dict();
        using (no_grad())
        {
            foreach (var (name, shape) in TensorOrder(config))
            {
                long count = shape.Aggregate(1L, (a, b) => a * b);
                var values = ReadFloats(reader, count, path, name);
                if (name.StartsWith(RopeTablePrefix)) continue;                       // legacy RoPE tables: skipped like run.c
                using var source = tensor(values).view(shape);
                state[name].copy_(source);
            }
        }
        model.eval();
        if (device is not null) model.to(device);
        return model;
    }

    /// <summary>Writes <paramref name="model"/> in the llama2.c legacy format (interleaved RoPE only: run.c's convention).</summary>
    public static void Write(string path, Llama model)
    {
        var config = model.Config;
        if (config.RopeLayout != RopeLayout.Interleaved)
            throw new ArgumentException("llama2.c checkpoints use interleaved RoPE; this model uses rotate-halves (convert its q/k weights first).");
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        foreach (var v in new[] { config.Dim, config.HiddenDim, config.Layers, config.Heads, config.KvHeads,
                     config.SharedClassifier ? config.VocabSize : -config.VocabSize, config.ContextLength })
            writer.Write(v);
        var state = model.state_dict();
        int half = config.HeadSize / 2;
        foreach (var (name, shape) in TensorOrder(config))
        {
            float[] values;
            if (!name.StartsWith(RopeTablePrefix)) values = state[name].cpu().to(float32).contiguous().data<float>().ToArray();
            else
            {
                // legacy cos/sin tables (ignored by readers, written for compatibility): real part first, then imaginary
                bool real = name == RopeTablePrefix + "real";
                values = new float[config.ContextLength * half];
                for (int p = 0; p < config.ContextLength; p++)
                    for (int j = 0; j < half; j++)
                    {
                        double angle = p / Math.Pow(config.RopeTheta, 2.0 * j / config.HeadSize);
                        values[p * half + j] = (float)(real ? Math.Cos(angle) : Math.Sin(angle));
                    }
            }
            foreach (var f in values) writer.Write(f);
        }
    }

    private const string RopeTablePrefix = "#freq_cis_";

    private static LlamaConfig ReadHeader(Stream stream, string path)
    {
        if (stream.Length < HeaderBytes)
            throw new InvalidDataException($"llama2.c checkpoint '{path}': {stream.Length} bytes is shorter than the {HeaderBytes}-byte header.");
        var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        var h = Enumerable.Range(0, 7).Select(_ => reader.ReadInt32()).ToArray();
        string[] names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"];
        for (int i = 0; i < 7; i++)
            if (h[i] == 0 || (i != 5 && h[i] < 0))
                throw new InvalidDataException($"llama2.c checkpoint '{path}': header field {names[i]} = {h[i]} is not valid (is this a llama2.c legacy .bin?).");
        var config = new LlamaConfig
        {
            Dim = h[0], HiddenDim = h[1], Layers = h[2], Heads = h[3], KvHeads = h[4],
            VocabSize = Math.Abs(h[5]), ContextLength = h[6], SharedClassifier = h[5] > 0,
            NormEps = 1e-5, RopeTheta = 10000.0, RopeLayout = RopeLayout.Interleaved,
        };
        try { config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"llama2.c checkpoint '{path}': {e.Message}", e); }

        long floats = TensorOrder(config).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
        long expected = HeaderBytes + 4 * floats;
        if (stream.Length != expected)
            throw new InvalidDataException(
                $"llama2.c checkpoint '{path}' is {stream.Length} bytes but its header (dim {config.Dim}, hidden {config.HiddenDim}, " +
                $"layers {config.Layers}, heads {config.Heads}, kv heads {config.KvHeads}, vocab {h[5]}, seq_len {config.ContextLength}) " +
                $"implies {expected} bytes: the file is truncated, has trailing data, or is not a legacy llama2.c checkpoint.");
        return config;
    }

    /// <summary>The arrays of the file in order, with the model parameter each fills (or a legacy RoPE table name).</summary>
    private static IEnumerable<(string Name, long[] Shape)> TensorOrder(LlamaConfig c)
    {
        long L = c.Layers, D = c.Dim, Kv = c.KvDim, Hd = c.HiddenDim;
        yield return ("tok_embeddings.weight", [c.VocabSize, D]);
        foreach (var item in PerLayer("attention_norm.weight", [D])) yield return item;
        foreach (var item in PerLayer("attention.wq.weight", [D, D])) yield return item;
        foreach (var item in PerLayer("attention.wk.weight", [Kv, D])) yield return item;
        foreach (var item in PerLayer("attention.wv.weight", [Kv, D])) yield return item;
        foreach (var item in PerLayer("attention.wo.weight", [D, D])) yield return item;
        foreach (var item in PerLayer("ffn_norm.weight", [D])) yield return item;
        foreach (var item in PerLayer("feed_forward.w1.weight", [Hd, D])) yield return item;
        foreach (var item in PerLayer("feed_forward.w2.weight", [D, Hd])) yield return item;
        foreach (var item in PerLayer("feed_forward.w3.weight", [Hd, D])) yield return item;
        yield return ("norm.weight", [D]);
        yield return (RopeTablePrefix + "real", [c.ContextLength, c.HeadSize / 2]);
        yield return (RopeTablePrefix + "imag", [c.ContextLength, c.HeadSize / 2]);
        if (!c.SharedClassifier) yield return ("output.weight", [c.VocabSize, D]);

        IEnumerable<(string, long[])> PerLayer(string suffix, long[] shape) =>
            Enumerable.Range(0, (int)L).Select(i => ($"layers.{i}.{suffix}", shape));
    }

    private static float[] ReadFloats(BinaryReader reader, long count, string path, string name)
    {
        var bytes = reader.ReadBytes(checked((int)(count * 4)));
        if (bytes.Length != count * 4)
            throw new InvalidDataException($"llama2.c checkpoint '{path}': unexpected end of file while reading {name}.");
        var values = new float[count];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("llama2.c checkpoints are little-endian.");
        return values;
    }
}
