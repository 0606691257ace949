using System.CommandLine;
using Aspo.Native.Files;

namespace Aspo.Cli.Commands;

/// <summary>
/// Folders a command writes (sft --out, export --out, model init --out): an existing folder with anything in it is
/// refused unless --force, so nothing the command did not create is overwritten; the content is written into a
/// temporary folder and renamed into place, so a failure leaves the old folder (or none) whole.
/// </summary>
internal static class OutputFolder
{
    public static Option<bool> ForceOption() => new("--force") { Description = "Replace the output folder even if it is not empty." };

    /// <summary>Checks <paramref name="path"/> before any work; returns its full path.</summary>
    public static string Check(string option, string path, bool force)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
            throw new ArgumentException($"{option} {full} is a file; expected a folder");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any() && !force)
            throw new ArgumentException($"{option} {full} is not empty; choose an empty or new folder, or pass --force to replace it");
        var parent = Path.GetDirectoryName(full);
        if (parent is not null && !Directory.Exists(parent))
            throw new ArgumentException($"{option} {full}: folder {parent} does not exist");
        return full;
    }

    /// <summary>Writes the folder atomically (after <see cref="Check"/>).</summary>
    public static void Write(string full, Action<string> write) => AtomicFile.ReplaceFolder(full, write);
}
