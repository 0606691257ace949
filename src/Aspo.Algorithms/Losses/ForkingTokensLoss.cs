namespace Aspo.Algorithms.Losses;

/// <summary>
/// Training only on "forking" tokens (Wang et al. 2025, "Beyond the 80/20 Rule"): the DAPO loss on the
/// k = max(1, ⌈ρ·N⌉) highest-entropy valid tokens of the batch; the rest get no gradient and do not count in the
/// aggregation's denominator.
/// </summary>
public sealed class ForkingTokensLoss(PolicyLossOptions options) : IPolicyLoss
{
    private readonly VanillaPpoLoss _inner = new("forking_tokens", options);

    public string Name => "forking_tokens";
    public PolicyLossOptions Options { get; } = options;
    public bool NeedsEntropies => true;

    public void SelectTokens(in TokenBatch batch, Span<float> mask)
    {
        var valid = new List<int>();
        for (var t = 0; t < mask.Length; t++)
            if (mask[t] != 0)
                valid.Add(t);
        var k = Math.Max(1, (int)Math.Ceiling(Options.EntropyTopRatio * valid.Count));
        var ranked = new (int Token, float Entropy)[valid.Count];
        for (var i = 0; i < valid.Count; i++)
            ranked[i] = (valid[i], batch.Entropies[valid[i]]);
        var keep = ranked.OrderByDescending(x => x.Entropy).Take(k).Select(x => x.Token).ToHashSet();
        foreach (var t in valid)
            if (!keep.Contains(t))
                mask[t] = 0;
    }

    public void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters) =>
        _inner.TokenTerms(batch, mask, ratio, loss, grad, counters);
}
