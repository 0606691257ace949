namespace Aspo.Algorithms.Tests;

/// <summary>
/// SPO-chain against cases worked by hand from the reference code (<c>_compute_token_advantages</c>: cut points at
/// π_old &lt; 0.9, shifted one token left, every interval-th kept; values at the cut points; forward differences,
/// back-filled; tokens with π_old &gt; 0.9 zeroed).
/// </summary>
public sealed class SpoTests
{
    private static float[] LogProbs(params double[] probabilities) => [.. probabilities.Select(p => (float)Math.Log(p))];

    [Fact]
    public void Branch_points_are_every_interval_th_uncertain_token_and_segments_get_their_value_differences()
    {
        var lp = LogProbs(0.95, 0.5, 0.99, 0.3, 0.2, 0.95, 0.1, 0.97);
        // uncertain tokens 1, 3, 4, 6; every 2nd starting with the first: 1 and 4 (the reference's cut points 0 and 3)
        var points = SpoChain.BranchPoints(lp, 0.9, 2);
        Assert.Equal([1, 4], points);
        var advantages = new float[8];
        var mask = new float[8];
        SpoChain.TokenAdvantages(lp, points, [0.4, 0.7], reward: 1.0, 0.9, advantages, mask);
        // segment [0, 1): no start value → 0; [1, 4): V(4) − V(1) = 0.3; [4, 8): reward − V(4) = 0.3; certain tokens 0
        Assert.Equal([0f, 0.3f, 0f, 0.3f, 0.3f, 0f, 0.3f, 0f], advantages.Select(a => MathF.Round(a, 6)));
        Assert.Equal([0f, 1, 0, 1, 1, 0, 1, 0], mask);
        Assert.Equal([1, 3, 4, 6], SpoChain.BranchPoints(lp, 0.9, 1));
        Assert.Equal([1], SpoChain.BranchPoints(lp, 0.9, 5));
    }

    [Fact]
    public void A_branch_at_the_first_token_values_the_prompt_and_gives_the_first_segment_its_advantage()
    {
        var lp = LogProbs(0.5, 0.95, 0.4);
        var points = SpoChain.BranchPoints(lp, 0.9, 1);
        Assert.Equal([0, 2], points);
        var advantages = new float[3];
        var mask = new float[3];
        SpoChain.TokenAdvantages(lp, points, [0.25, 0.5], reward: 0.0, 0.9, advantages, mask);
        Assert.Equal([0.25f, 0f, -0.5f], advantages);
        Assert.Equal([1f, 0, 1], mask);
    }

    [Fact]
    public void Without_branch_points_every_advantage_is_zero_and_bad_input_is_refused()
    {
        var lp = LogProbs(0.95, 0.99);
        Assert.Empty(SpoChain.BranchPoints(lp, 0.9, 5));
        var advantages = new float[] { 9, 9 };
        var mask = new float[2];
        SpoChain.TokenAdvantages(lp, [], [], reward: 1.0, 0.9, advantages, mask);
        Assert.Equal([0f, 0f], advantages);
        Assert.Equal([0f, 0f], mask);
        Assert.Throws<ArgumentException>(() => SpoChain.BranchPoints(lp, 1.5, 5));
        Assert.Throws<ArgumentException>(() => SpoChain.BranchPoints(lp, 0.9, 0));
        Assert.Throws<ArgumentException>(() => SpoChain.TokenAdvantages(lp, [1, 1], [0.1, 0.2], 1, 0.9, advantages, mask));
        Assert.Throws<ArgumentException>(() => SpoChain.TokenAdvantages(lp, [1], [], 1, 0.9, advantages, mask));
    }
}

/// <summary>SPO-tree's values and advantages on a tree worked by hand.</summary>
public sealed class SpoTreeTests
{
    [Fact]
    public void Inner_values_are_child_means_and_advantages_are_differences_to_the_parent()
    {
        // root → a (0), b (1); a → a0 (2), a1 (3); b → b0 (4, leaf at level 2: ended early), b1 (5); b1 → b10 (6), b11 (7)
        int[] parents = [-1, -1, 0, 0, 1, 1, 5, 5];
        double[] rewards = [double.NaN, double.NaN, 1, 0, 1, double.NaN, 1, 1];
        var (values, advantages, root) = SpoTree.NodeAdvantages(parents, rewards);
        // b1 = mean(1, 1) = 1; b = mean(b0 1, b1 1) = 1; a = mean(1, 0) = 0.5; root = mean(0.5, 1) = 0.75
        Assert.Equal([0.5, 1, 1, 0, 1, 1, 1, 1], values);
        Assert.Equal(0.75, root);
        Assert.Equal([-0.25, 0.25, 0.5, -0.5, 0, 0, 0, 0], advantages);
        Assert.Throws<ArgumentException>(() => SpoTree.NodeAdvantages([1, -1], [0.0, 1.0]));
    }

    [Fact]
    public void Node_tokens_take_its_advantage_under_the_probability_mask_and_zero_advantage_nodes_are_not_trained()
    {
        float[] lp = [MathF.Log(0.5f), MathF.Log(0.95f), MathF.Log(0.2f)];
        var advantages = new float[3];
        var mask = new float[3];
        SpoTree.TokenAdvantages(lp, -0.25, 0.9, advantages, mask);
        Assert.Equal([-0.25f, 0, -0.25f], advantages);
        Assert.Equal([1f, 0, 1], mask);
        SpoTree.TokenAdvantages(lp, 0, 0.9, advantages, mask);
        Assert.Equal([0f, 0, 0], mask);
    }
}
