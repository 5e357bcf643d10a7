using static TorchSharp.torch;

namespace BonStudio.Training.Models;

/// <summary>
/// Keys and values of the positions processed so far, one pair per layer, each (B, H_kv, S, D).
/// Attention layers call <see cref="Append"/> with the new positions' keys/values and attend over what it returns.
/// The tensors live outside any per-step dispose scope; dispose the cache when generation ends.
/// </summary>
public sealed class KvCache(int layers) : IDisposable
{
    private readonly Tensor?[] _keys = new Tensor?[layers];
    private readonly Tensor?[] _values = new Tensor?[layers];

    /// <summary>Number of positions cached (the same for every layer once a forward pass completes).</summary>
    public long Length => _keys[^1]?.shape[2] ?? 0;

    /// <summary>Appends (B, H_kv, T, D) keys/values for <paramref name="layer"/>; returns the full (B, H_kv, S, D) pair.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        var k = _keys[layer] is { } oldK ? cat([oldK, keys], 2) : keys.alias();
        var v = _values[layer] is { } oldV ? cat([oldV, values], 2) : values.alias();
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
        _keys[layer] = k.DetachFromDisposeScope();
        _values[layer] = v.DetachFromDisposeScope();
        return (k, v);
    }

    /// <summary>Keeps only the rows in <paramref name="rows"/> (B' indices), e.g. when finished sequences leave the batch.</summary>
    public void SelectRows(Tensor rows)
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] is null) continue;
            var k = _keys[i]!.index_select(0, rows).DetachFromDisposeScope();
            var v = _values[i]!.index_select(0, rows).DetachFromDisposeScope();
            _keys[i]!.Dispose(); _values[i]!.Dispose();
            _keys[i] = k; _values[i] = v;
        }
    }

    public void Dispose()
    {
        foreach (var t in _keys) t?.Dispose();
        foreach (var t in _values) t?.Dispose();
        Array.Clear(_keys); Array.Clear(_values);
    }
}
