using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Aspo.Native;

/// <summary>
/// Per-thread signal masks (<c>pthread_sigmask</c>) and thread-directed signals (<c>tgkill</c>).
/// Why: oneDNN's JIT-generated GEMM kernels (2.x, up to 3.11; fixed upstream by oneDNN PR #4855) point <c>rsp</c>
/// at a heap workspace while they run, so a signal delivered to a thread inside such a kernel writes its signal
/// frame into malloc'd memory ("corrupted size vs. prev_size while consolidating"). The .NET runtime installs
/// handlers (SIGCHLD for child processes, SIGRTMIN for GC activation, console signals), so every oneDNN call runs
/// with all signals blocked on the calling thread; the OpenMP worker threads oneDNN creates inherit that mask.
/// </summary>
public static unsafe partial class ThreadSignals
{
    private const int SigBlock = 0;
    private const int SigSetMask = 2;

    /// <summary>glibc's <c>sigset_t</c>: 1024 bits.</summary>
    [InlineArray(16)]
    internal struct SigSet
    {
        private ulong _word;
    }

    /// <summary>Restores the calling thread's previous signal mask when disposed (on the same thread).</summary>
    public readonly struct BlockedScope : IDisposable
    {
        private readonly SigSet _previous;

        private BlockedScope(SigSet previous) => _previous = previous;

        internal static BlockedScope Create(SigSet previous) => new(previous);

        public void Dispose()
        {
            var previous = _previous;
            _ = pthread_sigmask(SigSetMask, &previous, null);
        }
    }

    /// <summary>Blocks every blockable signal on the calling thread until the returned scope is disposed
    /// (signals sent meanwhile stay pending and are delivered then). glibc keeps its internal signals unblocked.</summary>
    public static BlockedScope BlockAll()
    {
        SigSet all = default;
        ((Span<ulong>)all).Fill(ulong.MaxValue);
        SigSet previous = default;
        var rc = pthread_sigmask(SigBlock, &all, &previous);
        if (rc != 0)
            throw new InvalidOperationException($"pthread_sigmask(SIG_BLOCK) failed with error {rc}");
        return BlockedScope.Create(previous);
    }

    /// <summary>The kernel thread ids of this process (<c>/proc/self/task</c>).</summary>
    public static IReadOnlyList<int> ThreadIds() =>
        Directory.EnumerateDirectories("/proc/self/task")
            .Select(d => int.TryParse(Path.GetFileName(d), out var tid) ? tid : 0)
            .Where(tid => tid > 0).ToArray();

    /// <summary>Sends <paramref name="signal"/> to one thread of this process; false if the thread has exited.</summary>
    public static bool SendToThread(int threadId, int signal) =>
        tgkill(Environment.ProcessId, threadId, signal) == 0;

    [LibraryImport("libc.so.6")]
    private static partial int pthread_sigmask(int how, SigSet* set, SigSet* oldSet);

    [LibraryImport("libc.so.6")]
    private static partial int tgkill(int processId, int threadId, int signal);
}
