namespace Aspo.Model.Tests;

/// <summary>The value head on the trunk: the trunk's gradient through the scored hidden states, and the head itself.</summary>
public sealed class ValueHeadTests
{
    /// <summary>L = Σ_s G_s·hidden_s (hidden = the final normed state the head reads): the decoder's backward with
    /// dScoredHidden = G matches central differences, and with G = 0 it equals the plain backward.</summary>
    [Theory]
    [InlineData("qwen2")]
    [InlineData("llama")]
    public void The_trunk_gradient_through_the_scored_hidden_states_matches_finite_differences(string family)
    {
        var f = new ModelFixture(family);
        var d = f.Load();
        var scored = f.Floats("coef_logprobs").Length;
        var c = d.Config.HiddenSize;
        var rng = new Random(5);
        var g = Enumerable.Range(0, scored * c).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        double Loss()
        {
            d.Forward(f.Tokens, f.Offsets, f.Starts, 1f, new float[scored], [], forTraining: false);
            var hidden = new float[scored * c];
            d.ScoredHidden(hidden);
            return hidden.Zip(g, (h, w) => (double)h * w).Sum();
        }
        d.Forward(f.Tokens, f.Offsets, f.Starts, 1f, new float[scored], [], forTraining: true);
        d.ZeroGradients();
        d.Backward(new float[scored], [], g);
        var checkedCount = LearnerTests.CheckFiniteDifferences(d, Loss, everyNthTensor: 2);
        Assert.True(checkedCount >= 4, $"only {checkedCount} tensors had a gradient large enough to check");

        // a zero hidden-state gradient adds nothing to the log-prob backward
        var coefficients = f.Floats("coef_logprobs");
        d.Forward(f.Tokens, f.Offsets, f.Starts, 1f, new float[scored], [], forTraining: true);
        d.ZeroGradients();
        d.Backward(coefficients, []);
        var plain = (float[])d.Gradients.Clone();
        d.Forward(f.Tokens, f.Offsets, f.Starts, 1f, new float[scored], [], forTraining: true);
        d.ZeroGradients();
        d.Backward(coefficients, [], new float[scored * c]);
        Assert.Equal(plain, d.Gradients);
    }

    [Fact]
    public void The_head_computes_values_and_their_gradients_and_round_trips_through_its_file()
    {
        var head = new ValueHead(3);
        float[] hidden = [1, 2, 3, -1, 0, 4];   // [2, 3]
        new[] { 0.5f, -1f, 2f, 0.25f }.CopyTo(head.Parameters, 0);
        var values = new float[2];
        head.Values(hidden, values);
        Assert.Equal([0.5f - 2 + 6 + 0.25f, -0.5f + 0 + 8 + 0.25f], values);
        var dHidden = new float[6];
        head.Backward(hidden, [2f, -1f], dHidden);
        Assert.Equal([2 * 1 - 1 * -1f, 2 * 2 - 0f, 2 * 3 - 4f, 2 + -1f], head.Gradients); // Σ dV·h, Σ dV
        Assert.Equal([1f, -2f, 4f, -0.5f, 1f, -2f], dHidden);                       // dV·w
        head.OptimizerUpdate(0.1);
        var folder = Directory.CreateTempSubdirectory("aspo-value-head-").FullName;
        try
        {
            head.Save(folder);
            var back = ValueHead.LoadOrCreate(folder, 3);
            Assert.Equal(head.Parameters, back.Parameters);
            Assert.Equal(head.Optimizer.M, back.Optimizer.M);
            Assert.Equal(head.Optimizer.V, back.Optimizer.V);
            Assert.Equal(1, back.Optimizer.Step);
            Assert.All(ValueHead.LoadOrCreate(Path.Combine(folder, "none"), 3).Parameters, p => Assert.Equal(0f, p));
            Assert.Throws<ArgumentException>(() => head.Values(hidden, new float[3]));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
