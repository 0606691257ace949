namespace Aspo.Algorithms;

/// <summary>
/// The critic's clipped value loss, as verl's <c>compute_value_loss</c>: V_clip = V_old + clip(V − V_old, ±ε),
/// loss = ½·agg(max((V − R)², (V_clip − R)²)); vf_clipfrac = share of tokens where the clipped term is the larger.
/// The gradient per token is weight·(V − R) where the unclipped term is taken (or V is inside the clip range), else 0.
/// </summary>
public static class ValueLoss
{
    /// <param name="predictions">V per token from the critic being trained [N]</param>
    /// <param name="oldValues">V_old per token from the critic before the update [N]</param>
    /// <param name="returns">R per token (GAE's returns) [N]</param>
    /// <param name="grad">∂loss/∂V per token [N], overwritten</param>
    /// <param name="scale">the mini-batch's normalisers when this is one micro-batch of it; null = this batch alone</param>
    public static ValueLossResult Compute(ReadOnlySpan<float> predictions, ReadOnlySpan<float> oldValues, ReadOnlySpan<float> returns,
        ReadOnlySpan<int> offsets, double clip, AggregationMode mode, Span<float> grad, AggregationScale? scale = null)
    {
        var n = predictions.Length;
        if (oldValues.Length != n || returns.Length != n || grad.Length != n)
            throw new ArgumentException($"predictions ({n}), oldValues ({oldValues.Length}), returns ({returns.Length}) and grad ({grad.Length}) must have one entry per token");
        if (!(clip > 0))
            throw new ArgumentException($"the value clip range must be > 0, got {clip}");
        var mask = new float[n];
        Array.Fill(mask, 1f);
        var weights = new double[n];
        Aggregation.TokenWeights(mode, mask, offsets, scale ?? AggregationScale.Of(mask, offsets), weights);
        double loss = 0, clipped = 0, predictionSum = 0;
        for (var t = 0; t < n; t++)
        {
            double v = predictions[t], old = oldValues[t], r = returns[t];
            var vClipped = old + Math.Clamp(v - old, -clip, clip);
            double unclippedLoss = (v - r) * (v - r), clippedLoss = (vClipped - r) * (vClipped - r);
            var takesClipped = clippedLoss > unclippedLoss;
            loss += 0.5 * weights[t] * Math.Max(unclippedLoss, clippedLoss);
            var inside = Math.Abs(v - old) < clip;
            grad[t] = (float)(takesClipped && !inside ? 0 : weights[t] * (v - r));
            if (takesClipped)
                clipped++;
            predictionSum += v;
        }
        return new ValueLossResult(loss, n > 0 ? clipped / n : 0, n > 0 ? predictionSum / n : 0);
    }

    /// <summary>verl's critic/vf_explained_var: 1 − Var(R − V) / (Var(R) + 1e-5), unbiased variances over the tokens (torch.var).</summary>
    public static double ExplainedVariance(ReadOnlySpan<float> values, ReadOnlySpan<float> returns)
    {
        if (values.Length != returns.Length || values.Length < 2)
            throw new ArgumentException($"values ({values.Length}) and returns ({returns.Length}) must be the same length, at least 2");
        double meanR = 0, meanD = 0;
        for (var t = 0; t < values.Length; t++)
        {
            meanR += returns[t];
            meanD += returns[t] - values[t];
        }
        meanR /= values.Length;
        meanD /= values.Length;
        double varR = 0, varD = 0;
        for (var t = 0; t < values.Length; t++)
        {
            varR += (returns[t] - meanR) * (returns[t] - meanR);
            var d = returns[t] - values[t] - meanD;
            varD += d * d;
        }
        return 1 - varD / (values.Length - 1) / (varR / (values.Length - 1) + 1e-5);
    }
}
