namespace Aspo.Algorithms;

/// <summary>
/// The plain, obviously-correct per-token versions of the losses, written region by region from the closed forms
/// (the table in src/Aspo.Algorithms/README.md): one token in, (loss value, ∂loss/∂ℓ) out. The span implementations
/// in <c>Losses/</c> are tested against these. <paramref name="inside"/> is false when |ℓ − ℓ_old| ≥ 20, where the
/// clamped ratio no longer depends on ℓ.
/// </summary>
public static class ScalarLosses
{
    /// <summary>PPO / GRPO / DAPO clipped surrogate with dual clip c (A &lt; 0 only).</summary>
    public static (float Loss, float Grad) Vanilla(float a, float r, bool inside, float clipLow, float clipHigh, float c)
    {
        if (a > 0)
            return r < 1 + clipHigh
                ? (-a * r, inside ? -a * r : 0)
                : (-a * (1 + clipHigh), 0);
        if (a < 0)
        {
            if (r <= 1 - clipLow) return (-a * (1 - clipLow), 0); // trust region
            if (r >= c) return (-a * c, 0);                        // dual clip
            return (-a * r, inside ? -a * r : 0);
        }
        return (0, 0);
    }

    /// <summary>ASPO as the reference code computes it, for one token with clip range <paramref name="eps"/>.</summary>
    public static (float Loss, float Grad) Aspo(float a, float r, float logProb, bool inside, float eps, float c)
    {
        if (a < 0)
        {
            if (r > c) return (-a * c * logProb, -a * c);          // soft dual clip: value capped, gradient kept
            if (r <= 1 - eps) return (-a * (1 - eps), 0);          // hard mask
            return (-a * r, inside ? -a * r : 0);
        }
        if (a > 0)
        {
            if (r < 1 / c) return (-a * c * logProb, -a * c);      // soft dual clip of the flipped weight 1/r
            if (r >= 1 + eps) return (-a / (1 + eps), 0);          // hard mask
            return (-a / r, inside ? -a / r : 0);                  // flipped weight: lagging tokens get more
        }
        return (0, 0);
    }

    /// <summary>CISPO: the clipped IS weight multiplies A·ℓ as a constant.</summary>
    public static (float Loss, float Grad) Cispo(float a, float r, float logProb, float clipLow, float clipHigh)
    {
        var w = r < 1 - clipLow ? 1 - clipLow : r > 1 + clipHigh ? 1 + clipHigh : r;
        return (-w * a * logProb, -a * w);
    }

    /// <summary>No IS: −A·ℓ; with <paramref name="masked"/>, zero where PPO's trust region would clip.</summary>
    public static (float Loss, float Grad) NoIs(float a, float r, float logProb, bool masked, float clipLow, float clipHigh)
    {
        if (masked && ((a > 0 && r > 1 + clipHigh) || (a < 0 && r < 1 - clipLow)))
            return (0, 0);
        return (-a * logProb, -a);
    }
}
