namespace Aspo.Model;

/// <summary>One layer's saved activations (shapes for N tokens; P holds Σ_b H·T_b² attention probabilities).</summary>
internal sealed class LayerActivations
{
    public LayerActivations(ModelConfig c, int n, long probs)
    {
        int hd = c.NumHeads * c.HeadDim, kvd = c.NumKvHeads * c.HeadDim;
        X1 = new float[n * c.HiddenSize]; Rstd1 = new float[n];
        Q = new float[n * hd]; K = new float[n * kvd]; V = new float[n * kvd];
        if (c.HasQkNorm)
        {
            QLin = new float[n * hd]; KLin = new float[n * kvd]; RstdQ = new float[n * c.NumHeads]; RstdK = new float[n * c.NumKvHeads];
        }
        Probs = new float[checked((int)probs)]; Attn = new float[n * hd];
        HMid = new float[n * c.HiddenSize]; X2 = new float[n * c.HiddenSize]; Rstd2 = new float[n];
        Gate = new float[n * c.IntermediateSize]; Up = new float[n * c.IntermediateSize]; Act = new float[n * c.IntermediateSize];
    }

    public float[] X1, Rstd1, Q, K, V, Probs, Attn, HMid, X2, Rstd2, Gate, Up, Act;
    public float[] QLin = [], KLin = [], RstdQ = [], RstdK = [];
}
