using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Aspo.Rewards.Code;

namespace Aspo.Rewards.Tests;

/// <summary>
/// The code sandbox against hostile programs. Each test states what the program tries and checks, from the host, that
/// nothing of it got out: no file written outside, no connection made, no process left, the run stopped within its limits.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CodeSandboxTests
{
    // generous wall and CPU limits: a loaded machine must not turn a correct or a memory-bound run into TimeLimit; the
    // tests of the time limit set their own
    private static readonly SandboxLimits Fast = new() { TimeLimitSeconds = 20, MaxOutputBytes = 1 << 20 };
    private readonly PythonSandbox _sandbox = new();

    private static string Fenced(string program) => "Here is my solution:\n```python\n" + program + "\n```\nDone.";

    [Fact]
    public void A_correct_program_passes_every_test_and_a_partly_wrong_one_gets_the_fraction()
    {
        var truth = """{"inputs": ["1 2\n", "10 -3\n", "5 5\n"], "outputs": ["3\n", "7\n", "10\n"]}""";
        var reward = new CodeReward(_sandbox, Fast, 2);
        var right = reward.Score(Fenced("a, b = map(int, input().split())\nprint(a + b)"), truth);
        Assert.Equal(1.0, right.Score);
        Assert.Equal(1.0, right.Components["acc"]);
        // wrong on negative numbers only: 2 of 3
        var partial = reward.Score(Fenced("a, b = map(int, input().split())\nprint(abs(a) + abs(b))"), truth);
        Assert.Equal(2.0 / 3.0, partial.Score, 12);
        Assert.Equal(0.0, partial.Components["acc"]);
        Assert.Equal(3.0, partial.Components["tests"]);
    }

    [Fact]
    public void The_livecodebench_test_layout_is_read_and_if_main_programs_run()
    {
        var truth = """[{"input": "3\n", "output": "6", "testtype": "stdin"}, {"input": "0\n", "output": "0", "testtype": "stdin"}]""";
        var program = "def main():\n    n = int(input())\n    print(n * 2)\n\nif __name__ == '__main__':\n    main()";
        Assert.Equal(1.0, new CodeReward(_sandbox, Fast, 2).Score(Fenced(program), truth).Score);
    }

    [Fact]
    public void No_fenced_code_scores_zero_with_code_found_zero()
    {
        var r = new CodeReward(_sandbox, Fast, 1).Score("print(1)", """{"inputs": ["\n"], "outputs": ["1\n"]}""");
        Assert.Equal(0.0, r.Score);
        Assert.Equal(0.0, r.Components["code_found"]);
    }

    [Fact]
    public void Extraction_takes_the_text_between_the_last_two_fence_lines()
    {
        Assert.Equal("b = 2", CodeReward.ExtractCode("```\na = 1\n```\ntext\n```py\nb = 2\n```"));
        Assert.Null(CodeReward.ExtractCode("```python\nunterminated"));
        Assert.Equal("", CodeReward.ExtractCode("```\n```"));
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("""{"inputs": ["1"]}""", "\"inputs\"/\"outputs\"")]
    [InlineData("""{"inputs": ["1"], "outputs": []}""", "1 inputs but 0 outputs")]
    [InlineData("""{"inputs": [1], "outputs": ["1"]}""", "\"inputs\" holds a JSON Number")]
    [InlineData("""{"inputs": [], "outputs": [], "fn_name": "f"}""", "call-based")]
    [InlineData("""[{"input": "1", "output": "1", "testtype": "functional"}]""", "\"functional\" test")]
    [InlineData("""[]""", "no test cases")]
    [InlineData("""42""", "JSON Number")]
    public void A_malformed_ground_truth_is_one_clear_error(string truth, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => CodeReward.ParseTests(truth));
        Assert.Contains("ground_truth of a code task", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void An_infinite_loop_is_stopped_at_the_time_limit()
    {
        var r = _sandbox.Run("while True:\n    pass", "", Fast with { TimeLimitSeconds = 1 });
        Assert.Equal(SandboxStatus.TimeLimit, r.Status);
        Assert.InRange(r.WallSeconds, 0.9, 15); // the upper bound only catches a run that was never stopped
    }

    [Fact]
    public void A_sleeping_program_is_stopped_at_the_wall_clock_limit()
    {
        var r = _sandbox.Run("import time\ntime.sleep(3600)", "", Fast with { TimeLimitSeconds = 1 });
        Assert.Equal(SandboxStatus.TimeLimit, r.Status);
        Assert.InRange(r.WallSeconds, 0.9, 15); // the upper bound only catches a run that was never stopped
    }

    [Fact]
    public void A_fork_bomb_is_contained_and_leaves_no_process_behind()
    {
        var program = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass";
        var r = _sandbox.Run(program, "", Fast with { TimeLimitSeconds = 2, MaxProcesses = 16 });
        Assert.Equal(SandboxStatus.TimeLimit, r.Status);
        Assert.InRange(r.WallSeconds, 1.5, 15);
        // every sandbox uid is ≥ 1.5e9; give the kernel a moment to reap the namespace
        var deadline = Stopwatch.StartNew();
        while (SandboxProcesses() > 0 && deadline.Elapsed < TimeSpan.FromSeconds(30))
            Thread.Sleep(50);
        Assert.Equal(0, SandboxProcesses());
    }

    [Fact]
    public void Huge_output_is_cut_at_the_cap_and_fails()
    {
        var r = _sandbox.Run("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", "", Fast);
        Assert.Equal(SandboxStatus.OutputLimit, r.Status);
        Assert.True(r.Stdout.Length <= Fast.MaxOutputBytes);
        Assert.InRange(r.WallSeconds, 0, 15);
    }

    [Fact]
    public void A_huge_file_is_stopped_by_the_file_size_limit()
    {
        var r = _sandbox.Run("f = open('big', 'wb')\nwhile True:\n    f.write(b'x' * 1048576)", "", Fast with { MaxFileBytes = 4 << 20 });
        Assert.Equal(SandboxStatus.RuntimeError, r.Status);
    }

    [Fact]
    public void A_memory_bomb_fails_without_hurting_the_host()
    {
        var r = _sandbox.Run("x = []\nwhile True:\n    x.append(bytearray(1 << 26))", "", Fast with { MemoryBytes = 256L << 20 });
        Assert.Equal(SandboxStatus.RuntimeError, r.Status);
        Assert.Contains("MemoryError", r.StderrHead);
    }

    [Fact]
    public void Writes_outside_the_sandbox_do_not_reach_the_host()
    {
        var marker = "aspo-escape-" + Guid.NewGuid().ToString("N");
        var hostDir = Directory.CreateTempSubdirectory("aspo-sandbox-target-");
        File.SetUnixFileMode(hostDir.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        try
        {
            var targets = new[] { "/tmp", "/var/tmp", "/dev/shm", hostDir.FullName, AppContext.BaseDirectory, "/root", "/etc" }
                .Select(d => Path.Combine(d, marker)).ToArray();
            var program = "import sys\nfor p in sys.argv[1:] or " + PythonList(targets) + ":\n"
                          + "    try:\n        open(p, 'w').write('escaped')\n        print('wrote', p)\n"
                          + "    except OSError as e:\n        print('blocked', p, type(e).__name__)\n";
            var r = _sandbox.Run(program, "", Fast);
            Assert.Equal(SandboxStatus.Exited, r.Status);
            foreach (var target in targets)
                Assert.False(File.Exists(target), $"the sandboxed program wrote {target} on the host; its output: {r.Stdout}");
            // inside, its own /tmp is writable (and private): the run is not vacuous
            Assert.Contains($"wrote /tmp/{marker}", r.Stdout);
        }
        finally
        {
            hostDir.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_network_is_unreachable_even_to_the_hosts_loopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var program = "import socket\ntry:\n    socket.create_connection(('127.0.0.1', " + port + "), timeout=1)\n    print('connected')\n"
                      + "except OSError as e:\n    print('blocked', e)";
        var r = _sandbox.Run(program, "", Fast);
        Assert.Equal(SandboxStatus.Exited, r.Status);
        Assert.StartsWith("blocked", r.Stdout);
        Assert.False(listener.Pending());
    }

    [Fact]
    public void Host_processes_are_invisible_and_cannot_be_signalled()
    {
        var program = "import os, signal\npids = [p for p in os.listdir('/proc') if p.isdigit()]\nprint(len(pids))\n"
                      + "try:\n    os.kill(" + Environment.ProcessId + ", signal.SIGKILL)\n    print('killed')\nexcept OSError as e:\n    print('blocked')";
        var r = _sandbox.Run(program, "", Fast);
        Assert.Equal(SandboxStatus.Exited, r.Status);
        Assert.Equal("1\nblocked", r.Stdout.Trim());
    }

    [Fact]
    public void The_host_temp_directory_is_removed_after_every_run()
    {
        var before = Directory.GetDirectories(Path.GetTempPath(), "aspo-sandbox-*").Length;
        _sandbox.Run("print('hi')", "", Fast);
        _sandbox.Run("while True: pass", "", Fast with { TimeLimitSeconds = 1 });
        var after = Directory.GetDirectories(Path.GetTempPath(), "aspo-sandbox-*").Length;
        Assert.True(after <= before, $"{after - before} sandbox directories left in {Path.GetTempPath()}");
    }

    [Fact]
    public void A_missing_interpreter_is_one_clear_error()
    {
        var e = Assert.Throws<SandboxUnavailableException>(() => new PythonSandbox("/nonexistent/python3"));
        Assert.Contains("/nonexistent/python3", e.Message);
    }

    private static string PythonList(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(i => "'" + i + "'")) + "]";

    private static int SandboxProcesses()
    {
        var count = 0;
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _))
                continue;
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(dir, "status")))
                {
                    if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    {
                        if (long.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) >= 1_500_000_000)
                            count++;
                        break;
                    }
                }
            }
            catch (IOException)
            {
                // the process exited while we looked
            }
            catch (UnauthorizedAccessException)
            {
                // not ours to read
            }
        }
        return count;
    }

    /// <summary>
    /// Nothing of the host's file system is there but the read-only /usr the interpreter needs: not the repository
    /// (where the held-out suites' answers live), not the test run's folders, not /root or /home.
    /// </summary>
    [Fact]
    public void The_repository_and_every_host_folder_outside_usr_are_invisible()
    {
        var repository = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repository, "Aspo.Pipeline.sln")))
            repository = Path.GetDirectoryName(repository)!;
        var hostDir = Directory.CreateTempSubdirectory("aspo-visible-").FullName;
        try
        {
            var program = $$"""
                import os
                for p in [{{string.Join(", ", new[] { Path.Combine(repository, "datasets"), repository, hostDir, "/root", "/home", "/etc/passwd", "/work", "/var" }.Select(p => $"'{p}'"))}}]:
                    print(p, os.path.exists(p))
                print("top", sorted(os.listdir("/")))
                print("etc", sorted(os.listdir("/etc")))
                """;
            var r = _sandbox.Run(program, "", Fast);
            Assert.Equal(SandboxStatus.Exited, r.Status);
            Assert.DoesNotContain(" True", r.Stdout);
            Assert.Contains($"{Path.Combine(repository, "datasets")} False", r.Stdout);
            Assert.Contains("etc ['ld.so.cache']", r.Stdout);
            Assert.Matches(@"top \[('[\w]+', )*'usr'\]", r.Stdout.Split('\n').Single(l => l.StartsWith("top", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(hostDir, recursive: true);
        }
    }

    /// <summary>
    /// No new namespaces from inside: in a user namespace of its own the program would hold capabilities again (mount,
    /// chroot). unshare(CLONE_NEWUSER), the unshare tool, setns and clone(CLONE_NEWUSER) all fail; threads and child
    /// processes still work.
    /// </summary>
    [Fact]
    public void Nested_user_namespaces_cannot_be_made_but_threads_and_subprocesses_work()
    {
        var program = """
            import ctypes, os, subprocess, threading
            libc = ctypes.CDLL(None, use_errno=True)
            print("unshare", libc.unshare(0x10000000), ctypes.get_errno())
            print("setns", libc.setns(0, 0), ctypes.get_errno())
            print("tool", subprocess.run(["unshare", "-U", "--map-root-user", "true"], capture_output=True).returncode)
            out = []
            t = threading.Thread(target=lambda: out.append(6 * 7)); t.start(); t.join()
            print("thread", out[0])
            print("child", subprocess.run(["echo", "hi"], capture_output=True, text=True).stdout.strip())
            """;
        var r = _sandbox.Run(program, "", Fast);
        Assert.True(r.Status == SandboxStatus.Exited, r.StderrHead);
        Assert.Contains("unshare -1 1", r.Stdout);   // EPERM
        Assert.Contains("setns -1 1", r.Stdout);
        Assert.DoesNotContain("tool 0", r.Stdout);
        Assert.Contains("thread 42", r.Stdout);
        Assert.Contains("child hi", r.Stdout);
    }
}
