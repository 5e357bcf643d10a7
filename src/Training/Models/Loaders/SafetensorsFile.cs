// Minimal safetensors reader/writer (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data. Reading checks every
// tensor's byte range against its dtype and shape so a truncated or inconsistent file is refused with its name.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace BonStudio.Training.Models.Loaders;

public static class SafetensorsFile
{
    // element size in bytes per dtype name
    private static readonly Dictionary<string, int> DTypes = new()
    {
        ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["F64"] = 8, ["I64"] = 8, ["I32"] = 4, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>Reads every tensor (CPU) of a .safetensors file.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: {bytes.Length} bytes is too short for a safetensors file.");
        long headerLength = BitConverter.ToInt64(bytes, 0);
        if (headerLength <= 0 || 8 + headerLength > bytes.Length)
            throw new InvalidDataException($"{path}: header length {headerLength} does not fit the file's {bytes.Length} bytes.");
        JsonObject header;
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength)) as JsonObject ?? throw new InvalidDataException($"{path}: header is not a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON header: {e.Message}", e); }

        long dataStart = 8 + headerLength, dataLength = bytes.Length - dataStart;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            var dtype = node?["dtype"]?.GetValue<string>() ?? throw new InvalidDataException($"{path}: tensor '{name}' has no dtype.");
            if (!DTypes.TryGetValue(dtype, out var elementBytes)) throw new NotSupportedException($"{path}: tensor '{name}' has unsupported dtype {dtype}.");
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            long expected = shape.Aggregate(1L, (a, b) => a * b) * elementBytes;
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] > dataLength || offsets[1] - offsets[0] != expected)
                throw new InvalidDataException(
                    $"{path}: tensor '{name}' ({dtype} [{string.Join(", ", shape)}]) needs {expected} bytes but its data_offsets " +
                    $"[{string.Join(", ", offsets)}] give {(offsets.Length == 2 ? offsets[1] - offsets[0] : -1)} within {dataLength} data bytes.");
            var slice = bytes.AsSpan((int)(dataStart + offsets[0]), (int)expected);
            result[name] = Decode(dtype, slice, shape).DetachFromDisposeScope();
        }
        return result;
    }

    /// <summary>Raw little-endian bytes → tensor; 16-bit floats are widened to float32.</summary>
    private static Tensor Decode(string dtype, ReadOnlySpan<byte> data, long[] shape)
    {
        switch (dtype)
        {
            case "F32": return tensor(Cast<float>(data), dtype: ScalarType.Float32).reshape(shape);
            case "F64": return tensor(Cast<double>(data), dtype: ScalarType.Float64).reshape(shape);
            case "I64": return tensor(Cast<long>(data), dtype: ScalarType.Int64).reshape(shape);
            case "I32": return tensor(Cast<int>(data), dtype: ScalarType.Int32).reshape(shape);
            case "U8": return tensor(data.ToArray(), dtype: ScalarType.Byte).reshape(shape);
            case "I8": return tensor(Cast<sbyte>(data), dtype: ScalarType.Int8).reshape(shape);
            case "BOOL": return tensor(data.ToArray().Select(b => b != 0).ToArray()).reshape(shape);
            case "F16": return tensor(Cast<Half>(data).Select(h => (float)h).ToArray()).reshape(shape);
            case "BF16": return tensor(Cast<ushort>(data).Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray()).reshape(shape);
            default: throw new NotSupportedException($"safetensors dtype {dtype}");
        }
    }

    private static T[] Cast<T>(ReadOnlySpan<byte> data) where T : struct =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(data).ToArray();

    /// <summary>Writes tensors (any device; stored as their dtype) in sorted-name order.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null) header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var name in tensors.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            using var t = tensors[name].detach().cpu().contiguous();
            var (dtype, data) = t.dtype switch
            {
                ScalarType.Float32 => ("F32", Bytes(t.data<float>().ToArray())),
                ScalarType.Float64 => ("F64", Bytes(t.data<double>().ToArray())),
                ScalarType.Int64 => ("I64", Bytes(t.data<long>().ToArray())),
                ScalarType.Int32 => ("I32", Bytes(t.data<int>().ToArray())),
                _ => throw new NotSupportedException($"safetensors writer: tensor '{name}' has dtype {t.dtype}; convert it to float32 first."),
            };
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + data.Length),
            };
            blobs.Add(data);
            offset += data.Length;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        // pad the header with spaces to 8-byte alignment, as the reference implementation does
        int pad = (8 - headerBytes.Length % 8) % 8;
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((long)(headerBytes.Length + pad)));
        stream.Write(headerBytes);
        for (int i = 0; i < pad; i++) stream.WriteByte((byte)' ');
        foreach (var blob in blobs) stream.Write(blob);
    }

    private static byte[] Bytes<T>(T[] values) where T : struct =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
