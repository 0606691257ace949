using System.Diagnostics;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Aspo.Pipeline.Tests;

/// <summary>The shipped scheduler files: the Kubernetes manifests are valid YAML with the right Job shape, and the
/// Slurm script submits export → rollout array → learn with the right dependencies (sbatch replaced by a recorder).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ClusterFilesTests
{
    private static string Root()
    {
        var root = Aspo.Tests.Shared.TestRepository.Root;
        return root;
    }

    private static YamlMappingNode Manifest(string name, Dictionary<string, string> env)
    {
        var text = Regex.Replace(File.ReadAllText(Path.Combine(Root(), "tools", "cluster", name)), @"\$\{(\w+)\}", m => env[m.Groups[1].Value]);
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlNode At(YamlNode node, params string[] path) =>
        path.Aggregate(node, (n, key) => int.TryParse(key, out var i) ? ((YamlSequenceNode)n).Children[i] : ((YamlMappingNode)n).Children[new YamlScalarNode(key)]);

    [Fact]
    public void The_rollout_manifest_is_an_indexed_job_running_one_slice_per_pod()
    {
        var job = Manifest("rollout-indexed-job.yaml", new() { ["ITERATION"] = "3", ["SHARDS"] = "8", ["RUN_NAME"] = "r" });
        Assert.Equal("Job", At(job, "kind").ToString());
        Assert.Equal("Indexed", At(job, "spec", "completionMode").ToString());
        Assert.Equal("8", At(job, "spec", "completions").ToString());
        Assert.Equal("8", At(job, "spec", "parallelism").ToString());
        var args = At(job, "spec", "template", "spec", "containers", "0", "args", "0").ToString();
        Assert.Contains("rollout /runs/pipeline.yaml", args);
        Assert.Contains("--iteration 3 --shard $(JOB_COMPLETION_INDEX)/8", args);
        var learn = Manifest("learn-job.yaml", new() { ["ITERATION"] = "3", ["RUN_NAME"] = "r" });
        var command = ((YamlSequenceNode)At(learn, "spec", "template", "spec", "containers", "0", "command")).Children.Select(c => c.ToString()).ToArray();
        Assert.Equal(["tools/aspo", "learn", "/runs/pipeline.yaml", "--output", "/runs/r", "--iteration", "3"], command);
    }

    [Fact]
    public void The_slurm_script_chains_export_a_rollout_array_and_learn()
    {
        var bin = Directory.CreateTempSubdirectory("aspo-fake-sbatch-").FullName;
        try
        {
            var log = Path.Combine(bin, "calls.txt");
            // a stand-in sbatch: records its arguments and prints a job id (100, 101, 102, …)
            File.WriteAllText(Path.Combine(bin, "sbatch"), $"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {log}\nexpr 100 + $(wc -l < {log}) - 1\n");
            File.SetUnixFileMode(Path.Combine(bin, "sbatch"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var info = new ProcessStartInfo("bash", [Path.Combine(Root(), "tools", "cluster", "slurm-iteration.sh"), "p.yaml", "/cluster/run", "3", "4"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            info.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
            using var p = Process.Start(info)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, stderr);
            var calls = File.ReadAllLines(log);
            Assert.Equal(3, calls.Length);
            Assert.Contains("export --config p.yaml --output /cluster/run --iteration 3", calls[0]);
            Assert.Contains("--dependency=afterok:100 --array=0-3", calls[1]);
            Assert.Contains("rollout p.yaml --output /cluster/run --iteration 3 --shard ${SLURM_ARRAY_TASK_ID}/4", calls[1]);
            Assert.Contains("--dependency=afterok:101", calls[2]);
            Assert.Contains("learn p.yaml --output /cluster/run --iteration 3", calls[2]);
            Assert.Contains("export 100 → rollout array 101 (4 slices) → learn 102", stdout);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }
}
