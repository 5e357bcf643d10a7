// Full definition of a LLaMA-family language model, all of it in this single file (nanoGPT-like).
// RMSNorm, rotary position embeddings (interleaved pairs as in Meta/llama2.c, or rotate-halves as in Hugging Face),
// SwiGLU feed-forward, grouped-query attention (n_kv_heads <= n_heads), tied or separate classifier, no biases.
// References: karpathy/llama2.c model.py + run.c; Touvron et al. 2023 "Llama 2".
// Parameter names follow Meta's checkpoint (tok_embeddings, layers.N.attention.wq, ..., norm, output) so the
// llama2.c loader and the Hugging Face exporter map one-to-one (see Models/Loaders/).
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BonStudio.Training.Models;

/// <summary>How rotary embeddings pair up the elements of each head.</summary>
public enum RopeLayout
{
    /// <summary>Adjacent pairs (0,1), (2,3), ...: Meta's original code and llama2.c.</summary>
    Interleaved,
    /// <summary>Element i pairs with i + head_size/2 ("rotate_half"): Hugging Face / GPT-NeoX checkpoints.</summary>
    Halves,
}

/// <summary>Shape and numerics of a LLaMA model. Defaults are llama2.c's stories15M.</summary>
public sealed record LlamaConfig
{
    /// <summary>Model width (embedding size).</summary>
    public int Dim { get; init; } = 288;
    /// <summary>Feed-forward inner width (SwiGLU).</summary>
    public int HiddenDim { get; init; } = 768;
    /// <summary>Number of transformer blocks.</summary>
    public int Layers { get; init; } = 6;
    /// <summary>Number of query heads; Dim must be divisible by it.</summary>
    public int Heads { get; init; } = 6;
    /// <summary>Number of key/value heads (grouped-query attention); must divide Heads.</summary>
    public int KvHeads { get; init; } = 6;
    /// <summary>Vocabulary size.</summary>
    public int VocabSize { get; init; } = 32000;
    /// <summary>Maximum positions (prompt + generated).</summary>
    public int ContextLength { get; init; } = 256;
    /// <summary>Epsilon added to the mean square in RMSNorm (llama2.c: 1e-5).</summary>
    public double NormEps { get; init; } = 1e-5;
    /// <summary>RoPE base: frequency of pair d is theta^(-d/head_size).</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>Which elements RoPE rotates together.</summary>
    public RopeLayout RopeLayout { get; init; } = RopeLayout.Interleaved;
    /// <summary>True when the classifier reuses the token-embedding matrix.</summary>
    public bool SharedClassifier { get; init; } = true;

    public int HeadSize => Dim / Heads;
    public int KvDim => HeadSize * KvHeads;

    /// <summary>Refuses inconsistent shapes with a message naming the field.</summary>
    public void Validate()
    {
        void Positive(int v, string name) { if (v <= 0) throw new ArgumentException($"LlamaConfig.{name} must be positive (got {v})."); }
        Positive(Dim, nameof(Dim)); Positive(HiddenDim, nameof(HiddenDim)); Positive(Layers, nameof(Layers));
        Positive(Heads, nameof(Heads)); Positive(KvHeads, nameof(KvHeads)); Positive(VocabSize, nameof(VocabSize));
        Positive(ContextLength, nameof(ContextLength));
        if (Dim % Heads != 0) throw new ArgumentException($"LlamaConfig.Dim ({Dim}) must be divisible by Heads ({Heads}).");
        if (Heads % KvHeads != 0) throw new ArgumentException($"LlamaConfig.Heads ({Heads}) must be divisible by KvHeads ({KvHeads}).");
        if (HeadSize % 2 != 0) throw new ArgumentException($"LlamaConfig head size Dim/Heads ({HeadSize}) must be even for RoPE.");
    }

    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this);
    public static LlamaConfig FromJson(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<LlamaConfig>(json) ?? throw new ArgumentException("LlamaConfig JSON is null.");

    /// <summary>Parameter count (embedding counted once when shared).</summary>
    public long ParameterCount =>
        (long)VocabSize * Dim * (SharedClassifier ? 1 : 2) + Dim +
        (long)Layers * (2L * Dim + 2L * Dim * Dim + 2L * Dim * KvDim + 3L * Dim * HiddenDim);
}

/// <summary>Root-mean-square layer norm: x / sqrt(mean(x²) + eps) * gain (no mean subtraction, no bias).</summary>
public sealed class RMSNorm : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RMSNorm(int dim, double eps) : base(nameof(RMSNorm))
    {
        weight = Parameter(ones(dim));
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var rms = rsqrt(x.pow(2).mean([-1], keepdim: true) + _eps);
        return (x * rms * weight).MoveToOuterDisposeScope();
    }
}

/// <summary>Rotary position embedding applied to (B, H, T, D) queries or keys.</summary>
public static class Rope
{
    /// <summary>cos and sin of position × frequency, each (B, 1, T, D/2). Angles in float32 like run.c.</summary>
    public static (Tensor Cos, Tensor Sin) Angles(Tensor positions, int headSize, double theta)
    {
        using var scope = NewDisposeScope();
        var angles = positions.to(float32).unsqueeze(-1) * InverseFrequencies(headSize, theta, positions.device);  // (B, T, D/2)
        angles = angles.unsqueeze(1);                                                  // (B, 1, T, D/2)
        return (angles.cos().MoveToOuterDisposeScope(), angles.sin().MoveToOuterDisposeScope());
    }

    /// <summary>cos and sin tables for positions 0..contextLength-1, each (contextLength, D/2): looked up instead of recomputed per step.</summary>
    public static (Tensor Cos, Tensor Sin) Table(int contextLength, int headSize, double theta, Device device)
    {
        using var scope = NewDisposeScope();
        var angles = arange(contextLength, dtype: float32, device: device).unsqueeze(-1) * InverseFrequencies(headSize, theta, device);
        return (angles.cos().MoveToOuterDisposeScope(), angles.sin().MoveToOuterDisposeScope());
    }

    // frequency of pair j (first element index d = 2j) is 1 / theta^(d/headSize), rounded to float32 as run.c does
    private static Tensor InverseFrequencies(int headSize, double theta, Device device) =>
        tensor(Enumerable.Range(0, headSize / 2).Select(j => (float)(1.0 / Math.Pow(theta, 2.0 * j / headSize))).ToArray(), device: device);

    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin, RopeLayout layout)
    {
        using var scope = NewDisposeScope();
        var shape = x.shape;                                                           // (B, H, T, D)
        Tensor result;
        if (layout == RopeLayout.Interleaved)
        {
            var pairs = x.view(shape[0], shape[1], shape[2], shape[3] / 2, 2);        // (B, H, T, D/2, 2)
            var a = pairs.select(-1, 0); var b = pairs.select(-1, 1);
            result = stack([a * cos - b * sin, a * sin + b * cos], -1).view(shape);
        }
        else
        {
            var half = shape[3] / 2;
            var a = x.narrow(-1, 0, half); var b = x.narrow(-1, half, half);
            result = cat([a * cos - b * sin, a * sin + b * cos], -1);
        }
        return result.MoveToOuterDisposeScope();
    }
}

/// <summary>Grouped-query causal self-attention with RoPE and an optional KV cache.</summary>
public sealed class LlamaAttention : Module<Tensor, Tensor>
{
    private readonly Linear wq, wk, wv, wo;
    private readonly LlamaConfig _config;

    public LlamaAttention(LlamaConfig config) : base(nameof(LlamaAttention))
    {
        _config = config;
        wq = Linear(config.Dim, config.Dim, hasBias: false);
        wk = Linear(config.Dim, config.KvDim, hasBias: false);
        wv = Linear(config.Dim, config.KvDim, hasBias: false);
        wo = Linear(config.Dim, config.Dim, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(x, cos, sin, allowed, cache, layer)");

    /// <summary>
    /// x: (B, T, C). allowed: (B, 1, T, S) bool, true where query t may look at key slot s; null = plain causal
    /// attention over the T new positions (nothing cached, nothing padded) or a single new position seeing everything.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? allowed, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        long B = x.shape[0], T = x.shape[1];
        int H = _config.Heads, Hkv = _config.KvHeads, D = _config.HeadSize;
        var q = wq.forward(x).view(B, T, H, D).transpose(1, 2);                       // (B, H, T, D)
        var k = wk.forward(x).view(B, T, Hkv, D).transpose(1, 2);                     // (B, Hkv, T, D)
        var v = wv.forward(x).view(B, T, Hkv, D).transpose(1, 2);                     // (B, Hkv, T, D)
        q = Rope.Apply(q, cos, sin, _config.RopeLayout);
        k = Rope.Apply(k, cos, sin, _config.RopeLayout);
        if (cache is not null) (k, v) = cache.Append(layer, k, v);                   // (B, Hkv, S, D)
        if (Hkv != H)
        {
            // query head h reads kv head h / (H / Hkv): repeat each kv head consecutively
            k = k.repeat_interleave(H / Hkv, dim: 1);                                 // (B, H, S, D)
            v = v.repeat_interleave(H / Hkv, dim: 1);
        }
        // softmax(q k^T / sqrt(D)) v over the allowed keys, in one fused call
        var y = allowed is null
            ? functional.scaled_dot_product_attention(q, k, v, is_casual: T > 1)
            : functional.scaled_dot_product_attention(q, k, v, attn_mask: allowed);     // (B, H, T, D)
        y = y.transpose(1, 2).contiguous().view(B, T, H * D);                         // (B, T, C)
        return wo.forward(y).MoveToOuterDisposeScope();
    }
}

/// <summary>SwiGLU feed-forward: w2(silu(w1 x) * w3 x).</summary>
public sealed class LlamaFeedForward : Module<Tensor, Tensor>
{
    private readonly Linear w1, w2, w3;

    public LlamaFeedForward(LlamaConfig config) : base(nameof(LlamaFeedForward))
    {
        w1 = Linear(config.Dim, config.HiddenDim, hasBias: false);
        w2 = Linear(config.HiddenDim, config.Dim, hasBias: false);
        w3 = Linear(config.Dim, config.HiddenDim, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return w2.forward(functional.silu(w1.forward(x)) * w3.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>Pre-norm transformer block: x += attention(norm(x)); x += ffn(norm(x)).</summary>
public sealed class LlamaBlock : Module<Tensor, Tensor>
{
    private readonly RMSNorm attention_norm, ffn_norm;
    private readonly LlamaAttention attention;
    private readonly LlamaFeedForward feed_forward;

    public LlamaBlock(LlamaConfig config) : base(nameof(LlamaBlock))
    {
        attention_norm = new RMSNorm(config.Dim, config.NormEps);
        attention = new LlamaAttention(config);
        ffn_norm = new RMSNorm(config.Dim, config.NormEps);
        feed_forward = new LlamaFeedForward(config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(x, cos, sin, allowed, cache, layer)");

    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? allowed, KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        x = x + attention.Forward(attention_norm.forward(x), cos, sin, allowed, cache, layer);
        x = x + feed_forward.forward(ffn_norm.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>The LLaMA decoder. Implements <see cref="ICausalLM"/> so the batched KV-cached sampler drives it.</summary>
public sealed class Llama : Module<Tensor, Tensor>, ICausalLM
{
    /// <summary>Architecture name stored in checkpoints.</summary>
    public const string Architecture = "llama";

    private readonly Embedding tok_embeddings;
    private readonly ModuleList<LlamaBlock> layers;
    private readonly RMSNorm norm;
    private readonly Linear? output;

    public LlamaConfig Config { get; }
    public int VocabSize => Config.VocabSize;
    public int ContextLength => Config.ContextLength;
    public Device Device => tok_embeddings.weight!.device;

    public Llama(LlamaConfig config, Device? device = null) : base(nameof(Llama))
    {
        config.Validate();
        Config = config;
        tok_embeddings = Embedding(config.VocabSize, config.Dim);
        layers = new ModuleList<LlamaBlock>(Enumerable.Range(0, config.Layers).Select(_ => new LlamaBlock(config)).ToArray());
        norm = new RMSNorm(config.Dim, config.NormEps);
        if (!config.SharedClassifier) output = Linear(config.Dim, config.VocabSize, hasBias: false);
        RegisterComponents();
        InitWeights();
        if (device is not null) this.to(device);
    }

    /// <summary>llama2.c's init: normal(0, 0.02) everywhere, output projections scaled by 1/sqrt(2·layers).</summary>
    private void InitWeights()
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("norm.weight")) continue;                                // RMSNorm gains stay 1
            var std = name.EndsWith("wo.weight") || name.EndsWith("w2.weight") ? 0.02 / Math.Sqrt(2 * Config.Layers) : 0.02;
            init.normal_(p, 0, std);
        }
    }

    public KvCache NewCache() => new(Config.Layers);

    /// <summary>Training-style call: tokens (B, T) at positions 0..T-1, plain causal attention. Returns (B, T, V) logits.</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var positions = arange(tokens.shape[1], dtype: ScalarType.Int64, device: tokens.device).unsqueeze(0).expand(tokens.shape[0], -1);
        return Forward(tokens, positions).MoveToOuterDisposeScope();
    }

    // RoPE cos/sin for every position, built on first use per device (not parameters: they stay out of the state dict)
    private Tensor? _ropeCos, _ropeSin;

    /// <summary>
    /// allowed[b, t, s]: causal (key slot s &lt;= query slot past + t) and a real key. Each query may always see itself,
    /// so a left-padding query never has an all-masked row (NaNs there would leak through 0 * NaN).
    /// Null when plain causal attention suffices: nothing padded and either nothing cached or one new position.
    /// </summary>
    private static Tensor? AttentionMask(Tensor? keyMask, long past, long T, long S, long B, Device device)
    {
        if (keyMask is null && (past == 0 || T == 1)) return null;
        var querySlot = arange(past, S, device: device).view(T, 1);                   // (T, 1)
        var keySlot = arange(0, S, device: device).view(1, S);                        // (1, S)
        var allowed = keySlot.le(querySlot).unsqueeze(0).expand(B, T, S);              // (B, T, S)
        if (keyMask is not null)
            allowed = allowed.logical_and(keyMask.to(ScalarType.Bool).unsqueeze(1)).logical_or(keySlot.eq(querySlot).unsqueeze(0));
        return allowed.unsqueeze(1);                                                   // (B, 1, T, S)
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _ropeCos?.Dispose(); _ropeSin?.Dispose(); _ropeCos = _ropeSin = null; }
        base.Dispose(disposing);
    }

    public Tensor Forward(Tensor tokens, Tensor positions, Tensor? keyMask = null, KvCache? cache = null) =>
        Run(tokens, positions, keyMask, cache, hiddenOnly: false);

    private Tensor Run(Tensor tokens, Tensor positions, Tensor? keyMask, KvCache? cache, bool hiddenOnly)
    {
        using var scope = NewDisposeScope();
        long B = tokens.shape[0], T = tokens.shape[1];
        long past = cache?.Length ?? 0, S = past + T;
        if (S > Config.ContextLength)
            throw new ArgumentException($"Llama: {S} positions exceed the context length {Config.ContextLength}.");

        var allowed = AttentionMask(keyMask, past, T, S, B, tokens.device);          // (B, 1, T, S) or null
        if (_ropeCos is null || _ropeCos.device_type != tokens.device_type || _ropeCos.device_index != tokens.device_index)
        {
            _ropeCos?.Dispose(); _ropeSin?.Dispose();
            var (c, s) = Rope.Table(Config.ContextLength, Config.HeadSize, Config.RopeTheta, tokens.device);
            _ropeCos = c.DetachFromDisposeScope(); _ropeSin = s.DetachFromDisposeScope();
        }
        var flat = positions.reshape(-1);
        var cos = _ropeCos.index_select(0, flat).view(B, 1, T, -1);                   // (B, 1, T, D/2)
        var sin = _ropeSin!.index_select(0, flat).view(B, 1, T, -1);
        var x = tok_embeddings.forward(tokens);                                        // (B, T, C)
        for (int i = 0; i < Config.Layers; i++) x = layers[i].Forward(x, cos, sin, allowed, cache, i);
        x = norm.forward(x);
        if (hiddenOnly) return x.MoveToOuterDisposeScope();                            // (B, T, C)
        var logits = output is null ? functional.linear(x, tok_embeddings.weight!) : output.forward(x);  // (B, T, V)
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Final hidden states (after the last RMSNorm) of tokens at positions 0..T-1, causal attention: (B, T, C).
    /// For heads other than the language-model head (e.g. the reward model's scalar head).</summary>
    public Tensor HiddenStates(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var positions = arange(tokens.shape[1], dtype: ScalarType.Int64, device: tokens.device).unsqueeze(0).expand(tokens.shape[0], -1);
        return Run(tokens, positions, null, null, hiddenOnly: true).MoveToOuterDisposeScope();
    }
}
