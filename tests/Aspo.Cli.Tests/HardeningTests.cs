using System.Text.Json;

namespace Aspo.Cli.Tests;

/// <summary>What a new user's misuse must not do: lose or duplicate work, overwrite what a command did not create, or
/// end in a stack trace.</summary>
public sealed class HardeningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-cli-hard-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CliProcess.Result Cli(params string[] args) => CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), args);

    private static string[] MetricKeys(string run) =>
    [
        .. File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(r => $"{r.GetProperty("kind").GetString()}/{r.GetProperty("iteration").GetInt32()}/{r.GetProperty("step").GetInt64()}"),
    ];

    /// <summary>
    /// A second process on a run directory another one is working in — a run, a stage, a rollout slice — is refused
    /// with one line naming the directory and the holder's process id; once the holder is killed (-9) the lock is free
    /// and the run resumes, every metric row once.
    /// </summary>
    [Fact]
    public void A_second_process_on_a_busy_run_directory_is_refused_and_a_killed_holder_frees_it()
    {
        var yaml = CliTests.TinyRun(_dir, "rollout: {prompts_per_iteration: 8, n: 4, max_new_tokens: 24, batch_size: 8}\nalgorithm: {mini_batch: 16, micro_batch: 4}\n",
            iterations: 6);
        var run = Path.Combine(_dir, "run");
        using (var holder = CliProcess.Start(CliProcess.BuiltDirectory, "run", yaml, "--output", run))
        {
            Assert.True(holder.WaitForLine("iteration 1 export: done in"), holder.Stderr);
            foreach (var args in new[]
            {
                new[] { "run", yaml, "--output", run },
                ["learn", yaml, "--iteration", "1", "--output", run],
                ["rollout", yaml, "--iteration", "1", "--shard", "0/2", "--output", run],
                ["export", "--config", yaml, "--iteration", "1", "--output", run],
            })
            {
                var refused = Cli(args);
                Assert.Equal(1, refused.ExitCode);
                Assert.Equal($"error: {run} is in use by process {holder.ProcessId} (aspo run); wait for it to finish or stop it (the lock frees itself when that process ends)",
                    refused.Stderr.Trim());
            }
            holder.Kill();
        }
        var resumed = Cli("run", yaml, "--output", run);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("resuming", resumed.Stdout);
        var keys = MetricKeys(run);
        Assert.Equal(keys.Distinct().Count(), keys.Length);
        Assert.Contains("iteration/6/12", keys);
    }
}
