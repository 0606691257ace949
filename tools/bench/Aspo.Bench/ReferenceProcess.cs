using System.Diagnostics;
using System.Text.Json;

namespace Aspo.Bench;

/// <summary>Runs a reference implementation (PyTorch, Hugging Face tokenizers) in a child process for a side-by-side figure.</summary>
internal static class ReferenceProcess
{
    /// <summary>The repository root (the folder holding Aspo.Pipeline.sln) above this assembly.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var root = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(root, "Aspo.Pipeline.sln")))
                root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found");
            return root;
        }
    }

    /// <summary>Runs <paramref name="program"/> with <paramref name="args"/>; returns its JSON output line, or null (with the reason on stderr) when it cannot run.</summary>
    public static JsonElement? RunJson(string program, IEnumerable<string> args, string whatIfMissing)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(info)!;
            var error = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                Console.Error.WriteLine($"{Path.GetFileName(program)} failed ({whatIfMissing}): {error.Result.Trim()}");
                return null;
            }
            return JsonDocument.Parse(output).RootElement;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"{program} not found ({whatIfMissing}): reference column left empty");
            return null;
        }
    }
}
