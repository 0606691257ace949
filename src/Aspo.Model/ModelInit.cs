namespace Aspo.Model;

/// <summary>
/// A fresh model's parameters as Hugging Face initialises Qwen2/Llama (<c>_init_weights</c>): every weight matrix and
/// the embedding from N(0, initializer_range²) (0.02 by default), RMSNorm weights 1, biases 0. Seeded (System.Random's
/// seeded sequence is fixed across .NET versions), Box–Muller for the normals.
/// </summary>
public static class ModelInit
{
    public static float[] Random(ModelConfig config, int seed, double std = 0.02)
    {
        var layout = new ParameterLayout(config);
        var p = new float[layout.TotalCount];
        var rng = new System.Random(seed);
        foreach (var t in layout.Tensors)
        {
            var span = p.AsSpan((int)t.Offset, (int)t.Count);
            if (t.Name.EndsWith("norm.weight", StringComparison.Ordinal))
                span.Fill(1f);
            else if (t.Name.EndsWith(".bias", StringComparison.Ordinal))
                span.Clear();
            else
            {
                for (var i = 0; i < span.Length; i++)
                {
                    var u1 = 1.0 - rng.NextDouble();
                    var u2 = rng.NextDouble();
                    span[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
                }
            }
        }
        return p;
    }
}
