using System.Text.Json;
using Aspo.Tests.Shared;

namespace Aspo.Algorithms.Tests;

public sealed class FixtureRegenerationTests
{
    /// <summary>Where PyTorch is installed: tools/reference/policy_losses.py, run again, reproduces the committed fixture.</summary>
    [RequiresTorchFact]
    public void Committed_fixture_matches_a_fresh_pytorch_run()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aspo-policy-losses-{Guid.NewGuid():N}.json");
        try
        {
            var (exit, output) = RequiresTorchFactAttribute.RunReferenceScript("policy_losses.py", "--out", path);
            Assert.True(exit == 0, output);
            var fresh = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
            var committed = Fixture.Instance.Root;
            var a = committed.GetProperty("cases").EnumerateArray().ToArray();
            var b = fresh.GetProperty("cases").EnumerateArray().ToArray();
            Assert.Equal(a.Length, b.Length);
            for (var i = 0; i < a.Length; i++)
            {
                Assert.True(Fixture.Close(a[i].GetProperty("loss").GetDouble(), b[i].GetProperty("loss").GetDouble()), $"case {i} loss changed");
                var ga = Fixture.Floats(a[i].GetProperty("grad"));
                var gb = Fixture.Floats(b[i].GetProperty("grad"));
                Assert.True(ga.Zip(gb, (x, y) => Fixture.Close(x, y)).All(ok => ok), $"case {i} gradients changed");
            }
            Assert.Equal(Fixture.Floats(committed.GetProperty("log_probs")), Fixture.Floats(fresh.GetProperty("log_probs")));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
