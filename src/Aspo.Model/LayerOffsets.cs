namespace Aspo.Model;

/// <summary>Slab offsets of one layer's tensors (-1 where the family has no such tensor).</summary>
public readonly record struct LayerOffsets(
    long InputNorm, long Wq, long Bq, long Wk, long Bk, long Wv, long Bv, long Wo, long Bo, long QNorm, long KNorm,
    long PostNorm, long WGate, long WUp, long WDown);
