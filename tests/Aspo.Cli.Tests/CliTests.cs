namespace Aspo.Cli.Tests;

public sealed class CliTests
{
    private static string Help(params string[] args)
    {
        // in a child process, so the usage line shows the real executable name
        var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), args);
        Assert.Equal(0, r.ExitCode);
        return r.Stdout.ReplaceLineEndings("\n");
    }

    /// <summary>The --help texts are locked by reviewed files in Approved/: an accidental rename of a command or
    /// option breaks this test. After an intended change, review the new text and update the file.</summary>
    [Theory]
    [InlineData("root", new string[] { "--help" })]
    [InlineData("version", new[] { "version", "--help" })]
    [InlineData("check", new[] { "check", "-h" })]
    [InlineData("logprobs", new[] { "logprobs", "--help" })]
    [InlineData("tokenize", new[] { "tokenize", "--help" })]
    [InlineData("export", new[] { "export", "--help" })]
    [InlineData("generate", new[] { "generate", "--help" })]
    [InlineData("data-validate", new[] { "data", "validate", "--help" })]
    [InlineData("data-synth", new[] { "data", "synth", "--help" })]
    [InlineData("shards-query", new[] { "shards", "query", "--help" })]
    [InlineData("score", new[] { "score", "--help" })]
    [InlineData("eval", new[] { "eval", "--help" })]
    [InlineData("run", new[] { "run", "--help" })]
    [InlineData("rollout", new[] { "rollout", "--help" })]
    [InlineData("learn", new[] { "learn", "--help" })]
    [InlineData("replay", new[] { "replay", "--help" })]
    [InlineData("report", new[] { "report", "--help" })]
    [InlineData("model-init", new[] { "model", "init", "--help" })]
    [InlineData("data", new[] { "data", "--help" })]
    [InlineData("shards", new[] { "shards", "--help" })]
    [InlineData("model", new[] { "model", "--help" })]
    [InlineData("sft", new[] { "sft", "--help" })]
    public void Help_text_matches_the_approved_text(string name, string[] args)
    {
        var approved = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Approved", $"help.{name}.txt")).ReplaceLineEndings("\n");
        Assert.Equal(approved, Help(args));
    }

    [Fact]
    public void Version_prints_every_runtime_version()
    {
        var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "version");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Matches(@"(?m)^aspo \d+\.\d+\.\d+", r.Stdout);
        Assert.Matches(@"(?m)^onnxruntime\s+1\.31\.0 \(Microsoft\.ML\.OnnxRuntime 1\.31\.0; CPUExecutionProvider; /\S+/libonnxruntime\.so\)", r.Stdout);
        Assert.Matches(@"(?m)^duckdb\s+v1\.5\.\d+ \(DuckDB\.NET\.Data\.Full 1\.5\.6\.1; /\S+/libduckdb\.so\)", r.Stdout);
        Assert.Matches(@"(?m)^blas\s+OpenBLAS 0\.3\.\d+", r.Stdout);
        Assert.Matches(@"(?m)^onednn\s+oneDNN 2\.\d+\.\d+", r.Stdout);
        Assert.Matches(@"(?m)^libtorch\s+LibTorch 2\.10\.0 \(cpu build, \d+ threads; BLAS MKL 2024\.\d+; oneDNN 3\.\d+\.\d+;.*device cpu", r.Stdout);
    }

    /// <summary>
    /// The torch learner's native half is looked up in ASPO_NATIVE_DIR/torchsharp first. Absent, the error names tools/setup;
    /// present but unloadable — here TorchSharp's own libLibTorchSharp.so, which on libstdc++ older than GCC 13 lacks
    /// GLIBCXX_3.4.32 — the error is the dynamic loader's reason, not TorchSharp's misleading "doesn't contain a
    /// reference to libtorch-cpu", and nothing is copied next to the program.
    /// </summary>
    [Fact]
    public void An_unloadable_or_missing_libtorch_is_one_error_with_the_loaders_reason()
    {
        // a copy of the CLI outside the repository (no .native/ above it); ASPO_NATIVE_DIR names the only native folder
        var copy = Directory.CreateTempSubdirectory("aspo-cli-copy-").FullName;
        var folder = Directory.CreateTempSubdirectory("aspo-native-torch-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(CliProcess.BuiltDirectory))
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            string[] args = ["logprobs", "--model", Qwen3Fixture, "--learner", "torch"];
            const string input = "{\"tokens\": [1, 2, 3], \"response_start\": 1}\n";
            var env = new Dictionary<string, string?> { ["ASPO_NATIVE_DIR"] = folder };
            var before = Directory.GetFileSystemEntries(copy).Length;

            var missing = CliProcess.RunWithInput(copy, env, input, args);
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("LibTorch for the torch learner is not installed", missing.Stderr);
            Assert.Contains("Run tools/setup", missing.Stderr);
            Assert.DoesNotContain("   at ", missing.Stderr);

            // LibTorch linked as tools/setup links it, but TorchSharp's own libLibTorchSharp.so, unpatched
            var prepared = Path.Combine(CliProcess.RepositoryRoot, ".native", "torchsharp");
            Directory.CreateDirectory(Path.Combine(folder, "torchsharp"));
            foreach (var lib in Directory.GetFiles(prepared, "*.so*"))
            {
                var name = Path.GetFileName(lib);
                if (name is not ("libLibTorchSharp.so" or "libaspo_ios_base_init.so"))
                    File.CreateSymbolicLink(Path.Combine(folder, "torchsharp", name), new FileInfo(lib).ResolveLinkTarget(true)?.FullName ?? lib);
            }
            var original = Directory.GetFiles(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages", "torchsharp"),
                "libLibTorchSharp.so", SearchOption.AllDirectories).Single(f => f.Contains("linux-x64", StringComparison.Ordinal));
            File.Copy(original, Path.Combine(folder, "torchsharp", "libLibTorchSharp.so"));
            var r = CliProcess.RunWithInput(copy, env, input, args);
            var systemHasGcc13 = File.ReadAllText("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", System.Text.Encoding.Latin1).Contains("GLIBCXX_3.4.32", StringComparison.Ordinal);
            if (systemHasGcc13)
                Assert.True(r.ExitCode == 0, r.Stderr); // nothing to patch on this machine: the package's copy loads
            else
            {
                Assert.Equal(1, r.ExitCode);
                Assert.Contains("LibTorch could not be loaded from", r.Stderr);
                Assert.Contains("GLIBCXX_3.4.32", r.Stderr);
                Assert.Contains("tools/setup", r.Stderr);
                Assert.DoesNotContain("doesn't contain a reference", r.Stderr + r.Stdout);
            }
            Assert.DoesNotContain("   at ", r.Stderr);
            Assert.Equal(before, Directory.GetFileSystemEntries(copy).Length); // TorchSharp's fallback copied no cpu/ folder
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>logprobs on an HF folder through either learner: the same values within the fp32 floor.</summary>
    [Fact]
    public void Logprobs_with_the_torch_learner_match_the_native_learner()
    {
        const string input = "{\"tokens\": [5, 17, 33, 2, 90, 11], \"response_start\": 2}\n{\"tokens\": [7, 7, 7, 100], \"response_start\": 1}\n";
        var native = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), input, "logprobs", "--model", Qwen3Fixture, "--temperature", "0.7");
        var torch = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), input, "logprobs", "--model", Qwen3Fixture, "--temperature", "0.7", "--learner", "torch");
        Assert.True(native.ExitCode == 0 && torch.ExitCode == 0, native.Stderr + torch.Stderr);
        var a = native.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToArray();
        var b = torch.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(2, b.Length);
        for (var i = 0; i < 2; i++)
        {
            var x = a[i].GetProperty("logprobs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var y = b[i].GetProperty("logprobs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(x.Length, y.Length);
            Assert.True(x.Zip(y, (p, q) => Math.Abs(p - q)).Max() <= 1e-5, $"line {i}: {native.Stdout} vs {torch.Stdout}");
        }
        var cuda = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), input, "logprobs", "--model", Qwen3Fixture, "--learner", "torch", "--device", "cuda");
        Assert.Equal(1, cuda.ExitCode);
        Assert.Contains("-p:TorchBackend=cuda", cuda.Stderr);
        var bad = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), input, "logprobs", "--model", Qwen3Fixture, "--learner", "jax");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("unknown learner backend 'jax'; valid: native, torch", bad.Stderr);
    }

    [Fact]
    public void Missing_native_library_is_one_clear_error_naming_it_and_tools_setup()
    {
        // a copy of the CLI outside the repository without the native libraries the NuGet packages put next to it
        var copy = Directory.CreateTempSubdirectory("aspo-cli-copy-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(CliProcess.BuiltDirectory))
                if (Path.GetFileName(file) is not ("libonnxruntime.so" or "libduckdb.so"))
                    File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            var r = CliProcess.Run(copy, new Dictionary<string, string?>(), "version");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("onnxruntime   MISSING", r.Stdout);
            Assert.Contains("duckdb        MISSING", r.Stdout);
            Assert.Contains("error: native library libonnxruntime.so (NuGet package Microsoft.ML.OnnxRuntime 1.31.0) could not be loaded from", r.Stderr);
            Assert.Contains("error: native library libduckdb.so (NuGet package DuckDB.NET.Data.Full 1.5.6.1) could not be loaded from", r.Stderr);
            Assert.Contains("run tools/setup", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr); // no stack trace

            // a command that needs DuckDB stops with the same one line
            var data = CliProcess.Run(copy, new Dictionary<string, string?>(), "shards", "query", "SELECT 1", "--shards", copy);
            Assert.Equal(1, data.ExitCode);
            Assert.DoesNotContain("   at ", data.Stderr);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void Check_runs_a_tiny_onnx_model_parquet_and_gemm()
    {
        var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "check", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Matches(@"(?m)^onnx model\s+ok ", r.Stdout);
        Assert.Matches(@"(?m)^parquet\s+ok ", r.Stdout);
        Assert.Matches(@"(?m)^gemm\s+ok ", r.Stdout);
        Assert.Matches(@"(?m)^torch learner\s+ok\s+LibTorch 2\.10\.0 vs native", r.Stdout);
        Assert.EndsWith("all checks passed\n", r.Stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Unknown_gemm_backend_is_a_clear_error()
    {
        var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?> { ["ASPO_GEMM"] = "cublas" }, "check");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("unknown GEMM backend 'cublas'; valid backends: openblas, onednn, reference", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void Negative_thread_count_is_rejected()
    {
        var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "check", "--threads", "-2");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--threads must be 0 or more, got -2", r.Stderr);
    }

    [Fact]
    public void Unknown_command_fails()
    {
        var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "bogus");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Unrecognized command or argument 'bogus'", r.Stderr + r.Stdout);
    }

    private static string Qwen3Fixture => Path.Combine(CliProcess.BuiltDirectory, "Fixtures", "qwen3");

    [Fact]
    public void Logprobs_matches_pytorch_on_the_fixture_model()
    {
        var expected = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Qwen3Fixture, "expected.json"))).RootElement;
        var sequences = expected.GetProperty("sequences").EnumerateArray().ToArray();
        var starts = expected.GetProperty("response_starts").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var input = string.Join("\n", sequences.Select((s, i) => $"{{\"tokens\": {s.GetRawText()}, \"response_start\": {starts[i]}}}"));
        var r = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), input, "logprobs", "--model", Qwen3Fixture, "--temperature", "0.7");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(sequences.Length, lines.Length);
        var got = lines.SelectMany(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("logprobs").EnumerateArray().Select(e => e.GetDouble())).ToArray();
        var gotH = lines.SelectMany(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("entropies").EnumerateArray().Select(e => e.GetDouble())).ToArray();
        var want = expected.GetProperty("logprobs_t07").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var wantH = expected.GetProperty("entropies_t07").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(want.Length, got.Length);
        Assert.True(want.Zip(got, (a, b) => Math.Abs(a - b)).Max() <= 1e-4);
        Assert.True(wantH.Zip(gotH, (a, b) => Math.Abs(a - b)).Max() <= 1e-4);
    }

    [Theory]
    [InlineData("{\"tokens\": [1, 2, 3], \"response_start\": 0}", "stdin line 1: field \"response_start\" must be an integer in [1, 3]")]
    [InlineData("{\"tokens\": [1, 2, 500], \"response_start\": 1}", "stdin line 1: tokens[2] = 500 is not a token id in [0, 101)")]
    [InlineData("{\"tokens\": [1, 2], \"response_start\": 1}\n{\"tok\": []}", "stdin line 2: field \"tokens\" must be a non-empty array")]
    [InlineData("not json", "stdin line 1: not valid JSON")]
    public void Logprobs_rejects_bad_input_lines_before_printing_anything(string input, string expected)
    {
        var r = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), input, "logprobs", "--model", Qwen3Fixture);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Logprobs_on_a_truncated_model_is_one_clear_error()
    {
        var folder = Directory.CreateTempSubdirectory("aspo-bad-model-").FullName;
        try
        {
            File.Copy(Path.Combine(Qwen3Fixture, "config.json"), Path.Combine(folder, "config.json"));
            var weights = File.ReadAllBytes(Path.Combine(Qwen3Fixture, "model.safetensors"));
            File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), weights[..(weights.Length / 3)]);
            var r = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "", "logprobs", "--model", folder);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"error: {Path.Combine(folder, "model.safetensors")}: truncated", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Logprobs_on_a_config_that_disagrees_with_the_weights_is_one_clear_error()
    {
        var folder = Directory.CreateTempSubdirectory("aspo-bad-config-").FullName;
        try
        {
            var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Qwen3Fixture, "config.json")))!.AsObject();
            config["num_hidden_layers"] = 3; // the weights have 2 layers
            File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
            File.Copy(Path.Combine(Qwen3Fixture, "model.safetensors"), Path.Combine(folder, "model.safetensors"));
            var r = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "", "logprobs", "--model", folder);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"error: {folder}: tensor \"model.layers.2.input_layernorm.weight\" [32] is missing from the weights", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
            Assert.Equal("", r.Stdout);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string Qwen3TokenizerFolder => Aspo.Tests.Shared.TestRepository.Qwen3TokenizerFolder;

    [Fact]
    public void Tokenize_encodes_and_decodes_json_lines()
    {
        var r = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "\"Hello 𠀀abc\"\n\"<|im_start|>user\"\n",
            "tokenize", "--tokenizer", Qwen3TokenizerFolder);
        Assert.True(r.ExitCode == 0, r.Stderr);
        // ids from Hugging Face tokenizers 0.23.2 on the same tokenizer.json
        Assert.Equal(["[9707,220,172,63219,222,13683]", "[151644,872]"], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var d = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "[9707,220,172,63219,222,13683]\n",
            "tokenize", "--tokenizer", Qwen3TokenizerFolder, "--decode");
        Assert.Equal("Hello 𠀀abc", System.Text.Json.JsonSerializer.Deserialize<string>(d.Stdout.Trim()));
        var bad = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "\"ok\"\n42\n", "tokenize", "--tokenizer", Qwen3TokenizerFolder);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("stdin line 2: expected a JSON string", bad.Stderr);
        Assert.Equal("", bad.Stdout);
    }

    [Fact]
    public void Score_grades_json_lines_and_rejects_bad_input_with_nothing_printed()
    {
        var env = new Dictionary<string, string?>();
        const string input = "{\"response\": \"so \\\\boxed{0.5}\", \"ground_truth\": \"\\\\frac{1}{2}\"}\n"
                           + "{\"response\": \"\\\\boxed{1,000}\", \"ground_truth\": \"1000\"}\n";
        var r = CliProcess.RunWithInput(CliProcess.BuiltDirectory, env, input, "score", "--data-source", "lighteval/MATH");
        Assert.True(r.ExitCode == 0, r.Stderr);
        // scores from verl math_reward.compute_score (formats.md D.7); numeric: 1,000 = 1000 exactly
        Assert.Equal(["{\"score\":1,\"format\":1,\"hendrycks\":1,\"numeric\":1}", "{\"score\":0,\"format\":1,\"hendrycks\":0,\"numeric\":1}"],
            r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        (string Input, string[] Args, string Message)[] bad =
        [
            ("{\"response\": \"x\", \"ground_truth\": \"x\"}\n", ["--data-source", "nope"], "no reward for data_source 'nope'; known data sources:"),
            ("{\"response\": \"x\", \"ground_truth\": \"x\"}\n{\"response\": \"x\"}\n", ["--data-source", "lighteval/MATH"], "stdin line 2: field \"ground_truth\" must be a JSON string"),
            ("{\"response\": 3, \"ground_truth\": \"x\"}\n", ["--data-source", "lighteval/MATH"], "stdin line 1: field \"response\" must be a JSON string"),
            ("[1]\n", ["--data-source", "lighteval/MATH"], "stdin line 1: expected a JSON object"),
            ("{\"response\": \n", ["--data-source", "lighteval/MATH"], "stdin line 1: not valid JSON"),
        ];
        foreach (var (text, args, message) in bad)
        {
            var b = CliProcess.RunWithInput(CliProcess.BuiltDirectory, env, text, ["score", .. args]);
            Assert.Equal(1, b.ExitCode);
            Assert.Contains(message, b.Stderr);
            Assert.Equal("", b.Stdout);
        }
    }

    [Theory]
    [InlineData("{\"prompt\": 3}\n", "stdin line 1: field \"prompt\" must be a JSON string")]
    [InlineData("{\"prompt\": \"ok\"}\n\n[\"x\"]\n", "stdin line 3: expected {\"prompt\": \"…\"}")]
    [InlineData("{\"prompt\": \"ok\"}\n{\"prompt\":\n", "stdin line 2: not valid JSON")]
    [InlineData("\n", "no prompts: pass --prompt or JSON lines")]
    public void Generate_rejects_bad_stdin_prompts_before_loading_anything(string input, string message)
    {
        var r = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), input, "generate", "--model", "/nonexistent-model");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr); // one message, no stack trace
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Data_validate_reports_a_usable_file_and_every_problem_of_a_bad_one()
    {
        var good = Path.Combine(CliProcess.BuiltDirectory, "Fixtures", "verl_math.parquet");
        var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "data", "validate", good, "--chat-template", "qwen2.5");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("rows:        25 usable", r.Stdout);
        Assert.Contains("data_source: lighteval/MATH (13), openai/gsm8k (12)", r.Stdout);
        Assert.Contains("<|im_start|>user\nWhat is 1+1? (#0)", r.Stdout);
        Assert.Contains("problems:    none", r.Stdout);

        var dir = Directory.CreateTempSubdirectory("aspo-validate-").FullName;
        try
        {
            var bad = Path.Combine(dir, "bad.jsonl");
            File.WriteAllLines(bad, ["{\"prompt\": [{\"role\": \"user\", \"content\": \"q\"}], \"reward_model\": {\"ground_truth\": \"1\"}}",
                                     "{\"prompt\": [], \"reward_model\": {\"ground_truth\": \"1\"}}"]);
            var b = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "data", "validate", bad);
            Assert.Equal(1, b.ExitCode);
            Assert.Contains("row 1, column prompt: line 2: has no messages", b.Stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Shards_query_runs_sql_over_the_shards_view()
    {
        var dir = Directory.CreateTempSubdirectory("aspo-shards-cli-").FullName;
        try
        {
            using (var writer = new Aspo.Data.Shards.ShardWriter(dir))
            {
                writer.Append(Enumerable.Range(0, 6).Select(i => new Aspo.Data.Shards.RolloutRow
                {
                    RunId = "r", Iteration = i / 3, PolicyVersion = i / 3, PromptUid = $"p{i}", SampleIndex = 0, DataSource = "toy",
                    PromptTokenIds = [1], ResponseTokenIds = [2, 3], OldLogprobs = [-0.5f, -0.25f], ResponseText = "x", GroundTruth = "1",
                    Reward = i, FinishReason = "stop", Temperature = 1, TopP = 1, TopK = 0, Seed = (ulong)i,
                }).ToList());
                writer.WritePart(0);
            }
            var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "shards", "query",
                "SELECT iteration, avg(reward) AS mean_reward, count(*) AS n FROM shards GROUP BY 1 ORDER BY 1", "--shards", dir);
            Assert.True(r.ExitCode == 0, r.Stderr);
            var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("iteration | mean_reward | n", lines[0]);
            Assert.Equal("0         | 1.0         | 3", lines[2]);
            Assert.Equal("1         | 4.0         | 3", lines[3]);
            Assert.Equal("(2 rows, 1 shard file)", lines[4]);
            var bad = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "shards", "query", "SELECT nope FROM shards", "--shards", dir);
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains("nope", bad.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A random Qwen2-shaped model over the Qwen3 tokenizer's vocabulary: export, generate, and score with both backends.</summary>
    [Fact]
    public void Export_generate_and_logprobs_on_the_exported_folder_agree_with_the_learner()
    {
        var dir = Directory.CreateTempSubdirectory("aspo-cli-export-").FullName;
        try
        {
            var hf = Path.Combine(dir, "hf");
            Aspo.Tests.Shared.TinyQwen.SaveHfFolder(hf, seed: 1, amplitude: 0.2);
            var onnx = Path.Combine(dir, "onnx");
            var e = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "export", "--model", hf, "--out", onnx);
            Assert.True(e.ExitCode == 0, e.Stderr);
            Assert.True(File.Exists(Path.Combine(onnx, "model.onnx.data")) && File.Exists(Path.Combine(onnx, "genai_config.json")) && File.Exists(Path.Combine(onnx, "tokenizer.json")));

            var g = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "generate", "--model", onnx, "--prompt", "What is 2+2?",
                "--n", "2", "--max-new-tokens", "5", "--seed", "3");
            Assert.True(g.ExitCode == 0, g.Stderr);
            var lines = g.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToArray();
            Assert.Equal(2, lines.Length);
            var tokens = lines[0].GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            Assert.Equal(5, tokens.Length);

            // score the sampled tokens with both backends: the ONNX graph and the learner on the HF folder
            var input = $"{{\"tokens\": [151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, {string.Join(", ", tokens)}], \"response_start\": 10}}\n";
            var fromOnnx = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), input, "logprobs", "--model", onnx);
            var fromLearner = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), input, "logprobs", "--model", hf);
            Assert.True(fromOnnx.ExitCode == 0 && fromLearner.ExitCode == 0, fromOnnx.Stderr + fromLearner.Stderr);
            double[] Read(string s) => System.Text.Json.JsonDocument.Parse(s).RootElement.GetProperty("logprobs").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var a = Read(fromOnnx.Stdout);
            var b = Read(fromLearner.Stdout);
            Assert.Equal(5, a.Length);
            Assert.True(a.Zip(b, (x, y) => Math.Abs(x - y)).Max() <= 1e-4, "ONNX and learner log-probs differ");

            // eval on a question/answer JSONL file: a table on stdout and the same figures as JSON
            var questions = Path.Combine(dir, "q.jsonl");
            File.WriteAllLines(questions, ["{\"question\": \"1+1?\", \"answer\": \"2\"}", "{\"question\": \"2+2?\", \"answer\": \"4\"}", "{\"question\": \"3+3?\", \"answer\": \"6\"}"]);
            var report = Path.Combine(dir, "report.json");
            string[] evalArgs = ["eval", "--model", onnx, "--data", questions, "--prompt-column", "question", "--answer-column", "answer",
                                 "--data-source", "lighteval/MATH", "--n", "2", "--max-new-tokens", "4"];
            var ev = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), [.. evalArgs, "--out", report]);
            Assert.True(ev.ExitCode == 0, ev.Stderr);
            var table = ev.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("suite q.jsonl: 3 prompts × 2 samples, temperature 0.6000, top-p 0.9500", table[1]);
            Assert.Matches(@"^data_source\s+prompts\s+avg@2\s+pass@1\s+pass@2\s+maj@2\s+score\s+length\s+trunc$", table[2]);
            // avg@n and pass@k as percentages, maj@k (or n/a), mean score, mean length, truncation rate
            static string Figures(int percents) => @"(\s+\d+\.\d%){" + percents + @"}\s+(\d+\.\d%|n/a)\s+-?\d\.\d{4}\s+\d+\.\d\s+\d+\.\d%\r?$";
            Assert.Matches(@"^lighteval/MATH\s+3" + Figures(3), table[3]);
            Assert.Matches(@"^all\s+3" + Figures(3), table[4]);
            Assert.Contains("pass@k = 1 − C(n−c, k) / C(n, k)", table[5]);
            var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(report)).RootElement;
            var all = json.GetProperty("suites")[0].GetProperty("summaries")[1];
            Assert.Equal("all", all.GetProperty("data_source").GetString());
            Assert.Equal(6, all.GetProperty("samples").GetInt32());
            Assert.Equal(["1", "2"], all.GetProperty("pass_at_k").EnumerateObject().Select(p => p.Name));
            Assert.Contains((100 * all.GetProperty("avg_at_n").GetDouble()).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "%", table[4]);
            // with max 4 new tokens every response without EOS is cut: the truncation rate is what the rows say
            Assert.InRange(all.GetProperty("truncation_rate").GetDouble(), 0, 1);
            Assert.InRange(all.GetProperty("mean_response_length").GetDouble(), 1, 4);

            // the shipped synthetic suite, on the HF folder (exported on the fly), metrics appended to a run's metrics.jsonl
            var metrics = Path.Combine(dir, "metrics.jsonl");
            var exportsBefore = Directory.GetDirectories(Path.GetTempPath(), "aspo-eval-onnx-*").Length;
            File.WriteAllText(metrics, "{\"kind\": \"earlier\"}\n");
            var suite = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "eval", "--model", hf, "--suite",
                Path.Combine(CliProcess.RepositoryRoot, "datasets", "suites", "arith-quick.yaml"), "--limit", "3", "--max-new-tokens", "8",
                "--metrics", metrics, "--iteration", "7");
            Assert.True(suite.ExitCode == 0, suite.Stderr);
            Assert.Contains("(exported to ONNX for this evaluation)", suite.Stdout);
            Assert.Contains("suite arith-quick: 6 prompts × 4 samples, temperature 0.6000, top-p 0.9500, ≤ 8 new tokens, seed 1", suite.Stdout);
            Assert.Matches(@"(?m)^arith/L2\s+3" + Figures(4), suite.Stdout);
            Assert.Matches(@"(?m)^arith/L3\s+3" + Figures(4), suite.Stdout);
            var rows = File.ReadAllLines(metrics);
            Assert.Equal(2, rows.Length);
            var row = System.Text.Json.JsonDocument.Parse(rows[1]).RootElement;
            Assert.Equal("eval", row.GetProperty("kind").GetString());
            Assert.Equal(7, row.GetProperty("iteration").GetInt32());
            Assert.Equal("arith-quick", row.GetProperty("suite").GetString());
            foreach (var name in new[] { "val-core/arith/L2/acc/mean@4", "val-core/arith/L3/acc/pass@4", "val-core/all/acc/pass@1", "val-aux/all/response_length/clip_ratio" })
                Assert.InRange(row.GetProperty("data").GetProperty(name).GetDouble(), 0, 1);
            Assert.Equal(exportsBefore, Directory.GetDirectories(Path.GetTempPath(), "aspo-eval-onnx-*").Length); // the temporary export is removed

            // the soft verifier: P(YES) of the exported model, per line, with its components
            var soft = CliProcess.RunWithInput(CliProcess.BuiltDirectory, new Dictionary<string, string?>(),
                "{\"question\": \"1+1?\", \"response\": \"2\", \"ground_truth\": \"2\"}\n{\"response\": \"3\", \"ground_truth\": \"2\"}\n",
                "score", "--data-source", "general", "--verifier", onnx, "--verifier-normalize");
            Assert.True(soft.ExitCode == 0, soft.Stderr);
            var verdicts = soft.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToArray();
            Assert.Equal(2, verdicts.Length);
            foreach (var v in verdicts)
            {
                var (yes, no) = (v.GetProperty("p_yes").GetDouble(), v.GetProperty("p_no").GetDouble());
                Assert.Equal(yes / (yes + no), v.GetProperty("score").GetDouble(), 1e-9);
            }

            // bad input: one message, exit 1, no report
            string[] With(string option, string value) => [.. evalArgs.Select((x, i) => i > 0 && evalArgs[i - 1] == option ? value : x)];
            (string[] Args, string Message)[] badEval =
            [
                ([.. With("--n", "0"), "--out", Path.Combine(dir, "bad.json")], "samples per prompt must be at least 1, got 0"),
                ([.. evalArgs, "--out", Path.Combine(dir, "missing", "r.json")], "folder " + Path.Combine(dir, "missing") + " does not exist"),
                ([.. evalArgs, "--suite", Path.Combine(CliProcess.RepositoryRoot, "datasets", "suites", "arith.yaml"), "--out", Path.Combine(dir, "bad.json")], "give either --suite"),
                (["eval", "--model", onnx, "--suite", Path.Combine(CliProcess.RepositoryRoot, "datasets", "suites", "aime24.yaml"), "--out", Path.Combine(dir, "bad.json")], "download aime24"),
                ([.. With("--data-source", "nope"), "--out", Path.Combine(dir, "bad.json")], "no reward for data_source 'nope'; known data sources:"),
                ([.. With("--data", Path.Combine(dir, "absent.jsonl")), "--out", Path.Combine(dir, "bad.json")], "dataset file not found"),
            ];
            foreach (var (args, message) in badEval)
            {
                var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), args);
                Assert.Equal(1, r.ExitCode);
                Assert.Contains(message, r.Stderr);
                Assert.False(File.Exists(Path.Combine(dir, "bad.json")));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>`aspo run` on bad settings: one message naming the key or file, exit 1, no run directory created.</summary>
    [Fact]
    public void Run_rejects_bad_settings_before_writing_anything()
    {
        var dir = Directory.CreateTempSubdirectory("aspo-cli-run-").FullName;
        try
        {
            var pipeline = Path.Combine(CliProcess.RepositoryRoot, "pipeline.yaml");
            var output = Path.Combine(dir, "run");
            (string[] Args, string Message)[] cases =
            [
                (["run", pipeline, "--output", output, "--set", "model.path=absent-model"], "absent-model has no config.json (expected an HF model folder"),
                (["run", pipeline, "--output", output, "--set", "rollout.temprature=0.7"], "--set rollout.temprature=0.7: unknown key 'rollout.temprature'; known keys of rollout:"),
                (["run", pipeline, "--output", output, "--set", "algorithm.mini_batch=100"], "algorithm.mini_batch (100) must divide rollout.prompts_per_iteration × rollout.n = 64 × 8 = 512 sequences"),
                (["run", Path.Combine(dir, "absent.yaml")], "absent.yaml: file not found"),
            ];
            foreach (var (args, message) in cases)
            {
                var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), args);
                Assert.Equal(1, r.ExitCode);
                Assert.Contains(message, r.Stderr);
                Assert.DoesNotContain("   at ", r.Stderr); // no stack trace
                Assert.False(Directory.Exists(output));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>`data synth --answer-only`: the same problems as without it, about that share with the bare answer as the
    /// SFT target (marked in extra_info.style), the rest worked; a share outside [0, 1] is refused and writes nothing.</summary>
    [Fact]
    public void Synth_mixes_answer_only_solutions_into_the_same_problems()
    {
        var dir = Directory.CreateTempSubdirectory("aspo-cli-synth-").FullName;
        try
        {
            string Synth(string name, params string[] extra)
            {
                var path = Path.Combine(dir, name);
                var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(),
                    ["data", "synth", "--level", "L2,L3", "--count", "200", "--out", path, .. extra]);
                Assert.True(r.ExitCode == 0, r.Stderr);
                return path;
            }
            var worked = global::Aspo.Data.PromptDataset.Load(Synth("worked.parquet"));
            var mixed = global::Aspo.Data.PromptDataset.Load(Synth("mixed.parquet", "--answer-only", "0.4"));
            Assert.Equal(worked.Select(r => r.Prompt[0].Content), mixed.Select(r => r.Prompt[0].Content));
            var terse = 0;
            for (var i = 0; i < mixed.Count; i++)
            {
                var info = System.Text.Json.Nodes.JsonNode.Parse(mixed[i].ExtraInfoJson)!;
                var solution = info["solution"]!.GetValue<string>();
                var workedInfo = System.Text.Json.Nodes.JsonNode.Parse(worked[i].ExtraInfoJson)!;
                var workedSolution = workedInfo["solution"]!.GetValue<string>();
                Assert.Null(workedInfo["style"]); // no mix, no style field: such files are as before the option
                if (info["style"]!.GetValue<string>() == "answer-only")
                {
                    terse++;
                    Assert.Equal($"The answer is \\boxed{{{mixed[i].GroundTruth}}}.", solution);
                }
                else
                {
                    Assert.Equal("worked", info["style"]!.GetValue<string>());
                    Assert.Equal(workedSolution, solution);
                }
                Assert.EndsWith(solution.Split('\n')[^1], workedSolution); // both end with the same boxed answer line
            }
            Assert.InRange(terse, 400 * 0.4 - 40, 400 * 0.4 + 40); // binomial sd ≈ 10

            var bad = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(),
                "data", "synth", "--level", "L1", "--out", Path.Combine(dir, "bad.parquet"), "--answer-only", "1.5");
            Assert.NotEqual(0, bad.ExitCode);
            Assert.Contains("--answer-only must be a share between 0 and 1, got 1.5", bad.Stderr);
            Assert.False(File.Exists(Path.Combine(dir, "bad.parquet")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A tiny random Qwen2 over the Qwen3 tokenizer, 16 synthetic L1 problems and a pipeline file (run: 1 iteration, 1 thread) plus <paramref name="extra"/>.</summary>
    internal static string TinyRun(string dir, string extra, int iterations = 1)
    {
        Aspo.Tests.Shared.TinyQwen.SaveHfFolder(Path.Combine(dir, "model"), seed: 5);
        var synth = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "data", "synth", "--level", "L1", "--count", "16",
            "--out", Path.Combine(dir, "train.parquet"));
        Assert.True(synth.ExitCode == 0, synth.Stderr);
        var yaml = Path.Combine(dir, "pipeline.yaml");
        File.WriteAllText(yaml, $"run: {{name: s, iterations: {iterations}, threads: 1}}\nmodel: {{path: model}}\ndata: {{train: train.parquet}}\n" + extra);
        return yaml;
    }

    /// <summary>
    /// The stages as separate processes, as a cluster runs them: export, then 4 rollout slices in parallel processes,
    /// then learn over all slices. The 4 slices hold exactly the rows of a 1-slice rollout of the same iteration.
    /// </summary>
    [Fact]
    public async Task Stage_commands_run_alone_and_4_rollout_slices_equal_one()
    {
        var dir = Directory.CreateTempSubdirectory("aspo-cli-stages-").FullName;
        try
        {
            var yaml = TinyRun(dir, "rollout: {prompts_per_iteration: 8, n: 2, max_new_tokens: 6, batch_size: 4}\nalgorithm: {mini_batch: 8, micro_batch: 4}\n");
            CliProcess.Result Cli(params string[] args) => CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), args);
            foreach (var output in new[] { "one", "four" })
            {
                var e = Cli("export", "--config", yaml, "--iteration", "1", "--output", Path.Combine(dir, output));
                Assert.True(e.ExitCode == 0, e.Stderr);
            }
            var one = Cli("rollout", yaml, "--iteration", "1", "--output", Path.Combine(dir, "one"));
            Assert.True(one.ExitCode == 0, one.Stderr);
            var slices = Enumerable.Range(0, 4).Select(k => Task.Run(() => Cli("rollout", yaml, "--iteration", "1", "--shard", $"{k}/4", "--output", Path.Combine(dir, "four")))).ToArray();
            foreach (var r in await Task.WhenAll(slices))
                Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(4, Directory.GetFiles(Path.Combine(dir, "four", "iter-0001", "shards"), "part-*.parquet").Length);

            // the same rows, whatever the slicing: compare every column DuckDB can compare
            string[] Rows(string run)
            {
                var q = Cli("shards", "query", "SELECT prompt_uid, sample_index, response_token_ids, old_logprobs, reward, seed FROM shards ORDER BY prompt_uid, sample_index",
                    "--shards", Path.Combine(dir, run, "iter-0001", "shards"));
                Assert.True(q.ExitCode == 0, q.Stderr);
                var lines = q.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                return lines[2..^1]; // between the header (+ rule) and the "(N rows, M shard files)" footer
            }
            var expected = Rows("one");
            Assert.Equal(16, expected.Length); // 8 prompts × 2 samples
            Assert.Equal(expected, Rows("four"));

            // learn reads all four slices and writes policy 1 and the state
            var learn = Cli("learn", yaml, "--iteration", "1", "--output", Path.Combine(dir, "four"));
            Assert.True(learn.ExitCode == 0, learn.Stderr);
            Assert.True(File.Exists(Path.Combine(dir, "four", "iter-0001", "policy", "model.safetensors")));
            Assert.Contains("\"stage\":\"learn\"", File.ReadAllText(Path.Combine(dir, "four", "state.json")));
            // a slice out of range, or learn with a slice missing, is one clear error
            Assert.Contains("--shard 4/4: expected k/N", Cli("rollout", yaml, "--iteration", "1", "--shard", "4/4", "--output", Path.Combine(dir, "four")).Stderr);
            File.Delete(Path.Combine(dir, "one", "iter-0001", "shards", "part-00000.parquet"));
            Cli("rollout", yaml, "--iteration", "1", "--shard", "0/2", "--output", Path.Combine(dir, "one"));
            var partial = Cli("learn", yaml, "--iteration", "1", "--output", Path.Combine(dir, "one"));
            Assert.Equal(1, partial.ExitCode);
            Assert.Contains("8 rollout rows in 1 part(s), expected 16 (prompts_per_iteration × n); is a rollout shard missing?", partial.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Kill -9 at random moments of every stage, resume each time: the final checkpoint and optimizer state are
    /// bit-identical to an uninterrupted run's, and at every kill point every file under its final name is whole.
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData(", advantage: gae, loss: ppo")]   // PPO with the value head: its file is written with the policy and resumes too
    [InlineData(", loss: dpo")]
    [InlineData(", advantage: spo_chain, loss: ppo, spo_continuations: 2")]   // continuation rows in the shards
    [InlineData(", advantage: spo_tree, loss: ppo, spo_tree_branching: [2], spo_tree_segment: 4")]
    public void A_run_killed_at_random_points_resumes_to_the_same_bits(string method)
    {
        var dir = Directory.CreateTempSubdirectory("aspo-cli-kill-").FullName;
        try
        {
            var yaml = TinyRun(dir, $"rollout: {{prompts_per_iteration: 8, n: 4, max_new_tokens: 12, batch_size: 8}}\nalgorithm: {{mini_batch: 16, micro_batch: 4{method}}}\noptimizer: {{lr: 0.01}}\n",
                iterations: 4);
            var whole = Path.Combine(dir, "whole");
            Assert.False(CliProcess.RunAndKill(CliProcess.BuiltDirectory, "never printed", 0, TimeSpan.FromMinutes(3), "run", yaml, "--output", whole));
            var killed = Path.Combine(dir, "killed");
            var rng = new Random(11);
            var kills = 0;
            var stagesHit = new HashSet<string>();
            for (var attempt = 0; attempt < 100; attempt++)
            {
                // a kill point inside a stage: 0–400 ms after the process finished its 0th or 1st stage (each stage
                // prints "…: done in"), so kills land in every stage and the run still advances
                var stagesFirst = rng.Next(0, 2);
                var delay = TimeSpan.FromMilliseconds(rng.Next(0, 400));
                if (!CliProcess.RunAndKill(CliProcess.BuiltDirectory, ": done in", stagesFirst, delay, "run", yaml, "--output", killed))
                    break;
                kills++;
                AssertWholeFiles(killed);
                stagesHit.Add(File.Exists(Path.Combine(killed, "state.json")) ? File.ReadAllText(Path.Combine(killed, "state.json")) : "(none)");
            }
            Assert.True(kills >= 10, $"only {kills} kills happened before the run completed");
            Assert.True(stagesHit.Count >= 4, $"kills landed after only {stagesHit.Count} distinct stages: {string.Join(", ", stagesHit)}");
            Assert.Contains("\"iteration\":4", File.ReadAllText(Path.Combine(killed, "state.json")));
            foreach (var file in new[] { "model.safetensors", "optimizer.safetensors", "trainer_state.json" }.Concat(method.Contains("gae") ? ["value_head.safetensors"] : []))
                Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "iter-0004", "policy", file)), File.ReadAllBytes(Path.Combine(killed, "iter-0004", "policy", file)));
            // every metric row once, despite the redone stages
            static string[] Keys(string run) => [.. File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
                .Select(r => $"{r.GetProperty("kind").GetString()}/{r.GetProperty("iteration").GetInt32()}/{r.GetProperty("step").GetInt64()}").Order()];
            Assert.Equal(Keys(whole), Keys(killed));
            // the last (completing) run removed what killed processes left under temporary names
            Assert.Empty(Directory.EnumerateFileSystemEntries(killed, "*.tmp*", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Everything under a final name in a run directory is complete: shards read, checkpoints load, JSON parses.</summary>
    private static void AssertWholeFiles(string run)
    {
        if (!Directory.Exists(run))
            return; // killed before it created anything
        foreach (var file in Directory.EnumerateFiles(run, "*", SearchOption.AllDirectories))
        {
            var parts = Path.GetRelativePath(run, file).Split(Path.DirectorySeparatorChar);
            if (parts.Any(p => p.EndsWith(".tmp", StringComparison.Ordinal) || p.StartsWith('.')))
                continue; // temporary names: allowed to be partial
            switch (Path.GetExtension(file))
            {
                case ".parquet":
                    using (var reader = new global::Aspo.Data.Shards.ShardReader(file))
                        Assert.True(reader.ReadBatches().Sum(b => b.Count) > 0, file);
                    break;
                case ".safetensors":
                    if (Path.GetFileName(file) == "model.safetensors")
                        global::Aspo.Model.Checkpoint.Load(Path.GetDirectoryName(file)!);
                    else
                        using (var st = new global::Aspo.Model.SafeTensorsReader(file))
                            Assert.NotNull(st);
                    break;
                case ".json":
                    System.Text.Json.JsonDocument.Parse(File.ReadAllText(file)).Dispose();
                    break;
                case ".jsonl":
                    foreach (var line in File.ReadAllLines(file))
                        System.Text.Json.JsonDocument.Parse(line).Dispose();
                    break;
            }
        }
    }

    /// <summary>The README's first command, shortened: `aspo run pipeline.yaml` on the shipped default (the SFT-warmed
    /// arithmetic model and its data), 2 iterations with a tiny batch. Learning itself is measured by the comparison
    /// script (README); this checks the whole loop runs from the shipped files: parameters move, every metric is finite,
    /// shards, exports and checkpoints are written, and the closing held-out line is printed.</summary>
    [Fact]
    public void The_shipped_pipeline_runs_two_small_iterations_end_to_end()
    {
        var dir = Directory.CreateTempSubdirectory("aspo-cli-default-").FullName;
        try
        {
            var runDir = Path.Combine(dir, "run");
            var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "run", Path.Combine(CliProcess.RepositoryRoot, "pipeline.yaml"),
                "--output", runDir, "--set", "run.iterations=2", "--set", "rollout.prompts_per_iteration=8", "--set", "algorithm.mini_batch=32",
                "--set", "algorithm.micro_batch=16", "--set", "eval.every=2", "--set", "eval.limit=5", "--set", "eval.n=4");
            Assert.True(r.ExitCode == 0, r.Stderr);
            foreach (var i in new[] { 1, 2 })
            {
                Assert.Matches($@"(?m)^iteration {i} rollout: 64 samples, score \d\.\d{{3}}, length \d+\.\d, \d+ tokens/s", r.Stdout);
                Assert.Matches($@"(?m)^iteration {i} learn: 2 steps, loss -?\d\.\d{{4}}, entropy \d+\.\d{{3}}, clipfrac \d\.\d{{3}}", r.Stdout);
                var iteration = Path.Combine(runDir, $"iter-{i:D4}");
                Assert.True(File.Exists(Path.Combine(iteration, "shards", "part-00000.parquet")), $"iteration {i} shard");
                Assert.True(File.Exists(Path.Combine(iteration, "onnx", "model.onnx")), $"iteration {i} export");
                Assert.True(File.Exists(Path.Combine(iteration, "policy", "model.safetensors")), $"iteration {i} checkpoint");
                Assert.True(File.Exists(Path.Combine(iteration, "policy", "optimizer.safetensors")), $"iteration {i} optimizer state");
            }
            Assert.Contains("suite arith-l123: 15 prompts × 4 samples", r.Stdout);
            Assert.Contains("run default complete: iteration 2, last stage eval", r.Stdout);
            // the issue's closing line is the last one
            Assert.Matches(@"^held-out avg@4: \d+\.\d% -> \d+\.\d% \([+-]\d+\.\d points\)$", r.Stdout.TrimEnd().Split('\n')[^1].TrimEnd('\r'));

            var start = global::Aspo.Model.Checkpoint.Load(Path.Combine(CliProcess.RepositoryRoot, "datasets", "models", "arith-tiny-sft")).Parameters;
            var end = global::Aspo.Model.Checkpoint.Load(Path.Combine(runDir, "iter-0002", "policy")).Parameters;
            Assert.Equal(start.Length, end.Length);
            Assert.True(start.Zip(end, (a, b) => Math.Abs(a - b)).Max() > 1e-6, "the parameters did not change");

            var rows = File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl")).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!.AsObject()).ToList();
            Assert.Equal(2, rows.Count(row => row["kind"]!.GetValue<string>() == "iteration"));
            // the start and iteration 2, each on both shipped suites (the headline L1–L3 one and the harder L4–L5 one)
            var evals = rows.Where(row => row["kind"]!.GetValue<string>() == "eval").Select(row => (row["iteration"]!.GetValue<int>(), row["suite"]!.GetValue<string>()));
            Assert.Equal([(0, "arith-l123"), (0, "arith-hard"), (2, "arith-l123"), (2, "arith-hard")], evals);
            foreach (var row in rows)
                foreach (var (name, value) in row["data"]!.AsObject())
                    Assert.True(double.IsFinite(value!.GetValue<double>()), $"{name} = {value} in {row.ToJsonString()}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
