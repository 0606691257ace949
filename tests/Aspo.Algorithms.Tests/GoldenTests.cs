using System.Text.Json;

namespace Aspo.Algorithms.Tests;

/// <summary>Every loss × aggregation mode (and KL / rollout-correction combinations) against PyTorch autograd.</summary>
public sealed class GoldenTests
{
    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        var i = 0;
        foreach (var c in Fixture.Instance.Root.GetProperty("cases").EnumerateArray())
        {
            var label = $"{c.GetProperty("loss_name").GetString()} {c.GetProperty("mode").GetString()}";
            if (c.GetProperty("kl").ValueKind == JsonValueKind.String)
                label += $" +{c.GetProperty("kl_coef").GetDouble()}·{c.GetProperty("kl").GetString()}";
            if (c.GetProperty("correction").ValueKind == JsonValueKind.Object)
                label += $" IS {c.GetProperty("correction").GetProperty("level").GetString()}/{c.GetProperty("correction").GetProperty("mode").GetString()}";
            data.Add(i++, label);
        }
        return data;
    }

    private static PolicyLossOptions Options(string loss, JsonElement overrides)
    {
        var o = PolicyLosses.DefaultOptions(loss);
        foreach (var p in overrides.EnumerateObject())
            o = p.Name switch
            {
                "ClipCovRatio" => o with { ClipCovRatio = p.Value.GetDouble() },
                "KlCovRatio" => o with { KlCovRatio = p.Value.GetDouble() },
                "KlCovCoefficient" => o with { KlCovCoefficient = p.Value.GetDouble() },
                _ => throw new InvalidOperationException($"fixture option {p.Name} not mapped"),
            };
        return o;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loss_gradient_and_metrics_match_pytorch(int index, string label)
    {
        var f = Fixture.Instance;
        var c = f.Root.GetProperty("cases")[index];
        var lossName = c.GetProperty("loss_name").GetString()!;
        var options = new ObjectiveOptions
        {
            Aggregation = Aggregation.Parse(c.GetProperty("mode").GetString()!),
            LossScaleFactor = c.GetProperty("scale_factor").ValueKind == JsonValueKind.Number ? c.GetProperty("scale_factor").GetDouble() : null,
            KlEstimator = c.GetProperty("kl").ValueKind == JsonValueKind.String ? c.GetProperty("kl").GetString()! : "k3",
            KlCoefficient = c.GetProperty("kl_coef").GetDouble(),
            RolloutCorrection = c.GetProperty("correction").ValueKind == JsonValueKind.Object
                ? new RolloutCorrectionOptions
                {
                    Level = c.GetProperty("correction").GetProperty("level").GetString() == "token" ? RolloutCorrectionLevel.Token : RolloutCorrectionLevel.Sequence,
                    Mode = c.GetProperty("correction").GetProperty("mode").GetString() == "truncate" ? RolloutCorrectionMode.Truncate : RolloutCorrectionMode.Mask,
                    Threshold = c.GetProperty("correction").GetProperty("threshold").GetDouble(),
                }
                : new RolloutCorrectionOptions(),
        };
        var objective = new PolicyObjective(PolicyLosses.Create(lossName, Options(lossName, c.GetProperty("options"))), options);
        var grad = new float[f.LogProbs.Length];
        var result = objective.Compute(f.Batch(), grad);

        Assert.True(Fixture.Close(c.GetProperty("loss").GetDouble(), result.Loss), $"{label}: loss {result.Loss} vs torch {c.GetProperty("loss").GetDouble()}");
        Assert.True(Fixture.Close(c.GetProperty("pg_loss").GetDouble(), result.PolicyLoss), $"{label}: pg_loss {result.PolicyLoss} vs torch {c.GetProperty("pg_loss").GetDouble()}");
        Assert.True(Fixture.Close(c.GetProperty("kl_loss").GetDouble(), result.KlLoss), $"{label}: kl_loss {result.KlLoss} vs torch {c.GetProperty("kl_loss").GetDouble()}");

        var expected = Fixture.Floats(c.GetProperty("grad"));
        var worst = Enumerable.Range(0, grad.Length).MaxBy(t => Math.Abs(expected[t] - grad[t]));
        // 1e-6 relative, with an absolute floor of 1e-9 × the case's largest gradient for tokens whose policy and KL
        // terms cancel (both sides accumulate in finite precision, torch in float32)
        var floor = 1e-9 * expected.Max(x => Math.Abs(x));
        var bad = Enumerable.Range(0, grad.Length).Where(t => Math.Abs(expected[t] - grad[t]) > 1e-6 * Math.Max(Math.Abs(expected[t]), Math.Abs(grad[t])) + floor).ToArray();
        Assert.True(bad.Length == 0,
            $"{label}: {bad.Length} gradients differ [{string.Join("; ", bad.Select(t => $"{t}: {grad[t]:R} vs {expected[t]:R}"))}]; max |Δ| = {Math.Abs(expected[worst] - grad[worst]):G3} at token {worst} ({grad[worst]} vs torch {expected[worst]})");

        foreach (var m in c.GetProperty("metrics").EnumerateObject())
            Assert.True(Fixture.Close(m.Value.GetDouble(), result.Metrics[m.Name], 1e-9), $"{label}: {m.Name} = {result.Metrics[m.Name]} vs torch {m.Value.GetDouble()}");
    }

    [Fact]
    public void Fixture_exercises_every_loss_and_mode()
    {
        var cases = Fixture.Instance.Root.GetProperty("cases").EnumerateArray().ToArray();
        foreach (var loss in PolicyLosses.Names)
            foreach (var mode in Aggregation.Names)
                Assert.Contains(cases, c => c.GetProperty("loss_name").GetString() == loss && c.GetProperty("mode").GetString() == mode);
        Assert.Subset(cases.Select(c => c.GetProperty("kl").ValueKind == JsonValueKind.String ? c.GetProperty("kl").GetString() : null).ToHashSet(),
            new HashSet<string?> { "k3", "k1+", "abs", "k2", "k3+" });
    }

    [Theory]
    [InlineData("k1")]
    [InlineData("abs")]
    [InlineData("k2")]
    [InlineData("k3")]
    [InlineData("k1+")]
    [InlineData("abs+")]
    [InlineData("k2+")]
    [InlineData("k3+")]
    public void Kl_estimators_match_pytorch(string name)
    {
        var kl = Fixture.Instance.Root.GetProperty("kl_estimators");
        var lp = Fixture.Floats(kl.GetProperty("log_probs"));
        var reference = Fixture.Floats(kl.GetProperty("ref_log_probs"));
        var expectedValues = Fixture.Floats(kl.GetProperty("estimators").GetProperty(name).GetProperty("values"));
        var expectedGrads = Fixture.Floats(kl.GetProperty("estimators").GetProperty(name).GetProperty("grads"));
        var values = new float[lp.Length];
        var grads = new float[lp.Length];
        KlEstimators.Evaluate(name, lp, reference, values, grads);
        for (var i = 0; i < lp.Length; i++)
        {
            Assert.True(Fixture.Close(expectedValues[i], values[i]), $"{name} value at d={lp[i] - reference[i]}: {values[i]} vs torch {expectedValues[i]}");
            Assert.True(Fixture.Close(expectedGrads[i], grads[i]), $"{name} grad at d={lp[i] - reference[i]}: {grads[i]} vs torch {expectedGrads[i]}");
        }
    }

    [Theory]
    [InlineData("grpo")]
    [InlineData("dr_grpo")]
    [InlineData("rloo")]
    public void Advantage_estimators_match_pytorch(string name)
    {
        var a = Fixture.Instance.Root.GetProperty("advantage_estimators");
        var scores = Fixture.Floats(a.GetProperty("scores"));
        var groups = Fixture.Longs(a.GetProperty("groups"));
        var expected = Fixture.Floats(a.GetProperty("estimators").GetProperty(name));
        var actual = new float[scores.Length];
        AdvantageEstimators.Compute(name, scores, groups, actual);
        for (var i = 0; i < scores.Length; i++)
            Assert.True(Fixture.Close(expected[i], actual[i], 1e-5), $"{name}[{i}] (group {groups[i]}): {actual[i]} vs torch {expected[i]}");
    }
}
