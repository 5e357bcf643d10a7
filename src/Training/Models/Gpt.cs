// Full definition of the built-in GPT language model, all of it in this single file (after nanoGPT's model.py):
// token + learned position embeddings, pre-norm transformer blocks with causal self-attention and an MLP,
// a final LayerNorm and a head tied to the token embedding. Implements ICausalLM (KV cache, left padding).
using System.ComponentModel;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BonStudio.Training.Models;

/// <summary>Shape of a <see cref="Gpt"/>. Saved as JSON in every checkpoint.</summary>
public sealed record GptConfig
{
    /// <summary>Number of token ids (99 for the char:ascii tokenizer).</summary>
    [Description("Number of token ids the model knows (the tokenizer's vocabulary size).")]
    public int VocabSize { get; init; } = 99;
    /// <summary>Maximum positions (prompt + generated); the position table has this many rows.</summary>
    [Description("Maximum sequence length (prompt + generated tokens).")]
    public int ContextLength { get; init; } = 256;
    /// <summary>Number of transformer blocks.</summary>
    [Description("Number of transformer blocks.")]
    public int Layers { get; init; } = 4;
    /// <summary>Attention heads per block; must divide <see cref="EmbeddingDim"/>.</summary>
    [Description("Attention heads per block (must divide the embedding size).")]
    public int Heads { get; init; } = 4;
    /// <summary>Width of the residual stream.</summary>
    [Description("Width of the residual stream.")]
    public int EmbeddingDim { get; init; } = 128;
    /// <summary>Dropout on embeddings, attention output and MLP output while training (0 = off, nanoGPT's default for small data too).</summary>
    [Description("Dropout probability while training (0 = none).")]
    public double Dropout { get; init; } = 0.0;
    /// <summary>Biases in Linear layers and LayerNorms (GPT-2 has them).</summary>
    [Description("Use biases in linear layers and layer norms, like GPT-2.")]
    public bool Bias { get; init; } = true;
    /// <summary>GELU form in the MLP: "gelu" (exact, erf; nanoGPT's) or "gelu_tanh" (the tanh approximation GPT-2's
    /// weights were trained with, Hugging Face's "gelu_new"); loading real GPT-2 weights exactly needs the latter.</summary>
    [Description("MLP activation: gelu (exact) or gelu_tanh (the tanh approximation of GPT-2).")]
    public string Activation { get; init; } = "gelu";

    /// <summary>Throws with the offending field's name when the shape is impossible.</summary>
    public void Validate()
    {
        if (VocabSize < 1) throw new ArgumentException($"GptConfig.VocabSize must be ≥ 1 (got {VocabSize}).");
        if (ContextLength < 1) throw new ArgumentException($"GptConfig.ContextLength must be ≥ 1 (got {ContextLength}).");
        if (Layers < 1) throw new ArgumentException($"GptConfig.Layers must be ≥ 1 (got {Layers}).");
        if (Heads < 1) throw new ArgumentException($"GptConfig.Heads must be ≥ 1 (got {Heads}).");
        if (EmbeddingDim < 1 || EmbeddingDim % Heads != 0)
            throw new ArgumentException($"GptConfig.EmbeddingDim ({EmbeddingDim}) must be a positive multiple of Heads ({Heads}).");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"GptConfig.Dropout must be in [0, 1) (got {Dropout}).");
        if (Activation is not ("gelu" or "gelu_tanh")) throw new ArgumentException($"GptConfig.Activation must be gelu or gelu_tanh (got '{Activation}').");
    }

    public string ToJson() => JsonSerializer.Serialize(this);
    public static GptConfig FromJson(string json) =>
        JsonSerializer.Deserialize<GptConfig>(json) ?? throw new ArgumentException("GptConfig JSON is empty.");
}

/// <summary>Causal self-attention over the cached and new positions; honours left padding through a key mask.</summary>
internal sealed class CausalSelfAttention : Module<Tensor, Tensor?, KvCache?, Tensor>
{
    private readonly Linear c_attn;   // q, k, v projections in one matrix (GPT-2 naming)
    private readonly Linear c_proj;
    private readonly Dropout resid_dropout;
    private readonly int _heads, _layer;
    private readonly double _dropout;

    public CausalSelfAttention(GptConfig config, int layer) : base(nameof(CausalSelfAttention))
    {
        c_attn = Linear(config.EmbeddingDim, 3 * config.EmbeddingDim, hasBias: config.Bias);
        c_proj = Linear(config.EmbeddingDim, config.EmbeddingDim, hasBias: config.Bias);
        resid_dropout = nn.Dropout(config.Dropout);
        _heads = config.Heads; _layer = layer; _dropout = config.Dropout;
        RegisterComponents();
    }

    /// <param name="x">(B, T, C)</param>
    /// <param name="mask">(B, 1, T, S) bool, true = may attend; null = plain causal over T (no cache, no padding).</param>
    public override Tensor forward(Tensor x, Tensor? mask, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        long B = x.shape[0], T = x.shape[1], C = x.shape[2], D = C / _heads;
        var qkv = c_attn.call(x).split(C, dim: 2);
        var q = qkv[0].view(B, T, _heads, D).transpose(1, 2); // (B, H, T, D)
        var k = qkv[1].view(B, T, _heads, D).transpose(1, 2); // (B, H, T, D)
        var v = qkv[2].view(B, T, _heads, D).transpose(1, 2); // (B, H, T, D)
        if (cache is not null) (k, v) = cache.Append(_layer, k, v);  // (B, H, S, D)

        double p = training ? _dropout : 0.0;
        var y = mask is null
            ? nn.functional.scaled_dot_product_attention(q, k, v, is_casual: T > 1, p: p)
            : nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask, p: p); // (B, H, T, D)
        y = y.transpose(1, 2).contiguous().view(B, T, C); // (B, T, C)
        return resid_dropout.call(c_proj.call(y)).MoveToOuterDisposeScope();
    }
}

internal sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Linear c_fc, c_proj;
    private readonly GELU gelu;
    private readonly Dropout dropout;

    public Mlp(GptConfig config) : base(nameof(Mlp))
    {
        gelu = GELU(config.Activation == "gelu_tanh" ? TorchSharp.Modules.GELU.Approximate.tanh : TorchSharp.Modules.GELU.Approximate.none, inplace: false);
        c_fc = Linear(config.EmbeddingDim, 4 * config.EmbeddingDim, hasBias: config.Bias);
        c_proj = Linear(4 * config.EmbeddingDim, config.EmbeddingDim, hasBias: config.Bias);
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => dropout.call(c_proj.call(gelu.call(c_fc.call(x))));
}

internal sealed class Block : Module<Tensor, Tensor?, KvCache?, Tensor>
{
    private readonly LayerNorm ln_1, ln_2;
    private readonly CausalSelfAttention attn;
    private readonly Mlp mlp;

    public Block(GptConfig config, int layer) : base(nameof(Block))
    {
        ln_1 = LayerNorm(config.EmbeddingDim, bias: config.Bias);
        attn = new CausalSelfAttention(config, layer);
        ln_2 = LayerNorm(config.EmbeddingDim, bias: config.Bias);
        mlp = new Mlp(config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor? mask, KvCache? cache)
    {
        x = x + attn.call(ln_1.call(x), mask, cache);  // pre-norm residual
        return x + mlp.call(ln_2.call(x));
    }
}

/// <summary>The built-in decoder-only transformer. Parameter names follow nanoGPT/GPT-2 (wte, wpe, h.N.attn.c_attn, ln_f).</summary>
public sealed class Gpt : Module<Tensor, Tensor>, ICausalLM
{
    public const string Architecture = "gpt";

    private readonly Embedding wte, wpe;
    private readonly Dropout drop;
    private readonly ModuleList<Block> h;
    private readonly LayerNorm ln_f;

    public GptConfig Config { get; }
    public int VocabSize => Config.VocabSize;
    public int ContextLength => Config.ContextLength;
    public Device Device => wte.weight!.device;

    /// <summary>Builds a model with GPT-2 style initialisation (uses the global libtorch RNG: seed it first).</summary>
    public Gpt(GptConfig config) : base(nameof(Gpt))
    {
        config.Validate();
        Config = config;
        wte = Embedding(config.VocabSize, config.EmbeddingDim);
        wpe = Embedding(config.ContextLength, config.EmbeddingDim);
        drop = nn.Dropout(config.Dropout);
        h = new ModuleList<Block>(Enumerable.Range(0, config.Layers).Select(i => new Block(config, i)).ToArray());
        ln_f = LayerNorm(config.EmbeddingDim, bias: config.Bias);
        RegisterComponents();
        InitWeights();
    }

    private void InitWeights()
    {
        using var noGrad = no_grad();
        double residualStd = 0.02 / Math.Sqrt(2.0 * Config.Layers); // scaled residual projections (GPT-2 paper)
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("c_proj.weight", StringComparison.Ordinal)) init.normal_(p, 0, residualStd);
            else if (name.EndsWith(".weight", StringComparison.Ordinal) && p.dim() == 2) init.normal_(p, 0, 0.02);
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) init.zeros_(p);
            // LayerNorm weights keep their default of 1.
        }
    }

    /// <summary>Number of parameters (the tied head is counted once).</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Training-style call: tokens (B, T) at positions 0..T-1, full causal attention. Returns (B, T, V) logits.</summary>
    public override Tensor forward(Tensor tokens)
    {
        var positions = arange(tokens.shape[1], dtype: ScalarType.Int64, device: tokens.device).unsqueeze(0).expand(tokens.shape[0], -1);
        return Forward(tokens, positions);
    }

    /// <inheritdoc/>
    public Tensor Forward(Tensor tokens, Tensor positions, Tensor? keyMask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        long B = tokens.shape[0], T = tokens.shape[1];
        long past = cache?.Length ?? 0, S = past + T;
        if (S > ContextLength)
            throw new ArgumentException($"sequence of {S} positions exceeds the model's context length {ContextLength}.");
        if (keyMask is not null && (keyMask.shape[0] != B || keyMask.shape[1] != S))
            throw new ArgumentException($"keyMask has shape ({string.Join(", ", keyMask.shape)}), expected ({B}, {S}).");

        var x = Hidden(tokens, positions, keyMask, cache);            // (B, T, C)
        var logits = x.matmul(wte.weight!.t());                       // (B, T, V), head tied to the token embedding
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Final hidden states (after ln_f) of tokens at positions 0..T-1, full causal attention: (B, T, C).
    /// For heads other than the language-model head (e.g. the reward model's scalar head).</summary>
    public Tensor HiddenStates(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var positions = arange(tokens.shape[1], dtype: ScalarType.Int64, device: tokens.device).unsqueeze(0).expand(tokens.shape[0], -1);
        return Hidden(tokens, positions, null, null).MoveToOuterDisposeScope();
    }

    private Tensor Hidden(Tensor tokens, Tensor positions, Tensor? keyMask, KvCache? cache)
    {
        long T = tokens.shape[1], past = cache?.Length ?? 0, S = past + T;
        var mask = AttentionMask(keyMask, past, T, S, tokens.device); // (B, 1, T, S) or null
        var x = drop.call(wte.call(tokens) + wpe.call(positions));    // (B, T, C)
        foreach (var block in h) x = block.call(x, mask, cache);
        return ln_f.call(x);                                          // (B, T, C)
    }

    /// <summary>
    /// Who may attend to whom: causal over absolute slots (query i sits at slot past+i), real keys only.
    /// A query may always see itself, so padded query rows never have an empty softmax (their output is unused).
    /// Returns null when plain causal attention over T new positions suffices (no cache and no padding, or one
    /// new position with nothing padded).
    /// </summary>
    private static Tensor? AttentionMask(Tensor? keyMask, long past, long T, long S, Device device)
    {
        if (keyMask is null && (past == 0 || T == 1)) return null;
        var query = arange(past, S, dtype: ScalarType.Int64, device: device).unsqueeze(1); // (T, 1) absolute slots
        var key = arange(S, dtype: ScalarType.Int64, device: device).unsqueeze(0);          // (1, S)
        var allowed = key.le(query);                                                         // (T, S) causal
        if (keyMask is null) return allowed.unsqueeze(0).unsqueeze(0);                       // (1, 1, T, S)
        var self = key.eq(query);                                                            // (T, S)
        return allowed.unsqueeze(0).logical_and(keyMask.unsqueeze(1).logical_or(self.unsqueeze(0))).unsqueeze(1); // (B, 1, T, S)
    }

    public KvCache NewCache() => new(Config.Layers);
}
