using Aspo.Pipeline.Config;
using Aspo.Tests.Shared;

namespace Aspo.Pipeline.Tests;

/// <summary>A config or suite file cut anywhere — an open flow sequence or mapping, a half key — is one ConfigException
/// naming the file, never another exception (a stack trace for the user).</summary>
public sealed class ConfigRobustnessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-yaml-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Files() => new("pipeline.yaml", "datasets/suites/arith-l123.yaml");

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_truncation_of_a_shipped_file_loads_or_is_one_config_error(string relative)
    {
        var text = File.ReadAllText(Path.Combine(TestRepository.Root, relative));
        var path = Path.Combine(_dir, Path.GetFileName(relative));
        var suite = relative.Contains("suites", StringComparison.Ordinal);
        var cuts = Enumerable.Range(0, text.Length).Where(i => i % 3 == 0 || "[{:,\n".Contains(text[i])).ToList();
        foreach (var cut in cuts)
        {
            foreach (var tail in new[] { "", "[2", "{a: [1", "\n  x: [" })
            {
                File.WriteAllText(path, text[..cut] + tail);
                try
                {
                    if (suite)
                        EvalSuite.Load(path, checkFiles: false);
                    else
                        PipelineConfig.Load(path);
                }
                catch (ConfigException e)
                {
                    Assert.Contains(path, e.Message);
                }
                catch (Exception e)
                {
                    Assert.Fail($"{relative} cut at {cut} + \"{tail}\": {e.GetType().Name}: {e.Message}");
                }
            }
        }
    }
}
