namespace Aspo.Model;

/// <summary>AdamW settings (defaults: verl's actor optimizer).</summary>
public sealed record AdamWOptions
{
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.01;

    public void Validate()
    {
        if (Beta1 is < 0 or >= 1) throw new ArgumentException($"beta1 must be in [0, 1), got {Beta1}");
        if (Beta2 is < 0 or >= 1) throw new ArgumentException($"beta2 must be in [0, 1), got {Beta2}");
        if (!(Epsilon > 0)) throw new ArgumentException($"epsilon must be positive, got {Epsilon}");
        if (WeightDecay < 0) throw new ArgumentException($"weight decay must be ≥ 0, got {WeightDecay}");
    }
}
