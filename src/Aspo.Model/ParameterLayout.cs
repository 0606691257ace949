namespace Aspo.Model;

/// <summary>
/// Every parameter of a decoder in one contiguous slab (llm.c style), with named views in Hugging Face order.
/// Gradients and AdamW moments use slabs of the same layout.
/// </summary>
public sealed class ParameterLayout
{
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);
    private readonly List<ParameterTensor> _tensors = [];

    public ParameterLayout(ModelConfig c)
    {
        Config = c;
        long C = c.HiddenSize, HD = (long)c.NumHeads * c.HeadDim, KVD = (long)c.NumKvHeads * c.HeadDim, F = c.IntermediateSize, V = c.VocabSize;
        Embedding = Add("model.embed_tokens.weight", V, C);
        var layers = new LayerOffsets[c.NumLayers];
        for (var i = 0; i < c.NumLayers; i++)
        {
            var p = $"model.layers.{i}.";
            var inputNorm = Add(p + "input_layernorm.weight", C);
            var wq = Add(p + "self_attn.q_proj.weight", HD, C);
            var bq = c.HasQkvBias ? Add(p + "self_attn.q_proj.bias", HD) : -1;
            var wk = Add(p + "self_attn.k_proj.weight", KVD, C);
            var bk = c.HasQkvBias ? Add(p + "self_attn.k_proj.bias", KVD) : -1;
            var wv = Add(p + "self_attn.v_proj.weight", KVD, C);
            var bv = c.HasQkvBias ? Add(p + "self_attn.v_proj.bias", KVD) : -1;
            var wo = Add(p + "self_attn.o_proj.weight", C, HD);
            var bo = c.HasOutputBias ? Add(p + "self_attn.o_proj.bias", C) : -1;
            var qn = c.HasQkNorm ? Add(p + "self_attn.q_norm.weight", c.HeadDim) : -1;
            var kn = c.HasQkNorm ? Add(p + "self_attn.k_norm.weight", c.HeadDim) : -1;
            var postNorm = Add(p + "post_attention_layernorm.weight", C);
            var gate = Add(p + "mlp.gate_proj.weight", F, C);
            var up = Add(p + "mlp.up_proj.weight", F, C);
            var down = Add(p + "mlp.down_proj.weight", C, F);
            layers[i] = new LayerOffsets(inputNorm, wq, bq, wk, bk, wv, bv, wo, bo, qn, kn, postNorm, gate, up, down);
        }
        Layers = layers;
        FinalNorm = Add("model.norm.weight", C);
        LmHead = c.TieWordEmbeddings ? Embedding : Add("lm_head.weight", V, C);
        if (TotalCount > Array.MaxLength)
            throw new ModelFormatException($"the model has {TotalCount:N0} parameters; one fp32 slab holds at most {Array.MaxLength:N0}");
    }

    public ModelConfig Config { get; }
    public IReadOnlyList<ParameterTensor> Tensors => _tensors;
    public IReadOnlyList<LayerOffsets> Layers { get; }
    public long Embedding { get; }
    public long FinalNorm { get; }
    /// <summary>Offset of the output projection [V, C]: the embedding when tied.</summary>
    public long LmHead { get; }
    public long TotalCount { get; private set; }

    public ParameterTensor this[string name] => _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"no parameter named {name}");
    public bool Contains(string name) => _byName.ContainsKey(name);

    private long Add(string name, params long[] shape)
    {
        var t = new ParameterTensor(name, shape, TotalCount);
        _tensors.Add(t);
        _byName[name] = t;
        TotalCount += t.Count;
        return t.Offset;
    }
}
