using System.Text.Json;
using Aspo.Tests.Shared;

namespace Aspo.Algorithms.Tests;

/// <summary>DPO, GAE and the value loss against tools/reference/sequence_objectives.py (PyTorch autograd, verl's and TRL's formulas).</summary>
public sealed class SequenceObjectiveGoldenTests
{
    private static readonly Lazy<JsonElement> s_fixture = new(() => Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sequence_objectives.json")));

    private static JsonElement Load(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    private static bool Close(double expected, double actual, double relative = 1e-5, double absolute = 1e-6) =>
        Math.Abs(expected - actual) <= relative * Math.Max(Math.Abs(expected), Math.Abs(actual)) + absolute;

    public static TheoryData<int> DpoCases() => new(Enumerable.Range(0, 3));

    [Theory]
    [MemberData(nameof(DpoCases))]
    public void Dpo_pairs_loss_and_per_token_gradient_match_autograd(int index)
    {
        var dpo = s_fixture.Value.GetProperty("dpo");
        var c = dpo.GetProperty("cases")[index];
        var scores = Fixture.Floats(dpo.GetProperty("scores"));
        var groups = Fixture.Longs(dpo.GetProperty("groups"));
        var policyTokens = dpo.GetProperty("policy_log_probs").EnumerateArray().Select(Fixture.Floats).ToArray();
        var referenceTokens = dpo.GetProperty("reference_log_probs").EnumerateArray().Select(Fixture.Floats).ToArray();

        var pairs = PreferencePairs.Build(scores, groups, PreferencePairs.ParseSelection(c.GetProperty("selection").GetString()!));
        var expectedPairs = c.GetProperty("pairs").EnumerateArray().Select(p => new PreferencePair(p[0].GetInt32(), p[1].GetInt32())).ToArray();
        Assert.Equal(expectedPairs, pairs);

        // the learner seam: sequence log-probs are sums over tokens; the coefficient of a sequence is each of its tokens' gradient
        var policy = policyTokens.Select(t => t.Sum(x => (double)x)).ToArray();
        var reference = referenceTokens.Select(t => t.Sum(x => (double)x)).ToArray();
        var coefficients = new double[policy.Length];
        var result = DpoLoss.Compute(pairs, policy, reference, c.GetProperty("beta").GetDouble(), coefficients);
        Assert.True(Close(c.GetProperty("loss").GetDouble(), result.Loss, 1e-9), $"loss {result.Loss} vs {c.GetProperty("loss").GetDouble()}");
        var grads = c.GetProperty("grad").EnumerateArray().ToArray();
        for (var i = 0; i < policy.Length; i++)
            foreach (var g in grads[i].EnumerateArray())
                Assert.True(Close(g.GetDouble(), coefficients[i], 1e-9), $"sequence {i}: ∂loss/∂logπ_t {coefficients[i]} vs autograd {g.GetDouble()}");
        Assert.True(Close(c.GetProperty("rewards_chosen").GetDouble(), result.ChosenReward, 1e-9));
        Assert.True(Close(c.GetProperty("rewards_rejected").GetDouble(), result.RejectedReward, 1e-9));
        Assert.True(Close(c.GetProperty("rewards_margins").GetDouble(), result.RewardMargin, 1e-9));
        Assert.Equal(c.GetProperty("rewards_accuracies").GetDouble(), result.RewardAccuracy, 12);
    }

    [Fact]
    public void Dpo_refuses_bad_input_and_is_zero_without_pairs()
    {
        var coefficients = new double[2];
        Assert.Throws<ArgumentException>(() => DpoLoss.Compute([new(0, 1)], [1.0, 2.0], [0.0, 0.0], beta: 0, coefficients));
        Assert.Throws<ArgumentException>(() => DpoLoss.Compute([new(0, 2)], [1.0, 2.0], [0.0, 0.0], beta: 0.1, coefficients));
        coefficients[0] = 5;
        var none = DpoLoss.Compute([], [1.0, 2.0], [0.0, 0.0], 0.1, coefficients);
        Assert.Equal(0, none.Pairs);
        Assert.Equal([0.0, 0.0], coefficients);
        Assert.Throws<ArgumentException>(() => PreferencePairs.ParseSelection("best"));
    }

    public static TheoryData<int> GaeCases() => new(Enumerable.Range(0, 3));

    [Theory]
    [MemberData(nameof(GaeCases))]
    public void Gae_advantages_returns_and_whitening_match_verl(int index)
    {
        var gae = s_fixture.Value.GetProperty("gae");
        var c = gae.GetProperty("cases")[index];
        var (offsets, n) = Offsets(gae.GetProperty("lengths"));
        var advantages = new float[n];
        var returns = new float[n];
        Gae.Compute(Fixture.Floats(gae.GetProperty("rewards")), Fixture.Floats(gae.GetProperty("values")), offsets,
            c.GetProperty("gamma").GetDouble(), c.GetProperty("lam").GetDouble(), advantages, returns);
        AssertClose(Fixture.Floats(c.GetProperty("advantages")), advantages, "advantages");
        AssertClose(Fixture.Floats(c.GetProperty("returns")), returns, "returns");
        Gae.Whiten(advantages);
        AssertClose(Fixture.Floats(c.GetProperty("whitened")), advantages, "whitened advantages");
    }

    public static TheoryData<int> ValueLossCases() => new(Enumerable.Range(0, 3));

    [Theory]
    [MemberData(nameof(ValueLossCases))]
    public void Clipped_value_loss_and_its_gradient_match_autograd(int index)
    {
        var v = s_fixture.Value.GetProperty("value_loss");
        var c = v.GetProperty("cases")[index];
        var (offsets, n) = Offsets(v.GetProperty("lengths"));
        var grad = new float[n];
        var result = ValueLoss.Compute(Fixture.Floats(v.GetProperty("predictions")), Fixture.Floats(v.GetProperty("old_values")), Fixture.Floats(v.GetProperty("returns")),
            offsets, c.GetProperty("clip").GetDouble(), Aggregation.Parse(c.GetProperty("mode").GetString()!), grad);
        Assert.True(Close(c.GetProperty("loss").GetDouble(), result.Loss), $"vf_loss {result.Loss} vs {c.GetProperty("loss").GetDouble()}");
        AssertClose(Fixture.Floats(c.GetProperty("grad")), grad, "∂vf_loss/∂V");
        Assert.Equal(c.GetProperty("clipfrac").GetDouble(), result.ClipFraction, 6);
        Assert.True(result.ClipFraction is > 0 and < 1, "the fixture should exercise both branches");
    }

    [Fact]
    public void Explained_variance_matches_verl()
    {
        var v = s_fixture.Value.GetProperty("value_loss");
        var ev = ValueLoss.ExplainedVariance(Fixture.Floats(v.GetProperty("predictions")), Fixture.Floats(v.GetProperty("returns")));
        Assert.True(Close(v.GetProperty("explained_variance").GetDouble(), ev), $"{ev} vs {v.GetProperty("explained_variance").GetDouble()}");
    }

    public static TheoryData<int> SpoChainCases() => new(Enumerable.Range(0, 6));

    /// <summary>SPO-chain's branch points and token advantages against the reference code's algorithm as written out in
    /// the script (cut points shifted left, [::interval], base at −1, forward differences, back-fill, p &gt; 0.9 zeroed).</summary>
    [Theory]
    [MemberData(nameof(SpoChainCases))]
    public void Spo_chain_matches_the_reference_codes_token_advantages(int index)
    {
        var c = s_fixture.Value.GetProperty("spo_chain")[index];
        var lp = Fixture.Floats(c.GetProperty("log_probs"));
        var points = SpoChain.BranchPoints(lp, 0.9, c.GetProperty("interval").GetInt32());
        Assert.Equal(Fixture.Ints(c.GetProperty("branch_points")), points);
        var advantages = new float[lp.Length];
        var mask = new float[lp.Length];
        SpoChain.TokenAdvantages(lp, points, [.. c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble())], c.GetProperty("reward").GetDouble(), 0.9, advantages, mask);
        AssertClose(Fixture.Floats(c.GetProperty("advantages")), advantages, "advantages");
    }

    public static TheoryData<int> SpoTreeCases() => new(Enumerable.Range(0, 4));

    [Theory]
    [MemberData(nameof(SpoTreeCases))]
    public void Spo_tree_values_and_advantages_match_the_recursive_reference(int index)
    {
        var c = s_fixture.Value.GetProperty("spo_tree")[index];
        var (values, advantages, root) = SpoTree.NodeAdvantages(Fixture.Ints(c.GetProperty("parents")), [.. c.GetProperty("rewards").EnumerateArray().Select(v => v.GetDouble())]);
        Assert.Equal(c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()), values, (a, b) => Math.Abs(a - b) <= 1e-12);
        Assert.Equal(c.GetProperty("advantages").EnumerateArray().Select(v => v.GetDouble()), advantages, (a, b) => Math.Abs(a - b) <= 1e-12);
        Assert.Equal(c.GetProperty("root").GetDouble(), root, 12);
    }

    /// <summary>Where PyTorch is installed: the script, run again, reproduces the committed fixture.</summary>
    [RequiresTorchFact]
    public void Committed_fixture_matches_a_fresh_pytorch_run()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aspo-sequence-objectives-{Guid.NewGuid():N}.json");
        try
        {
            var (exit, output) = RequiresTorchFactAttribute.RunReferenceScript("sequence_objectives.py", "--out", path);
            Assert.True(exit == 0, output);
            Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sequence_objectives.json")), File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (int[] Offsets, int Tokens) Offsets(JsonElement lengths)
    {
        var l = Fixture.Ints(lengths);
        var offsets = new int[l.Length + 1];
        for (var i = 0; i < l.Length; i++)
            offsets[i + 1] = offsets[i] + l[i];
        return (offsets, offsets[^1]);
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Close(expected[i], actual[i]), $"{what}[{i}]: {actual[i]} vs {expected[i]}");
    }
}
