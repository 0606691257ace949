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

    private static string Sha(string file) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));

    /// <summary>A replay into an existing directory resumes only a replay of the same source with the same configuration;
    /// a different loss, source, or a directory holding a run is refused, and nothing of it is rewritten.</summary>
    [Fact]
    public void Replay_into_an_existing_directory_resumes_only_the_same_replay()
    {
        var yaml = CliTests.TinyRun(_dir, "rollout: {prompts_per_iteration: 4, n: 2, max_new_tokens: 6, batch_size: 4}\nalgorithm: {mini_batch: 8, micro_batch: 4}\n");
        var (source, other, replay) = (Path.Combine(_dir, "source"), Path.Combine(_dir, "other"), Path.Combine(_dir, "replay"));
        Assert.Equal(0, Cli("run", yaml, "--output", source).ExitCode);
        Assert.Equal(0, Cli("run", yaml, "--output", other, "--set", "run.seed=9").ExitCode);
        var first = Cli("replay", source, yaml, "--output", replay, "--set", "algorithm.loss=grpo");
        Assert.True(first.ExitCode == 0, first.Stderr);
        var resolved = File.ReadAllText(Path.Combine(replay, "pipeline.resolved.yaml"));
        var weights = Sha(Path.Combine(replay, "iter-0001", "policy", "model.safetensors"));

        var otherLoss = Cli("replay", source, yaml, "--output", replay, "--set", "algorithm.loss=no_is");
        Assert.Equal(1, otherLoss.ExitCode);
        Assert.Contains($"{replay} was replayed with another configuration", otherLoss.Stderr);
        Assert.Contains("algorithm.loss was \"grpo\", now \"no_is\"", otherLoss.Stderr);
        var otherSource = Cli("replay", other, yaml, "--output", replay, "--set", "algorithm.loss=grpo");
        Assert.Equal(1, otherSource.ExitCode);
        Assert.Contains($"{replay} is a replay of {source}, not of {other}", otherSource.Stderr);
        var intoRun = Cli("replay", source, yaml, "--output", other, "--set", "algorithm.loss=grpo");
        Assert.Equal(1, intoRun.ExitCode);
        Assert.Contains($"{other} holds a run, not a replay", intoRun.Stderr);
        Assert.Equal(resolved, File.ReadAllText(Path.Combine(replay, "pipeline.resolved.yaml")));
        Assert.Equal(weights, Sha(Path.Combine(replay, "iter-0001", "policy", "model.safetensors")));

        var again = Cli("replay", source, yaml, "--output", replay, "--set", "algorithm.loss=grpo");
        Assert.True(again.ExitCode == 0, again.Stderr); // the same replay resumes (here: nothing left to learn)
        Assert.Equal(weights, Sha(Path.Combine(replay, "iter-0001", "policy", "model.safetensors")));
    }

    /// <summary>sft, export and model init refuse a folder that holds anything unless --force; the folder is untouched.</summary>
    [Fact]
    public void Commands_refuse_a_non_empty_output_folder_unless_forced()
    {
        var model = Path.Combine(_dir, "model");
        Assert.Equal(0, Cli("model", "init", "--out", model, "--hidden", "32", "--heads", "2", "--kv-heads", "1", "--layers", "1").ExitCode);
        var weights = Sha(Path.Combine(model, "model.safetensors"));
        var config = File.ReadAllText(Path.Combine(model, "config.json"));
        Assert.Equal(0, Cli("data", "synth", "--level", "L1", "--count", "4", "--out", Path.Combine(_dir, "train.jsonl")).ExitCode);
        foreach (var args in new[]
        {
            new[] { "model", "init", "--out", model },
            ["sft", "--model", model, "--data", Path.Combine(_dir, "train.jsonl"), "--out", model],
            ["export", "--model", model, "--out", model],
        })
        {
            var r = Cli(args);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"--out {model} is not empty; choose an empty or new folder, or pass --force to replace it", r.Stderr);
        }
        Assert.Equal(weights, Sha(Path.Combine(model, "model.safetensors")));
        Assert.Equal(config, File.ReadAllText(Path.Combine(model, "config.json")));
        var forced = Cli("sft", "--model", model, "--data", Path.Combine(_dir, "train.jsonl"), "--out", model, "--force", "--epochs", "1", "--batch-size", "4", "--micro-batch", "4");
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.NotEqual(weights, Sha(Path.Combine(model, "model.safetensors")));
        Assert.Empty(Directory.GetFileSystemEntries(_dir, ".*")); // no temporary folder left
    }

    /// <summary>
    /// A start that fails on bad input — corrupt weights — can be rerun corrected on the same directory; a context
    /// overflow is found before anything is written, naming the key; a run directory moved elsewhere resumes; and a
    /// changed setting is named with its old and new value.
    /// </summary>
    [Fact]
    public void Failed_starts_are_correctable_and_moved_run_directories_resume()
    {
        var yaml = CliTests.TinyRun(_dir, "rollout: {prompts_per_iteration: 4, n: 2, max_new_tokens: 6, batch_size: 4}\nalgorithm: {mini_batch: 8, micro_batch: 4}\n", iterations: 2);
        var bad = Path.Combine(_dir, "bad-model");
        Directory.CreateDirectory(bad);
        foreach (var f in Directory.GetFiles(Path.Combine(_dir, "model")))
            File.Copy(f, Path.Combine(bad, Path.GetFileName(f)));
        var weights = Path.Combine(bad, "model.safetensors");
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..(int)(new FileInfo(weights).Length / 2)]);
        var run = Path.Combine(_dir, "run");
        var corrupt = Cli("run", yaml, "--output", run, "--set", $"model.path={bad}", "--set", "run.iterations=1");
        Assert.Equal(1, corrupt.ExitCode);
        Assert.Contains("model.safetensors", corrupt.Stderr);
        var corrected = Cli("run", yaml, "--output", run, "--set", "run.iterations=1");
        Assert.True(corrected.ExitCode == 0, corrected.Stderr);

        var overflow = Cli("run", yaml, "--output", Path.Combine(_dir, "never"), "--set", "rollout.max_new_tokens=600");
        Assert.Equal(1, overflow.ExitCode);
        Assert.Matches(@"rollout\.max_new_tokens = 600 plus the longest prompt of data\.train \(\d+ tokens, row \d+\) exceeds the model's context of 512 tokens", overflow.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));

        var moved = Path.Combine(_dir, "moved", "run");
        Directory.CreateDirectory(Path.GetDirectoryName(moved)!);
        Directory.Move(run, moved);
        var resumed = Cli("run", yaml, "--output", moved);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("resuming", resumed.Stdout);
        var changed = Cli("run", yaml, "--output", moved, "--set", "algorithm.dual_clip=4", "--set", "optimizer.lr=0.5");
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains("algorithm.dual_clip was 3, now 4; optimizer.lr was 1E-06, now 0.5", changed.Stderr);
    }

    private static string ShippedModel => Path.Combine(CliProcess.RepositoryRoot, "datasets", "models", "arith-tiny-sft");
    private static string QuickSuite => Path.Combine(CliProcess.RepositoryRoot, "datasets", "suites", "arith-quick.yaml");

    /// <summary>eval's outputs are checked before the model is loaded (an unwritable --out or --metrics costs nothing), and
    /// evaluating the same suite at the same iteration into the same --metrics file replaces its row.</summary>
    [Fact]
    public void Eval_checks_its_outputs_first_and_does_not_duplicate_metric_rows()
    {
        foreach (var (option, path, expected) in new[]
        {
            ("--out", "/proc/aspo-report.json", "--out /proc/aspo-report.json: cannot be written"),
            ("--metrics", Path.Combine(_dir, "missing", "metrics.jsonl"), $"--metrics {Path.Combine(_dir, "missing", "metrics.jsonl")}: folder {Path.Combine(_dir, "missing")} does not exist"),
            ("--out", _dir, $"--out {_dir} is a folder; expected a file"),
        })
        {
            var r = Cli("eval", "--model", ShippedModel, "--suite", QuickSuite, "--limit", "2", "--n", "2", option, path);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains(expected, r.Stderr);
            Assert.DoesNotContain("model:", r.Stdout); // failed before the evaluation started
        }
        var metrics = Path.Combine(_dir, "metrics.jsonl");
        for (var i = 0; i < 2; i++)
        {
            var r = Cli("eval", "--model", ShippedModel, "--suite", QuickSuite, "--limit", "2", "--n", "2", "--metrics", metrics, "--iteration", "3");
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
        var rows = File.ReadAllLines(metrics).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Single(rows);
        Assert.Equal(3, rows[0].GetProperty("iteration").GetInt32());
    }

    /// <summary>
    /// Non-finite numbers never spread: a checkpoint holding NaN is refused naming the tensor; a learn stage whose step
    /// makes the weights or gradients non-finite stops naming the step, the tensor and optimizer.lr, writing nothing;
    /// a policy whose logits are NaN writes no shard.
    /// </summary>
    [Fact]
    public void Non_finite_weights_gradients_and_log_probs_stop_with_one_error()
    {
        var yaml = CliTests.TinyRun(_dir, "rollout: {prompts_per_iteration: 4, n: 2, max_new_tokens: 6, batch_size: 4}\nalgorithm: {mini_batch: 4, micro_batch: 4}\n");
        var diverged = Cli("run", yaml, "--output", Path.Combine(_dir, "diverged"), "--set", "optimizer.lr=1e30", "--set", "optimizer.grad_clip=0");
        Assert.Equal(1, diverged.ExitCode);
        Assert.Matches(@"^error: iteration 1 learn, optimizer step \d+ \(lr 1E\+30\): tensor [\w.]+ is no longer finite \(NaN or ∞\)|^error: iteration 1 learn, optimizer step \d+: the gradient of tensor [\w.]+ is not finite", diverged.Stderr);
        Assert.Contains("optimizer.lr (1E+30) too high", diverged.Stderr);
        Assert.DoesNotContain("   at ", diverged.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir, "diverged", "iter-0001", "policy")));

        // a checkpoint with a NaN: refused when loaded, naming the file and tensor
        var (config, parameters) = global::Aspo.Model.Checkpoint.Load(Path.Combine(_dir, "model"));
        var layout = new global::Aspo.Model.ParameterLayout(config);
        var nanModel = Path.Combine(_dir, "nan-model");
        parameters[layout["model.layers.0.mlp.up_proj.weight"].Offset + 3] = float.NaN;
        global::Aspo.Model.Checkpoint.Save(nanModel, config, parameters);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(_dir, "model", f), Path.Combine(nanModel, f));
        var load = Cli("logprobs", "--model", nanModel);
        Assert.Equal(1, load.ExitCode);
        Assert.Contains($"{Path.Combine(nanModel, "model.safetensors")}: tensor \"model.layers.0.mlp.up_proj.weight\" holds NaN at element 3: the weights are not finite", load.Stderr);

        // an exported policy that produces NaN logits: the rollout stops before a shard is written
        var run = Path.Combine(_dir, "nan-rollout");
        Assert.Equal(0, Cli("export", "--config", yaml, "--iteration", "1", "--output", run).ExitCode);
        var onnx = Path.Combine(run, "iter-0001", "onnx");
        Directory.Delete(onnx, recursive: true);
        global::Aspo.Onnx.DecoderExporter.Export(config, parameters, onnx, Path.Combine(_dir, "model"), new global::Aspo.Onnx.ExportOptions());
        var rollout = Cli("rollout", yaml, "--iteration", "1", "--output", run);
        Assert.Equal(1, rollout.ExitCode);
        Assert.Matches(@"error: iteration 1 rollout: sample [^ ]+ has a non-finite log-prob at response token \d+ .*no shard was written", rollout.Stderr);
        Assert.False(Directory.Exists(Path.Combine(run, "iter-0001", "shards")) && Directory.GetFiles(Path.Combine(run, "iter-0001", "shards"), "*.parquet").Length > 0);
    }

    private static CliProcess.Result CliWithInput(string stdin, params string[] args) => CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), stdin, args);

    private static void AssertOneLineError(CliProcess.Result r, string expected)
    {
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Unhandled exception", r.Stderr);
    }

    /// <summary>Inputs that used to end in a stack trace or run the machine out of memory: one error each.</summary>
    [Fact]
    public void Bad_stdin_sizes_and_contexts_are_one_error_each()
    {
        var tokenizer = ShippedModel;
        const string surrogate = "\"\\ud800\"";
        AssertOneLineError(CliWithInput(surrogate + "\n", "tokenize", "--tokenizer", tokenizer), "stdin line 1: a string holds an unpaired UTF-16 surrogate escape");
        AssertOneLineError(CliWithInput($"{{\"response\": {surrogate}, \"ground_truth\": \"1\"}}\n", "score", "--data-source", "arith/L1"), "unpaired UTF-16 surrogate");
        var onnx = Path.Combine(_dir, "onnx");
        Assert.Equal(0, Cli("export", "--model", ShippedModel, "--out", onnx).ExitCode);
        AssertOneLineError(CliWithInput($"{{\"prompt\": {surrogate}}}\n", "generate", "--model", onnx), "unpaired UTF-16 surrogate");

        var tooLong = "{\"tokens\": [" + string.Join(", ", Enumerable.Repeat(5, 600)) + "], \"response_start\": 1}\n";
        AssertOneLineError(CliWithInput(tooLong, "logprobs", "--model", ShippedModel), "stdin line 1: 600 tokens exceed the model's context of 512 (max_position_embeddings in config.json)");
        AssertOneLineError(CliWithInput(tooLong, "logprobs", "--model", onnx), "stdin line 1: 600 tokens exceed the model's context of 512 (context_length in genai_config.json)");
        var huge = "{\"tokens\": [" + string.Join(", ", Enumerable.Repeat(5, 300_000)) + "], \"response_start\": 1}\n";
        AssertOneLineError(CliWithInput(huge, "logprobs", "--model", ShippedModel), "stdin line 1: 300000 tokens exceed the model's context of 512");

        var many = Cli("generate", "--model", onnx, "--prompt", "1 + 1", "--n", "2000000000");
        AssertOneLineError(many, "--n 2000000000 × 1 prompt = 2,000,000,000 samples of up to 256 tokens would need about");
        Assert.Contains("at most", many.Stderr);
    }

    /// <summary>JSON-lines datasets: the line and row of a syntax error or a wrong prompt type, and "no rows" for an empty file.</summary>
    [Fact]
    public void Jsonl_dataset_problems_name_the_line_and_row()
    {
        static string Row(string prompt) => $"{{\"data_source\": \"x\", \"prompt\": {prompt}, \"reward_model\": {{\"ground_truth\": \"1\"}}}}";
        const string ok = "[{\"role\": \"user\", \"content\": \"a\"}]";
        var broken = Path.Combine(_dir, "broken.jsonl");
        File.WriteAllText(broken, Row(ok) + "\n" + Row(ok)[..^1] + "\n" + Row(ok) + "\n");
        var r = Cli("data", "validate", broken);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("row 1, column (row): line 2: not valid JSON", r.Stdout);
        Assert.DoesNotContain("LINE 1:", r.Stdout + r.Stderr); // no DuckDB SQL context
        var typed = Path.Combine(_dir, "typed.jsonl");
        File.WriteAllText(typed, Row(ok) + "\n\n" + Row("5") + "\n" + Row("\"a string\"") + "\n");
        r = Cli("data", "validate", typed);
        Assert.Contains("row 1, column prompt: line 3: is a JSON Number; expected a list of {role, content} messages or a string", r.Stdout);
        Assert.Contains("row 2, column prompt: line 4: is a string while the rows before hold lists of messages; one kind per file", r.Stdout);
        var empty = Path.Combine(_dir, "empty.jsonl");
        File.WriteAllText(empty, "\n");
        r = Cli("data", "validate", empty);
        Assert.Contains("no rows: the file is empty", r.Stdout);
    }

    /// <summary>Mistyped command lines: one line and a pointer to --help, not the whole help; eval's sampling options do not
    /// claim defaults the suite overrides.</summary>
    [Fact]
    public void Mistyped_command_lines_get_one_line_and_help_shows_no_misleading_defaults()
    {
        var frob = Cli("run", "--frob");
        Assert.Equal(1, frob.ExitCode);
        Assert.Equal("error: unknown option '--frob'\n(see: aspo run --help)", frob.Stderr.Trim().ReplaceLineEndings("\n"));
        var seed = Cli("eval", "--model", ShippedModel, "--suite", QuickSuite, "--seed", "-1");
        Assert.Equal(1, seed.ExitCode);
        Assert.Equal("error: Cannot parse argument '-1' for option '--seed' as a non-negative integer.\n(see: aspo eval --help)", seed.Stderr.Trim().ReplaceLineEndings("\n"));
        Assert.Equal("", seed.Stdout);
        var help = Cli("eval", "--help").Stdout;
        Assert.DoesNotContain("[default: 4]", help);
        Assert.DoesNotContain("[default: 0.6]", help);
        Assert.Contains("Default: the suite's; 4 with --data.", help);
    }
}
