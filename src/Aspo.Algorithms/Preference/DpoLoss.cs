namespace Aspo.Algorithms;

/// <summary>
/// The DPO loss (Rafailov et al. 2023) over preference pairs, from sequence log-probabilities L = Σ_t log π(y_t) of
/// the response tokens under the policy and the reference:
/// z = β·[(L_w − L_w^ref) − (L_l − L_l^ref)], loss = mean over pairs of −log σ(z) = softplus(−z).
/// ∂loss/∂L_w = −β·σ(−z)/P and ∂loss/∂L_l = +β·σ(−z)/P (P pairs); a response in several pairs sums them. Since L is a
/// sum over tokens, this per-sequence coefficient is every one of its tokens' ∂loss/∂log π — the learner seam.
/// Metrics follow TRL: rewards r = β·(L − L^ref) of chosen and rejected, their margin and how often r_w &gt; r_l.
/// </summary>
public static class DpoLoss
{
    public const string Name = "dpo";

    /// <summary>The pipeline.yaml algorithm keys DPO reads.</summary>
    public static IReadOnlyList<string> OptionKeys { get; } = ["dpo_beta", "dpo_pairs"];

    /// <param name="policy">L under π_θ per response [B]</param>
    /// <param name="reference">L under π_ref per response [B]</param>
    /// <param name="coefficients">∂loss/∂L per response [B], overwritten (0 for responses in no pair)</param>
    public static DpoResult Compute(IReadOnlyList<PreferencePair> pairs, ReadOnlySpan<double> policy, ReadOnlySpan<double> reference,
        double beta, Span<double> coefficients)
    {
        if (!(beta > 0))
            throw new ArgumentException($"DPO's β must be > 0, got {beta}", nameof(beta));
        if (reference.Length != policy.Length || coefficients.Length != policy.Length)
            throw new ArgumentException($"policy ({policy.Length}), reference ({reference.Length}) and coefficients ({coefficients.Length}) must have one entry per response");
        coefficients.Clear();
        if (pairs.Count == 0)
            return new DpoResult(0, 0, 0, 0, 0, 0);
        double loss = 0, correct = 0, chosenReward = 0, rejectedReward = 0;
        var p = pairs.Count;
        foreach (var (w, l) in pairs)
        {
            if ((uint)w >= (uint)policy.Length || (uint)l >= (uint)policy.Length)
                throw new ArgumentException($"pair ({w}, {l}) points outside the {policy.Length} responses");
            double rw = beta * (policy[w] - reference[w]), rl = beta * (policy[l] - reference[l]);
            var z = rw - rl;
            loss += Softplus(-z);
            var sigmoidMinusZ = 1 / (1 + Math.Exp(z));
            coefficients[w] -= beta * sigmoidMinusZ / p;
            coefficients[l] += beta * sigmoidMinusZ / p;
            chosenReward += rw;
            rejectedReward += rl;
            if (rw > rl)
                correct++;
        }
        return new DpoResult(loss / p, correct / p, (chosenReward - rejectedReward) / p, chosenReward / p, rejectedReward / p, p);
    }

    /// <summary>log(1 + eˣ) without overflow.</summary>
    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));
}
