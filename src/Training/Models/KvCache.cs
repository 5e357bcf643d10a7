using static TorchSharp.torch;

namespace BonStudio.Training.Models;

/// <summary>
/// Keys and values of the positions processed so far, one pair per layer, each (B, H_kv, S, D).
/// Attention layers call <see cref="Append"/> with the new positions' keys/values and attend over what it returns.
/// The tensors live outside any per-step dispose scope; dispose the cache when generation ends.
/// Storage is a preallocated buffer per layer that grows by doubling, so appending one position copies only
/// that position (no O(S) concatenation per step). Meant for inference (under no_grad): appended tensors that
/// require grad fall back to concatenation so autograd stays correct.
/// </summary>
public sealed class KvCache(int layers) : IDisposable
{
    private readonly Tensor?[] _keys = new Tensor?[layers];     // (B, H, capacity, D) buffers
    private readonly Tensor?[] _values = new Tensor?[layers];
    private readonly long[] _lengths = new long[layers];         // positions filled per layer

    /// <summary>Number of positions cached (the same for every layer once a forward pass completes).</summary>
    public long Length => _lengths[^1];

    /// <summary>Number of rows (B) cached, 0 when empty.</summary>
    public long Rows => _keys[0]?.shape[0] ?? 0;

    /// <summary>Appends (B, H_kv, T, D) keys/values for <paramref name="layer"/>; returns the full (B, H_kv, S, D) pair.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        long t = keys.shape[2], used = _lengths[layer];
        if (keys.requires_grad || values.requires_grad)
        {
            // Autograd path: keep the graph, pay for concatenation.
            var kc = _keys[layer] is { } ok ? cat([ok.narrow(2, 0, used), keys], 2) : keys.alias();
            var vc = _values[layer] is { } ov ? cat([ov.narrow(2, 0, used), values], 2) : values.alias();
            _keys[layer]?.Dispose(); _values[layer]?.Dispose();
            _keys[layer] = kc.DetachFromDisposeScope();
            _values[layer] = vc.DetachFromDisposeScope();
            _lengths[layer] = used + t;
            return (kc.alias(), vc.alias());
        }

        var buffer = _keys[layer];
        if (buffer is null || buffer.shape[2] < used + t)
        {
            long capacity = Math.Max(64, buffer is null ? t : buffer.shape[2]);
            while (capacity < used + t) capacity *= 2;
            Grow(layer, keys, capacity);
        }
        _keys[layer]!.narrow(2, used, t).copy_(keys);
        _values[layer]!.narrow(2, used, t).copy_(values);
        _lengths[layer] = used + t;
        return (_keys[layer]!.narrow(2, 0, used + t), _values[layer]!.narrow(2, 0, used + t));
    }

    private void Grow(int layer, Tensor like, long capacity)
    {
        long[] shape = [like.shape[0], like.shape[1], capacity, like.shape[3]];
        using var noGrad = no_grad();
        var k = empty(shape, like.dtype, like.device).DetachFromDisposeScope();
        var v = empty(shape, like.dtype, like.device).DetachFromDisposeScope();
        long used = _lengths[layer];
        if (_keys[layer] is { } oldK && used > 0)
        {
            k.narrow(2, 0, used).copy_(oldK.narrow(2, 0, used));
            v.narrow(2, 0, used).copy_(_values[layer]!.narrow(2, 0, used));
        }
        _keys[layer]?.Dispose(); _values[layer]?.Dispose();
        _keys[layer] = k; _values[layer] = v;
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
        Array.Clear(_keys); Array.Clear(_values); Array.Clear(_lengths);
    }
}
