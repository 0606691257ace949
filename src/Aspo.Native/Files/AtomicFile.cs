namespace Aspo.Native.Files;

/// <summary>
/// Writes files and folders so that nothing under a final name is ever partial: the content goes to a temporary name
/// in the same folder — always <c>.{name}.tmp-{pid}</c>, the process id keeping parallel writers (rollout slices) apart —
/// and is renamed into place (atomic on one file system). On failure the temporary is removed and the final name is
/// left as it was. <see cref="IsTemporary"/> recognises the pattern for the cleanup of killed processes' leftovers.
/// </summary>
public static class AtomicFile
{
    private const string Marker = ".tmp-";

    /// <summary>The temporary name for <paramref name="path"/> in this process.</summary>
    public static string TemporaryPath(string path)
    {
        var full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}{Marker}{Environment.ProcessId}");
    }

    /// <summary>Whether <paramref name="name"/> (a file or folder name) is a temporary of this class.</summary>
    public static bool IsTemporary(string name) =>
        name.StartsWith('.') && name.LastIndexOf(Marker, StringComparison.Ordinal) is var at && at > 0
        && int.TryParse(name.AsSpan(at + Marker.Length), out _);

    public static void WriteAllText(string path, string text) => Write(path, temp => File.WriteAllText(temp, text));

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, temp => File.WriteAllBytes(temp, copy));
    }

    /// <summary>Runs <paramref name="write"/> on the temporary file name, flushes it to disk and renames it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        var temp = TemporaryPath(path);
        try
        {
            write(temp);
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
                stream.Flush(flushToDisk: true);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Replaces the folder <paramref name="path"/> by what <paramref name="write"/> puts into a fresh temporary folder.</summary>
    public static void ReplaceFolder(string path, Action<string> write)
    {
        var temp = TemporaryPath(path);
        if (Directory.Exists(temp))
            Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
            Directory.Move(temp, path);
        }
        catch
        {
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    /// <summary>Deletes every temporary file and folder of this class under <paramref name="root"/> (left by killed processes).</summary>
    public static void RemoveLeftovers(string root)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(root, ".*", SearchOption.AllDirectories).OrderByDescending(e => e.Length).ToList())
        {
            if (!IsTemporary(Path.GetFileName(entry)))
                continue;
            if (Directory.Exists(entry))
                Directory.Delete(entry, recursive: true);
            else
                File.Delete(entry);
        }
    }
}
