namespace Aspo.Algorithms;

/// <summary>
/// SPO-chain (Segment Policy Optimization, arXiv 2505.23564; the reference code's
/// <c>math_episode_generator_with_mc_advantages.py</c>): segment advantages from Monte-Carlo values at branch points,
/// no critic. A response y of T tokens with old log-probs ℓ_t:
/// <list type="bullet">
/// <item>cut points: the tokens with π_old(y_t) = e^ℓ_t &lt; ρ; every <c>interval</c>-th of them, starting with the
/// first, is a branch point b = t: the state y_&lt;t just before the uncertain token (b = 0 is the prompt alone).</item>
/// <item>V(b) = mean reward of N continuations sampled from prompt + y_&lt;b; the response's own reward is the value
/// after its last token.</item>
/// <item>segments end at each branch point and at the end; a segment's tokens get the value at its end minus the value
/// at its start. The first segment has no start value unless b = 0 is a branch point, and then gets 0 (as the
/// reference code does).</item>
/// <item>probability mask: only tokens with π_old &lt; ρ are trained (mask 1); the others get A = 0, mask 0.</item>
/// </list>
/// </summary>
public static class SpoChain
{
    public const string Name = "spo_chain";

    /// <summary>The branch points of one response (prefix lengths, ascending, each &lt; T).</summary>
    public static int[] BranchPoints(ReadOnlySpan<float> oldLogProbs, double rho, int interval)
    {
        Check(rho, interval);
        var points = new List<int>();
        var cut = 0;
        for (var t = 0; t < oldLogProbs.Length; t++)
        {
            if (!(Math.Exp(oldLogProbs[t]) < rho))
                continue;
            if (cut % interval == 0)
                points.Add(t);
            cut++;
        }
        return [.. points];
    }

    /// <summary>
    /// Per token of one response: its segment advantage and its probability mask.
    /// </summary>
    /// <param name="branchPoints">from <see cref="BranchPoints"/></param>
    /// <param name="branchValues">V at each branch point (Monte-Carlo means)</param>
    /// <param name="reward">the response's own reward: the value after its last token</param>
    public static void TokenAdvantages(ReadOnlySpan<float> oldLogProbs, ReadOnlySpan<int> branchPoints, ReadOnlySpan<double> branchValues, double reward,
        double rho, Span<float> advantages, Span<float> mask)
    {
        var n = oldLogProbs.Length;
        if (advantages.Length != n || mask.Length != n)
            throw new ArgumentException($"advantages ({advantages.Length}) and mask ({mask.Length}) need one entry per token ({n})");
        if (branchValues.Length != branchPoints.Length)
            throw new ArgumentException($"{branchPoints.Length} branch points need as many values, got {branchValues.Length}");
        if (n == 0)
            return;
        // value after token i (i = b − 1 for a branch point b ≥ 1; the last token holds the reward)
        var valueAfter = new double?[n];
        valueAfter[n - 1] = reward;
        double? start = null;
        for (var k = 0; k < branchPoints.Length; k++)
        {
            var b = branchPoints[k];
            if (b < 0 || b >= n || (k > 0 && b <= branchPoints[k - 1]))
                throw new ArgumentException($"branch points must ascend within [0, {n}), got {b} at {k}");
            if (b == 0)
                start = branchValues[k];
            else
                valueAfter[b - 1] = branchValues[k];
        }
        // a segment ends at each token holding a value: its advantage is that value minus the previous one
        var ends = new double?[n];
        for (var i = 0; i < n; i++)
        {
            if (valueAfter[i] is not { } v)
                continue;
            ends[i] = start is { } s ? v - s : 0;
            start = v;
        }
        double current = 0;
        for (var i = n - 1; i >= 0; i--)
        {
            if (ends[i] is { } a)
                current = a;
            var inMask = Math.Exp(oldLogProbs[i]) < rho;
            mask[i] = inMask ? 1 : 0;
            advantages[i] = inMask ? (float)current : 0;
        }
    }

    private static void Check(double rho, int interval)
    {
        if (!(rho > 0 && rho <= 1))
            throw new ArgumentException($"SPO's probability threshold ρ must be in (0, 1], got {rho}");
        if (interval < 1)
            throw new ArgumentException($"SPO's cut point interval must be ≥ 1, got {interval}");
    }
}
