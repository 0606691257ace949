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
    public void Help_text_matches_the_approved_text(string name, string[] args)
    {
        var approved = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Approved", $"help.{name}.txt")).ReplaceLineEndings("\n");
        Assert.Equal(approved, Help(args));
    }

    [Fact]
    public void Version_prints_the_three_runtime_versions()
    {
        var r = CliProcess.Run(CliProcess.BuiltDirectory, new Dictionary<string, string?>(), "version");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Matches(@"(?m)^aspo \d+\.\d+\.\d+", r.Stdout);
        Assert.Matches(@"(?m)^onnxruntime\s+1\.30\.0 ", r.Stdout);
        Assert.Matches(@"(?m)^duckdb\s+v1\.5\.6 ", r.Stdout);
        Assert.Matches(@"(?m)^blas\s+OpenBLAS 0\.3\.\d+", r.Stdout);
        Assert.Matches(@"(?m)^onednn\s+oneDNN 2\.\d+\.\d+", r.Stdout);
    }

    [Fact]
    public void Missing_native_library_is_one_clear_error_naming_it_and_tools_setup()
    {
        // a copy of the CLI outside the repository (so no .native/ above it) with ASPO_NATIVE_DIR at an empty folder
        var copy = Directory.CreateTempSubdirectory("aspo-cli-copy-").FullName;
        var empty = Directory.CreateTempSubdirectory("aspo-native-empty-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(CliProcess.BuiltDirectory))
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            var r = CliProcess.Run(copy, new Dictionary<string, string?> { ["ASPO_NATIVE_DIR"] = empty }, "version");
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("onnxruntime   MISSING", r.Stdout);
            Assert.Contains("duckdb        MISSING", r.Stdout);
            Assert.Contains("error: native library libonnxruntime.so.1 (ONNX Runtime 1.30.0) was not found", r.Stderr);
            Assert.Contains($"ASPO_NATIVE_DIR {empty}: no such file", r.Stderr);
            Assert.Contains("Run tools/setup", r.Stderr);
            Assert.Contains("libduckdb.so", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr); // no stack trace
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
            Directory.Delete(empty, recursive: true);
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
}
