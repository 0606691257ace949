using System.Runtime.InteropServices;
using System.Text;

namespace Aspo.Native.Files;

/// <summary>
/// An advisory lock on a folder: <c>flock</c> on the file <c>.aspo.lock</c> inside it, which the kernel releases when
/// the holder's descriptor closes — also when the process is killed, so a kill -9 never leaves a stale lock. Exclusive
/// holders (a run, a learn stage) exclude everyone; shared holders (parallel rollout slices) exclude only exclusive ones.
/// The holder writes its process id and purpose into the file, and a refused process names them.
/// </summary>
public sealed partial class DirectoryLock : IDisposable
{
    public const string FileName = ".aspo.lock";
    private const int LockShared = 1, LockExclusive = 2, LockNonBlocking = 4;
    private const int OpenReadWrite = 2, OpenCreate = 64, OpenCloseOnExec = 0x80000;
    private const int WouldBlock = 11;
    private int _fd;

    private DirectoryLock(int fd, string directory)
    {
        _fd = fd;
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>Takes the lock or throws <see cref="DirectoryInUseException"/> naming the holder.</summary>
    /// <param name="purpose">what this process does there (written for whoever is refused), e.g. "aspo run"</param>
    /// <param name="lockFileName">the lock file inside the folder (several independent locks may share a folder)</param>
    public static DirectoryLock Acquire(string directory, string purpose, bool shared = false, string lockFileName = FileName)
    {
        System.IO.Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, lockFileName);
        var fd = open(path, OpenReadWrite | OpenCreate | OpenCloseOnExec, 0b110_110_100);
        if (fd < 0)
            throw new IOException($"{path}: cannot open the run directory's lock file (errno {Marshal.GetLastPInvokeError()})");
        if (flock(fd, (shared ? LockShared : LockExclusive) | LockNonBlocking) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var holder = ReadHolder(fd);
            close(fd);
            if (errno == WouldBlock)
                throw new DirectoryInUseException(directory,
                    $"{directory} is in use by {(holder.Length > 0 ? holder : "another process")}; wait for it to finish or stop it (the lock frees itself when that process ends)");
            throw new IOException($"{path}: flock failed (errno {errno})");
        }
        var text = Encoding.UTF8.GetBytes($"process {Environment.ProcessId} ({purpose})\n");
        if (!shared)
            ftruncate(fd, 0);
        pwrite(fd, text, text.Length, 0);
        return new DirectoryLock(fd, directory);
    }

    private static string ReadHolder(int fd)
    {
        var buffer = new byte[512];
        var n = pread(fd, buffer, buffer.Length, 0);
        return n <= 0 ? "" : Encoding.UTF8.GetString(buffer, 0, (int)n).Split('\n')[0].Trim();
    }

    public void Dispose()
    {
        if (_fd >= 0)
            close(_fd);
        _fd = -1;
    }

    [LibraryImport("libc.so.6", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, int mode);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int flock(int fd, int operation);

    [LibraryImport("libc.so.6")]
    private static partial int close(int fd);

    [LibraryImport("libc.so.6")]
    private static partial int ftruncate(int fd, long length);

    [LibraryImport("libc.so.6")]
    private static partial nint pwrite(int fd, byte[] buffer, nint count, long offset);

    [LibraryImport("libc.so.6")]
    private static partial nint pread(int fd, byte[] buffer, nint count, long offset);
}
