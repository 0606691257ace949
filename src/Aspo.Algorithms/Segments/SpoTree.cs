namespace Aspo.Algorithms;

/// <summary>
/// SPO-tree (Segment Policy Optimization, arXiv 2505.23564): per prompt a tree of sampled segments — the first level
/// branches from the prompt, each node's children continue its text, segments of a fixed token count except on the
/// last level, which runs to the end (a node that ends early is a leaf). Values: a leaf's is its reward, an inner
/// node's the mean of its children's, the root's the mean of the first level's; a node's advantage is
/// V(node) − V(parent) (the reference's "rloo" default) and goes to its own segment's tokens, under the same probability
/// mask as SPO-chain; nodes whose advantage is 0 are not trained.
/// </summary>
public static class SpoTree
{
    public const string Name = "spo_tree";

    /// <summary>
    /// Values and advantages of one tree given as parent links: <paramref name="parents"/>[i] is node i's parent (−1:
    /// a child of the root), parents listed before their children; leaves carry their reward in
    /// <paramref name="rewards"/> (inner nodes' entries are ignored). Returns (V per node, Â per node, V(root)).
    /// </summary>
    public static (double[] Values, double[] Advantages, double RootValue) NodeAdvantages(ReadOnlySpan<int> parents, ReadOnlySpan<double> rewards)
    {
        var n = parents.Length;
        if (rewards.Length != n)
            throw new ArgumentException($"{n} nodes need as many rewards, got {rewards.Length}");
        var childSum = new double[n];
        var childCount = new int[n];
        for (var i = 0; i < n; i++)
            if (parents[i] >= i || parents[i] < -1)
                throw new ArgumentException($"node {i}: parent {parents[i]} must be −1 or an earlier node");
        var values = new double[n];
        double rootSum = 0;
        var rootCount = 0;
        // children come after their parents: walking backwards, every node's children are done before it
        for (var i = n - 1; i >= 0; i--)
        {
            values[i] = childCount[i] == 0 ? rewards[i] : childSum[i] / childCount[i];
            if (parents[i] < 0)
            {
                rootSum += values[i];
                rootCount++;
            }
            else
            {
                childSum[parents[i]] += values[i];
                childCount[parents[i]]++;
            }
        }
        var root = rootCount > 0 ? rootSum / rootCount : 0;
        var advantages = new double[n];
        for (var i = 0; i < n; i++)
            advantages[i] = values[i] - (parents[i] < 0 ? root : values[parents[i]]);
        return (values, advantages, root);
    }

    /// <summary>A node's tokens: its advantage where π_old &lt; ρ (mask 1), else 0 (mask 0); all 0 when the advantage is 0.</summary>
    public static void TokenAdvantages(ReadOnlySpan<float> oldLogProbs, double advantage, double rho, Span<float> advantages, Span<float> mask)
    {
        if (advantages.Length != oldLogProbs.Length || mask.Length != oldLogProbs.Length)
            throw new ArgumentException($"advantages ({advantages.Length}) and mask ({mask.Length}) need one entry per token ({oldLogProbs.Length})");
        for (var t = 0; t < oldLogProbs.Length; t++)
        {
            var trained = advantage != 0 && Math.Exp(oldLogProbs[t]) < rho;
            mask[t] = trained ? 1 : 0;
            advantages[t] = trained ? (float)advantage : 0;
        }
    }
}
