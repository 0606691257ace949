using Aspo.Tests.Shared;

namespace Aspo.Model.Tests;

public sealed class FixtureRegenerationTests
{
    /// <summary>Where PyTorch is installed: tools/reference/decoder.py, run again, reproduces the committed fixtures.</summary>
    [RequiresTorchFact]
    public void Committed_fixtures_match_a_fresh_pytorch_run()
    {
        var dir = Directory.CreateTempSubdirectory("aspo-fixtures-").FullName;
        try
        {
            var (exit, output) = RequiresTorchFactAttribute.RunReferenceScript("decoder.py", "--out", dir);
            Assert.True(exit == 0, output);
            foreach (var family in new[] { "qwen2", "llama", "qwen3" })
            {
                var committed = Path.Combine(AppContext.BaseDirectory, "Fixtures", family);
                foreach (var file in new[] { "model.safetensors", "grads.safetensors", "adamw5.safetensors", "adamw5_fixed_grad.safetensors", "grads_bf16.safetensors" })
                {
                    using var a = new SafeTensorsReader(Path.Combine(committed, file));
                    using var b = new SafeTensorsReader(Path.Combine(dir, family, file));
                    Assert.Equal(a.Tensors.Select(t => t.Name).Order(), b.Tensors.Select(t => t.Name).Order());
                    foreach (var t in a.Tensors)
                    {
                        float[] x = new float[t.ElementCount], y = new float[t.ElementCount];
                        a.ReadFloat32(t.Name, t.Shape, x);
                        b.ReadFloat32(t.Name, t.Shape, y);
                        var scale = Math.Max(1e-6, x.Max(Math.Abs));
                        Assert.True(x.Zip(y, (p, q) => Math.Abs(p - q)).Max() <= 1e-5 * scale, $"{family}/{file}: {t.Name} changed");
                    }
                }
                Assert.Equal(File.ReadAllText(Path.Combine(committed, "config.json")), File.ReadAllText(Path.Combine(dir, family, "config.json")));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
