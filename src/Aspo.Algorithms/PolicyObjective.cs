using System.Buffers;

namespace Aspo.Algorithms;

/// <summary>
/// The actor objective: policy loss (optionally reweighted by rollout correction) aggregated over the batch, plus
/// coef · aggregated KL to the reference policy. <see cref="Compute"/> returns the scalar and writes
/// ∂loss/∂ℓ_t for every token — what the learner back-propagates through the log-softmax.
/// </summary>
public sealed class PolicyObjective
{
    public PolicyObjective(IPolicyLoss loss, ObjectiveOptions? options = null)
    {
        Loss = loss;
        Options = options ?? new ObjectiveOptions();
        KlEstimators.Canonical(Options.KlEstimator); // fail early on an unknown name
        if (Options.KlCoefficient < 0)
            throw new ArgumentException($"KL coefficient must be ≥ 0, got {Options.KlCoefficient}");
    }

    public IPolicyLoss Loss { get; }
    public ObjectiveOptions Options { get; }

    /// <summary>
    /// Computes the objective on <paramref name="batch"/> and writes ∂loss/∂ℓ_t into <paramref name="gradLogProbs"/> [N].
    /// </summary>
    /// <param name="scale">the mini-batch's normalisers when <paramref name="batch"/> is one micro-batch of it; null = this batch alone</param>
    public ObjectiveResult Compute(in TokenBatch batch, Span<float> gradLogProbs, AggregationScale? scale = null)
    {
        batch.Validate();
        var n = batch.TokenCount;
        if (gradLogProbs.Length != n)
            throw new ArgumentException($"gradLogProbs has {gradLogProbs.Length} slots, the batch has {n} tokens", nameof(gradLogProbs));
        if (Loss.NeedsEntropies && batch.Entropies.Length != n)
            throw new ArgumentException($"policy loss '{Loss.Name}' needs per-token entropies (TokenBatch.Entropies)");
        var useKl = Options.KlCoefficient > 0;
        if (useKl && batch.RefLogProbs.Length != n)
            throw new ArgumentException($"a KL coefficient of {Options.KlCoefficient} needs reference log-probs (TokenBatch.RefLogProbs)");
        var correct = Options.RolloutCorrection.Level != RolloutCorrectionLevel.Off;
        if (correct && batch.RolloutLogProbs.Length != n)
            throw new ArgumentException("rollout correction needs rollout log-probs (TokenBatch.RolloutLogProbs)");

        var floats = ArrayPool<float>.Shared.Rent(n * 6);
        var doubles = ArrayPool<double>.Shared.Rent(2 * n);
        try
        {
            var work = floats.AsSpan(0, n * 6);
            Span<float> mask = work[..n], ratio = work.Slice(n, n), loss = work.Slice(2 * n, n), grad = work.Slice(3 * n, n),
                extra1 = work.Slice(4 * n, n), extra2 = work.Slice(5 * n, n);
            Span<double> weights = doubles.AsSpan(0, n), total = doubles.AsSpan(n, n); // total: ∂loss/∂ℓ, summed in double

            batch.Mask.CopyTo(mask);
            Loss.SelectTokens(batch, mask);
            var aggregationScale = scale ?? AggregationScale.Of(mask, batch.SequenceOffsets, Options.LossScaleFactor);
            Aggregation.TokenWeights(Options.Aggregation, mask, batch.SequenceOffsets, aggregationScale, weights);

            var counters = new LossCounters();
            Loss.TokenTerms(batch, mask, ratio, loss, grad, counters);
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);

            if (correct)
            {
                var isWeights = extra1;
                var stats = RolloutCorrection.ComputeWeights(Options.RolloutCorrection, batch.OldLogProbs, batch.RolloutLogProbs, mask, batch.SequenceOffsets, isWeights);
                for (var t = 0; t < n; t++)
                {
                    loss[t] *= isWeights[t];
                    grad[t] *= isWeights[t];
                }
                metrics[MetricNames.RolloutIsMean] = stats.Mean;
                metrics[MetricNames.RolloutIsMax] = stats.Max;
                metrics[MetricNames.RolloutIsMin] = stats.Min;
                metrics[MetricNames.RolloutIsFractionHigh] = stats.FractionAboveThreshold;
            }

            double policyLoss = 0, klLoss = 0;
            for (var t = 0; t < n; t++)
            {
                total[t] = mask[t] == 0 ? 0 : weights[t] * grad[t];
                if (mask[t] != 0)
                    policyLoss += weights[t] * loss[t];
            }

            if (useKl)
            {
                Span<float> klValues = extra1, klGrads = extra2;
                KlEstimators.Evaluate(Options.KlEstimator, batch.LogProbs, batch.RefLogProbs, klValues, klGrads);
                for (var t = 0; t < n; t++)
                {
                    if (mask[t] == 0)
                        continue;
                    klLoss += weights[t] * klValues[t];
                    total[t] += Options.KlCoefficient * weights[t] * klGrads[t];
                }
                metrics[MetricNames.KlLoss] = klLoss;
                metrics[MetricNames.KlCoef] = Options.KlCoefficient;
            }

            for (var t = 0; t < n; t++)
                gradLogProbs[t] = (float)total[t];

            AddGenericMetrics(batch, mask, ratio, weights, metrics);
            counters.CopyTo(metrics); // loss-specific metrics win (kl_cov's ppo_kl is mean |Δ|)
            metrics[MetricNames.PgLoss] = policyLoss;
            return new ObjectiveResult(policyLoss + Options.KlCoefficient * klLoss, policyLoss, klLoss, metrics);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(floats);
            ArrayPool<double>.Shared.Return(doubles);
        }
    }

    /// <summary>ppo_kl = mean(ℓ_old − ℓ); mean ratio of positive- vs negative-advantage tokens; aggregated entropy.</summary>
    private static void AddGenericMetrics(in TokenBatch batch, ReadOnlySpan<float> mask, ReadOnlySpan<float> ratio, ReadOnlySpan<double> weights,
        Dictionary<string, double> metrics)
    {
        double tokens = 0, kl = 0, pos = 0, posCount = 0, neg = 0, negCount = 0, entropy = 0;
        var hasEntropy = batch.Entropies.Length == mask.Length;
        for (var t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0)
                continue;
            tokens += mask[t];
            kl += mask[t] * ((double)batch.OldLogProbs[t] - batch.LogProbs[t]);
            var a = batch.Advantages[t];
            if (a > 0) { pos += ratio[t]; posCount++; }
            else if (a < 0) { neg += ratio[t]; negCount++; }
            if (hasEntropy)
                entropy += weights[t] * batch.Entropies[t];
        }
        metrics[MetricNames.PpoKl] = tokens > 0 ? kl / tokens : 0;
        metrics[MetricNames.IsWeightPositiveMean] = posCount > 0 ? pos / posCount : 0;
        metrics[MetricNames.IsWeightNegativeMean] = negCount > 0 ? neg / negCount : 0;
        if (hasEntropy)
            metrics[MetricNames.Entropy] = entropy;
    }
}
