using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Aspo.Rewards.Code;

/// <summary>
/// Runs an untrusted Python program on one stdin in a throw-away Linux sandbox built from util-linux tools:
/// <c>unshare</c> gives it new network (no interfaces up: no network), PID (it cannot see or signal host processes; when
/// it exits or is killed every process it started dies), mount, IPC and UTS namespaces; in the mount namespace every
/// world-writable directory (/tmp, /var/tmp, /dev/shm, /run/lock, /dev/mqueue) is replaced by a private size-capped
/// tmpfs that vanishes with the namespace; <c>setpriv</c> drops to a private unprivileged uid (no capabilities,
/// no-new-privs), so nothing else on the host is writable; <c>prlimit</c> caps CPU time, address space, processes,
/// file size, open files and core dumps. The host kills the tree at the wall-clock limit and stops reading stdout at
/// its cap. Threat model and limits: src/Aspo.Rewards/README.md.
/// </summary>
public sealed class PythonSandbox
{
    // $1 program file on the host, $2 tmpfs size, $3 uid ("-" = stay: user-namespace mode), $4 cpu s, $5 as bytes,
    // $6 nproc, $7 fsize bytes, $8 interpreter, $9 the guard script. In the new mount namespace a tmpfs becomes the root:
    // /usr (and the /bin, /lib… links or mounts beside it) bound read-only, /etc/ld.so.cache, four /dev nodes, a fresh
    // /proc and a size-capped /tmp; pivot_root moves into it and the host's file system is unmounted from the namespace,
    // so nothing of the repository, the run directory or /root exists for the program.
    private const string Script = """
        fail() { echo "aspo-sandbox: $1" >&2; exit 125; }
        exec 3< "$1" || fail "cannot open the program file"
        exec 4< "$9" || fail "cannot open the guard"
        mount -t tmpfs -o size=1m,mode=0755,nosuid,nodev tmpfs /tmp || fail "cannot mount the new root"
        r=/tmp
        mkdir "$r/usr" "$r/etc" "$r/dev" "$r/proc" "$r/tmp" "$r/.old" || fail "cannot lay out the new root"
        ro() { mount --bind "$1" "$2" && mount -o remount,bind,ro,nosuid,nodev "$2" || fail "cannot bind $1 read-only"; }
        ro /usr "$r/usr"
        for l in bin sbin lib lib32 lib64 libx32; do
          if [ -L "/$l" ]; then ln -s "$(readlink "/$l")" "$r/$l"
          elif [ -d "/$l" ]; then mkdir "$r/$l" && ro "/$l" "$r/$l"; fi
        done
        touch "$r/etc/ld.so.cache" && ro /etc/ld.so.cache "$r/etc/ld.so.cache"
        for n in null zero random urandom; do touch "$r/dev/$n" && mount --bind "/dev/$n" "$r/dev/$n" || fail "cannot bind /dev/$n"; done
        mount -t proc -o nosuid,nodev,noexec proc "$r/proc" || fail "cannot mount /proc"
        mount -t tmpfs -o "size=$2,mode=1777,nosuid,nodev" tmpfs "$r/tmp" || fail "cannot mount the private /tmp"
        mkdir -m 0777 "$r/tmp/sandbox" && cat <&3 > "$r/tmp/sandbox/main.py" && cat <&4 > "$r/tmp/sandbox/.guard.py" \
          && chmod 0444 "$r/tmp/sandbox/main.py" "$r/tmp/sandbox/.guard.py" || fail "cannot copy the program"
        exec 3<&- 4<&-
        cd "$r" && /usr/sbin/pivot_root . .old && umount -l /.old && rmdir /.old || fail "cannot pivot into the new root"
        mount -o remount,ro,bind / || fail "cannot make the new root read-only"
        cd /tmp/sandbox || fail "cannot enter /tmp/sandbox"
        if [ "$3" = "-" ]; then
          exec prlimit --cpu="$4" --as="$5" --nproc="$6" --fsize="$7" --nofile=64 --core=0 -- "$8" -I .guard.py
        fi
        exec setpriv --reuid="$3" --regid="$3" --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all \
          prlimit --cpu="$4" --as="$5" --nproc="$6" --fsize="$7" --nofile=64 --core=0 -- "$8" -I .guard.py
        """;

    /// <summary>
    /// Runs first in the sandbox's interpreter: installs a seccomp filter that refuses the system calls that create or
    /// enter namespaces — unshare and setns (EPERM), clone with CLONE_NEWUSER (EPERM), clone3 (ENOSYS, so glibc falls back
    /// to clone) — so the program cannot make a user namespace (where it would hold capabilities again), then runs
    /// main.py as __main__ in the same interpreter. seccomp_data: nr at 0, arch at 4, args[0] from 16 (x86-64).
    /// </summary>
    private const string Guard = """
        import ctypes, runpy, struct, sys
        def s(code, k): return struct.pack("HBBI", code, 0, 0, k)
        def j(code, k, jt, jf): return struct.pack("HBBI", code, jt, jf, k)
        LD, JEQ, JSET, RET = 0x20, 0x15, 0x45, 0x06
        ALLOW, EPERM, ENOSYS = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
        prog = b"".join([
            s(LD, 4), j(JEQ, 0xC000003E, 1, 0), s(RET, ALLOW),
            s(LD, 0),
            j(JEQ, 272, 0, 1), s(RET, EPERM),
            j(JEQ, 308, 0, 1), s(RET, EPERM),
            j(JEQ, 435, 0, 1), s(RET, ENOSYS),
            j(JEQ, 56, 0, 3), s(LD, 16), j(JSET, 0x10000000, 0, 1), s(RET, EPERM),
            s(RET, ALLOW),
        ])
        class FProg(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(FProg(len(prog) // 8, prog)), 0, 0) != 0:
            sys.stderr.write("aspo-sandbox: cannot install the seccomp filter\n")
            sys.exit(125)
        del ctypes, struct, libc, prog, FProg, s, j
        sys.argv = ["main.py"]
        runpy.run_path("main.py", run_name="__main__")
        """;

    private const int SetupFailedExit = 125;
    private const int StderrKeepBytes = 8 << 10;
    // Private uids far above any real account; one per concurrent run so RLIMIT_NPROC counts only that run.
    private const long UidBase = 1_500_000_000;
    private static long _nextUid;

    private readonly string _python;
    private readonly bool _privileged;

    /// <param name="python">The interpreter run inside the sandbox; it must be readable by an unprivileged user
    /// (a pyenv shim under /root is not), hence the system interpreter by default.</param>
    public PythonSandbox(string python = "/usr/bin/python3")
    {
        foreach (var tool in new[] { "/usr/bin/unshare", "/usr/bin/prlimit", "/usr/bin/setpriv", "/bin/sh", "/usr/sbin/pivot_root" })
        {
            if (!File.Exists(tool))
                throw new SandboxUnavailableException($"the code sandbox needs {tool} (Debian package util-linux)");
        }
        if (!File.Exists(python))
            throw new SandboxUnavailableException($"the code sandbox's Python interpreter {python} does not exist (apt-get install python3)");
        _python = python;
        _privileged = Environment.IsPrivilegedProcess;
    }

    /// <summary>Runs <paramref name="program"/> with <paramref name="stdin"/> under <paramref name="limits"/>.</summary>
    public SandboxResult Run(string program, string stdin, SandboxLimits limits)
    {
        limits.Validate();
        var hostDir = Directory.CreateTempSubdirectory("aspo-sandbox-");
        try
        {
            var programPath = Path.Combine(hostDir.FullName, "main.py");
            File.WriteAllText(programPath, program, new UTF8Encoding(false));
            var guardPath = Path.Combine(hostDir.FullName, "guard.py");
            File.WriteAllText(guardPath, Guard, new UTF8Encoding(false));
            return RunProcess(programPath, guardPath, stdin, limits);
        }
        finally
        {
            hostDir.Delete(recursive: true);
        }
    }

    private SandboxResult RunProcess(string programPath, string guardPath, string stdin, SandboxLimits limits)
    {
        var info = new ProcessStartInfo("/usr/bin/unshare")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = "/",
        };
        // Root builds the namespaces directly; anyone else needs a user namespace (mapped to root inside it, no uid switch).
        if (!_privileged)
            info.ArgumentList.Add("--map-root-user");
        foreach (var a in new[] { "--net", "--pid", "--mount", "--ipc", "--uts", "--fork", "--kill-child", "--propagation", "private", "--", "/bin/sh", "-c", Script, "aspo-sandbox" })
            info.ArgumentList.Add(a);
        var uid = _privileged ? (UidBase + Interlocked.Increment(ref _nextUid) % 1_000_000).ToString(CultureInfo.InvariantCulture) : "-";
        var cpuSeconds = (long)Math.Ceiling(limits.TimeLimitSeconds);
        foreach (var a in new[] { programPath, limits.WorkDirBytes.ToString(CultureInfo.InvariantCulture), uid, cpuSeconds.ToString(CultureInfo.InvariantCulture),
                                  limits.MemoryBytes.ToString(CultureInfo.InvariantCulture), limits.MaxProcesses.ToString(CultureInfo.InvariantCulture),
                                  limits.MaxFileBytes.ToString(CultureInfo.InvariantCulture), _python, guardPath })
            info.ArgumentList.Add(a);
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/bin:/bin";
        info.Environment["LANG"] = "C.UTF-8";
        info.Environment["HOME"] = "/tmp/sandbox";

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new SandboxUnavailableException("could not start /usr/bin/unshare");
        var stdinTask = WriteStdinAsync(process.StandardInput.BaseStream, stdin);
        var stdoutTask = ReadCappedAsync(process.StandardOutput.BaseStream, limits.MaxOutputBytes, keepReading: false);
        var stderrTask = ReadCappedAsync(process.StandardError.BaseStream, StderrKeepBytes, keepReading: true);
        var deadline = TimeSpan.FromSeconds(limits.TimeLimitSeconds);
        var outputCapped = false;
        var timedOut = false;
        // Wait for exit, the deadline, or stdout passing its cap (the reader returns early then).
        var exited = process.WaitForExitAsync();
        var first = Task.WhenAny(exited, stdoutTask, Task.Delay(deadline)).GetAwaiter().GetResult();
        if (first == stdoutTask && stdoutTask.Result.Truncated)
            outputCapped = true;
        else if (first != exited && first != stdoutTask)
            timedOut = true;
        if (!outputCapped && !timedOut && !process.WaitForExit(Remaining(deadline, clock)))
            timedOut = true;
        if (outputCapped || timedOut)
            Kill(process);
        process.WaitForExit();
        var wall = clock.Elapsed.TotalSeconds;
        var stdout = stdoutTask.GetAwaiter().GetResult();
        outputCapped |= stdout.Truncated;
        var stderr = stderrTask.GetAwaiter().GetResult();
        stdinTask.GetAwaiter().GetResult();
        var stderrText = Encoding.UTF8.GetString(stderr.Bytes);
        var exitCode = process.ExitCode;
        if (!outputCapped && !timedOut && exitCode == SetupFailedExit && stderrText.StartsWith("aspo-sandbox:", StringComparison.Ordinal))
            throw new SandboxUnavailableException($"the code sandbox could not be set up: {stderrText.Trim()}");
        // util-linux's unshare sometimes fails to re-raise the signal that killed its child (seen after SIGXCPU, the CPU
        // limit): it then exits 1 with this message. The program did run; it died of a signal, it was not refused.
        var signalDeath = exitCode == 1 && stderrText.StartsWith("unshare: sigprocmask unblock failed", StringComparison.Ordinal);
        if (!outputCapped && !timedOut && !signalDeath && exitCode == 1 && stderrText.StartsWith("unshare:", StringComparison.Ordinal))
            throw new SandboxUnavailableException($"the code sandbox needs Linux namespaces (root, or unprivileged user namespaces): {stderrText.Trim()}");
        var status = outputCapped ? SandboxStatus.OutputLimit
            : timedOut || exitCode is 128 + 24 or 128 + 9 ? SandboxStatus.TimeLimit // SIGXCPU (soft CPU limit), SIGKILL (hard)
            : signalDeath ? (wall >= 0.5 * limits.TimeLimitSeconds ? SandboxStatus.TimeLimit : SandboxStatus.RuntimeError)
            : exitCode == 0 ? SandboxStatus.Exited
            : SandboxStatus.RuntimeError;
        return new SandboxResult(status, exitCode, Encoding.UTF8.GetString(stdout.Bytes), stderrText, wall);
    }

    private static TimeSpan Remaining(TimeSpan deadline, Stopwatch clock)
    {
        var left = deadline - clock.Elapsed;
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private static void Kill(Process process)
    {
        try
        {
            // --kill-child makes unshare's death SIGKILL the namespace's first process, and with it every process inside
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    private static async Task WriteStdinAsync(Stream stdin, string text)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            await stdin.WriteAsync(bytes).ConfigureAwait(false);
            await stdin.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // the program exited or closed stdin without reading all of it: not an error of ours
        }
        finally
        {
            try
            {
                stdin.Dispose();
            }
            catch (IOException)
            {
                // broken pipe on close, same as above
            }
        }
    }

    private readonly record struct CappedBytes(byte[] Bytes, bool Truncated);

    /// <summary>Reads up to <paramref name="cap"/> bytes; past the cap it either stops (stdout: the caller kills the
    /// program) or keeps draining and discarding (stderr, so a chatty program does not block on a full pipe).</summary>
    private static async Task<CappedBytes> ReadCappedAsync(Stream stream, int cap, bool keepReading)
    {
        var kept = new MemoryStream();
        var buffer = new byte[64 << 10];
        var truncated = false;
        int read;
        while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            var room = cap - (int)kept.Length;
            if (read > room)
            {
                kept.Write(buffer, 0, Math.Max(room, 0));
                truncated = true;
                if (!keepReading)
                    break;
            }
            else
                kept.Write(buffer, 0, read);
        }
        return new CappedBytes(kept.ToArray(), truncated);
    }
}
