using System.Diagnostics;

namespace Aspo.Tests.Shared;

/// <summary>
/// A fact that runs only where PyTorch can be imported by /usr/bin/python3 (Debian python3-torch); elsewhere it is
/// reported as skipped, with the reason. Used to regenerate the golden fixtures and check the committed ones.
/// </summary>
public sealed class RequiresTorchFactAttribute : FactAttribute
{
    private static readonly Lazy<bool> s_available = new(() =>
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", "-c \"import torch\"") { RedirectStandardError = true, UseShellExecute = false })!;
            p.WaitForExit(60_000);
            return p.HasExited && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public RequiresTorchFactAttribute()
    {
        if (!s_available.Value)
            Skip = "PyTorch is not installed (apt-get install python3-torch)";
    }

    /// <summary>Runs a tools/reference script with /usr/bin/python3; returns its exit code and output.</summary>
    public static (int ExitCode, string Output) RunReferenceScript(string script, params string[] args)
    {
        var root = TestRepository.Root;
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(root, "tools", "reference", script));
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, output.Result + error.Result);
    }
}
