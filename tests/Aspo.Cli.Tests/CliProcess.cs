using System.Diagnostics;

namespace Aspo.Cli.Tests;

/// <summary>Runs the built <c>aspo.dll</c> in a child process, as a user would, and captures its output.</summary>
internal static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>The CLI's build output copied next to this test assembly.</summary>
    public static string BuiltDirectory => AppContext.BaseDirectory;

    /// <summary>The repository checkout the tests were built from (for shipped files such as datasets/suites).</summary>
    public static string RepositoryRoot => Aspo.Tests.Shared.TestRepository.Root;

    public static Result Run(string directory, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        RunWithInput(directory, environment, stdin: "", args);

    public static Result RunWithInput(string directory, IReadOnlyDictionary<string, string?> environment, string stdin, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        info.ArgumentList.Add(Path.Combine(directory, "aspo.dll"));
        foreach (var a in args)
            info.ArgumentList.Add(a);
        foreach (var (key, value) in environment)
            info.Environment[key] = value;
        using var process = Process.Start(info)!;
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"aspo {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// Starts the CLI and SIGKILLs it <paramref name="delay"/> after its <paramref name="linesBefore"/>-th stdout line
    /// containing <paramref name="marker"/> (0 = from the start), unless it finished first; true when it was killed.
    /// </summary>
    public static bool RunAndKill(string directory, string marker, int linesBefore, TimeSpan delay, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        info.ArgumentList.Add(Path.Combine(directory, "aspo.dll"));
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var armed = new ManualResetEventSlim(linesBefore == 0);
        var seen = 0;
        var reader = Task.Run(() =>
        {
            string? line;
            while ((line = process.StandardOutput.ReadLine()) is not null)
            {
                if (line.Contains(marker, StringComparison.Ordinal) && ++seen == linesBefore)
                    armed.Set();
            }
        });
        // wait for the trigger line (or the exit), then the delay
        while (!armed.Wait(10) && !process.HasExited)
        {
        }
        if (!process.HasExited && !process.WaitForExit(delay))
        {
            process.Kill(entireProcessTree: true); // SIGKILL on Linux: no handler, no cleanup
            process.WaitForExit();
            reader.Wait();
            return true;
        }
        process.WaitForExit();
        reader.Wait();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"aspo {string.Join(' ', args)} failed: {stderr.Result}");
        return false;
    }

    /// <summary>Starts the CLI in the background; stdout lines are collected as they come.</summary>
    public static Background Start(string directory, params string[] args) => new(directory, args);

    /// <summary>A CLI process running in the background.</summary>
    public sealed class Background : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = [];
        private readonly Task _reader;
        private readonly Task<string> _stderr;

        internal Background(string directory, string[] args)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
            info.ArgumentList.Add(Path.Combine(directory, "aspo.dll"));
            foreach (var a in args)
                info.ArgumentList.Add(a);
            _process = Process.Start(info)!;
            _stderr = _process.StandardError.ReadToEndAsync();
            _reader = Task.Run(() =>
            {
                string? line;
                while ((line = _process.StandardOutput.ReadLine()) is not null)
                    lock (_lines)
                        _lines.Add(line);
            });
        }

        public int ProcessId => _process.Id;

        /// <summary>Waits (up to 3 minutes) for a stdout line containing <paramref name="marker"/>; false if the process ended first.</summary>
        public bool WaitForLine(string marker)
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (DateTime.UtcNow < deadline)
            {
                lock (_lines)
                    if (_lines.Any(l => l.Contains(marker, StringComparison.Ordinal)))
                        return true;
                if (_process.HasExited)
                    return false;
                Thread.Sleep(20);
            }
            throw new TimeoutException($"no line with '{marker}' in 3 minutes");
        }

        /// <summary>SIGKILL: no handler, no cleanup.</summary>
        public void Kill()
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            _reader.Wait();
        }

        public string Stderr => _process.HasExited ? _stderr.Result : "";

        public void Dispose()
        {
            Kill();
            _process.Dispose();
        }
    }
}
