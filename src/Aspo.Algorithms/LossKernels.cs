namespace Aspo.Algorithms;

/// <summary>Shared per-token helpers of the losses.</summary>
internal static class LossKernels
{
    /// <summary>The clip range [1 − ε_low, 1 + ε_high] of <paramref name="options"/>.</summary>
    public static (float Lower, float Upper) ClipRange(PolicyLossOptions options) => ((float)(1 - options.ClipLow), (float)(1 + options.ClipHigh));

    /// <summary>Whether token t counts; a masked-out token gets loss and gradient 0 here.</summary>
    public static bool Counts(ReadOnlySpan<float> mask, int t, Span<float> loss, Span<float> grad)
    {
        if (mask[t] != 0)
            return true;
        loss[t] = grad[t] = 0;
        return false;
    }

    public const float RatioLogClamp = 20f;

    /// <summary>ratio[t] = exp(clamp(ℓ_t − ℓ_old_t, ±20)) (or unclamped). MathF.Exp, not TensorPrimitives.Exp:
    /// the vectorised exp is 1 ulp off at 0 (exp(0) = 1.0000001), and on-policy steps need r = 1 exactly.</summary>
    public static void Ratios(ReadOnlySpan<float> logProbs, ReadOnlySpan<float> oldLogProbs, bool clamp, Span<float> ratio)
    {
        for (var t = 0; t < ratio.Length; t++)
        {
            var delta = logProbs[t] - oldLogProbs[t];
            ratio[t] = MathF.Exp(clamp ? Math.Clamp(delta, -RatioLogClamp, RatioLogClamp) : delta);
        }
    }

    /// <summary>Whether ℓ − ℓ_old is strictly inside ±20, i.e. the ratio still depends on ℓ.</summary>
    public static bool InsideClamp(float logProb, float oldLogProb)
    {
        var delta = logProb - oldLogProb;
        return delta > -RatioLogClamp && delta < RatioLogClamp;
    }
}
