// The safetensors file format, read and written directly: 8-byte little-endian header length, a JSON header
// ({"__metadata__": {string: string}, name: {dtype, shape, data_offsets}}), then raw little-endian tensor bytes.
// Written here (not via PyBridge) because checkpoints carry their config in "__metadata__".
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace BonStudio.Training.Models;

public static class Safetensors
{
    private static readonly Dictionary<ScalarType, string> DtypeNames = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float64] = "F64", [ScalarType.Float16] = "F16",
        [ScalarType.BFloat16] = "BF16", [ScalarType.Int64] = "I64", [ScalarType.Int32] = "I32",
        [ScalarType.Int16] = "I16", [ScalarType.Int8] = "I8", [ScalarType.Byte] = "U8", [ScalarType.Bool] = "BOOL",
    };
    private static readonly Dictionary<string, ScalarType> DtypesByName = DtypeNames.ToDictionary(kv => kv.Value, kv => kv.Key);

    /// <summary>Writes <paramref name="tensors"/> (any device; copied to CPU) and string metadata to <paramref name="path"/>,
    /// atomically (a temporary file is renamed into place).</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (name == "__metadata__") throw new ArgumentException("a tensor cannot be named __metadata__.");
            if (!DtypeNames.TryGetValue(tensor.dtype, out var dtype))
                throw new ArgumentException($"tensor '{name}' has dtype {tensor.dtype}, which safetensors files here do not support.");
            using var cpuTensor = tensor.detach().cpu().contiguous();
            var bytes = cpuTensor.bytes.ToArray();
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported.");
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(tensor.shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8; // align the data section to 8 bytes (spaces are valid JSON)
        var headerBuffer = new byte[padded];
        Array.Fill(headerBuffer, (byte)' ');
        headerBytes.CopyTo(headerBuffer, 0);

        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            fs.Write(len);
            fs.Write(headerBuffer);
            foreach (var b in blobs) fs.Write(b);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Reads the string metadata only (cheap: the tensor data is not touched).</summary>
    public static Dictionary<string, string> ReadMetadata(string path) => ReadHeader(path, out _).Metadata;

    /// <summary>Reads every tensor (on CPU) and the metadata.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        var (metadata, entries) = ReadHeader(path, out long dataStart);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var fs = File.OpenRead(path);
        long dataLength = fs.Length - dataStart;
        foreach (var e in entries)
        {
            if (e.Begin < 0 || e.End < e.Begin || e.End > dataLength)
                throw new InvalidDataException($"{path}: tensor '{e.Name}' has data_offsets [{e.Begin}, {e.End}] outside the file's {dataLength} data bytes.");
            var t = empty(e.Shape, e.Dtype);
            long expected = t.numel() * t.ElementSize;
            if (expected != e.End - e.Begin)
                throw new InvalidDataException($"{path}: tensor '{e.Name}' has {e.End - e.Begin} bytes but shape [{string.Join(", ", e.Shape)}] {e.Dtype} needs {expected}.");
            var buffer = new byte[expected];
            fs.Position = dataStart + e.Begin;
            fs.ReadExactly(buffer);
            t.bytes = buffer;
            tensors[e.Name] = t;
        }
        return (tensors, metadata);
    }

    private sealed record Entry(string Name, ScalarType Dtype, long[] Shape, long Begin, long End);

    private static (Dictionary<string, string> Metadata, List<Entry> Entries) ReadHeader(string path, out long dataStart)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint file not found: {path}", path);
        using var fs = File.OpenRead(path);
        Span<byte> len = stackalloc byte[8];
        if (fs.Length < 8) throw new InvalidDataException($"{path}: too short to be a safetensors file.");
        fs.ReadExactly(len);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (headerLength > (ulong)(fs.Length - 8) || headerLength > 100_000_000)
            throw new InvalidDataException($"{path}: header length {headerLength} is not plausible for a {fs.Length}-byte file (not a safetensors file?).");
        var headerBytes = new byte[headerLength];
        fs.ReadExactly(headerBytes);
        dataStart = 8 + (long)headerLength;

        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new InvalidDataException("empty header"); }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        { throw new InvalidDataException($"{path}: the safetensors header is not a JSON object ({ex.Message}).", ex); }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            try
            {
                var o = node!.AsObject();
                var dtypeName = o["dtype"]!.GetValue<string>();
                if (!DtypesByName.TryGetValue(dtypeName, out var dtype))
                    throw new InvalidDataException($"{path}: tensor '{name}' has unsupported dtype {dtypeName}.");
                var shape = o["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                var offsets = o["data_offsets"]!.AsArray();
                entries.Add(new Entry(name, dtype, shape, offsets[0]!.GetValue<long>(), offsets[1]!.GetValue<long>()));
            }
            catch (Exception ex) when (ex is NullReferenceException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{path}: header entry '{name}' is malformed ({ex.Message}).", ex);
            }
        }
        return (metadata, entries);
    }
}
