namespace Aspo.Algorithms;

/// <summary>
/// Per-token estimators of KL(π_θ ‖ π_ref) from d = ℓ − ℓ_ref (verl <c>kl_penalty</c>), each with its derivative
/// with respect to ℓ. The "+" variants keep the estimator's value but take k2's gradient d (straight-through).
/// </summary>
public static class KlEstimators
{
    public static IReadOnlyList<string> Names { get; } = ["k1", "abs", "k2", "k3", "k1+", "abs+", "k2+", "k3+"];

    /// <summary>verl's names for the same estimators.</summary>
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["kl"] = "k1", ["mse"] = "k2", ["low_var_kl"] = "k3", ["kl+"] = "k1+", ["mse+"] = "k2+", ["low_var_kl+"] = "k3+",
    };

    /// <summary>The canonical name of <paramref name="name"/> (accepting verl's aliases).</summary>
    /// <exception cref="ArgumentException">unknown name; the message lists the valid ones</exception>
    public static string Canonical(string name)
    {
        if (Names.Contains(name))
            return name;
        if (Aliases.TryGetValue(name, out var canonical))
            return canonical;
        throw new ArgumentException(
            $"unknown KL estimator '{name}'; valid estimators: {string.Join(", ", Names)} (verl aliases: {string.Join(", ", Aliases.Keys)})", nameof(name));
    }

    /// <summary>Value and ∂value/∂ℓ of estimator <paramref name="canonicalName"/> at one token.</summary>
    public static (float Value, float Grad) Evaluate(string canonicalName, float logProb, float refLogProb)
    {
        var straightThrough = canonicalName.EndsWith('+');
        var d = logProb - refLogProb;
        var (value, grad) = (straightThrough ? canonicalName[..^1] : canonicalName) switch
        {
            "k1" => (d, 1f),
            "abs" => (MathF.Abs(d), (float)MathF.Sign(d)),
            "k2" => (0.5f * d * d, d),
            "k3" => K3(d),
            _ => throw new ArgumentException($"unknown KL estimator '{canonicalName}'", nameof(canonicalName)),
        };
        return straightThrough ? (value, d) : (value, grad);
    }

    /// <summary>k3 (low_var_kl): x = clamp(−d, ±20), value clamp(eˣ − x − 1, ±10); derivative 1 − eˣ where no clamp is active.</summary>
    private static (float, float) K3(float d)
    {
        var x = -d;
        var xClamped = Math.Clamp(x, -20f, 20f);
        var e = MathF.Exp(xClamped);
        var raw = e - xClamped - 1f;
        var value = Math.Clamp(raw, -10f, 10f);
        var active = x == xClamped && raw == value;
        return (value, active ? 1f - e : 0f);
    }

    /// <summary>values[t], grads[t] for every token (masked tokens included; the caller's aggregation weights zero them).</summary>
    public static void Evaluate(string name, ReadOnlySpan<float> logProbs, ReadOnlySpan<float> refLogProbs, Span<float> values, Span<float> grads)
    {
        var canonical = Canonical(name);
        for (var t = 0; t < logProbs.Length; t++)
            (values[t], grads[t]) = Evaluate(canonical, logProbs[t], refLogProbs[t]);
    }
}
