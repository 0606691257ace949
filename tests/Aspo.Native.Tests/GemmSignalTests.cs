using System.Runtime.InteropServices;
using Aspo.Native.Blas;

namespace Aspo.Native.Tests;

[CollectionDefinition(nameof(GemmSignalTests), DisableParallelization = true)]
public sealed class GemmSignalCollection;

/// <summary>oneDNN 2.x's JIT GEMM kernels move <c>rsp</c> onto a heap workspace; a signal arriving meanwhile wrote its
/// frame into malloc'd memory and aborted the process ("corrupted size vs. prev_size while consolidating").
/// These tests aim signals at every thread of the test host while the GEMMs run; before the fix the host died
/// within a fraction of a second (and a C program calling dnnl_sgemm the same way still does).</summary>
[Collection(nameof(GemmSignalTests))]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class GemmSignalTests
{
    private const int SigWinch = 28;

    public static TheoryData<string> Backends => ["onednn", "onednn-bf16", "openblas"];

    [Theory]
    [MemberData(nameof(Backends))]
    public void Gemm_survives_signals_aimed_at_every_thread(string backend)
    {
        // a registration makes the runtime install a real SIGWINCH handler, so the kernel pushes signal frames
        var handled = 0;
        using var registration = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context =>
        {
            Interlocked.Increment(ref handled);
            context.Cancel = true;
        });
        var gemm = GemmBackends.Create(backend == "onednn-bf16" ? "onednn" : backend);
        var bf16 = backend == "onednn-bf16";
        var a = Enumerable.Repeat(1f, 200 * 256).ToArray();
        var b = Enumerable.Repeat(1f, 256 * 4096).ToArray();
        var a16 = a.Select(x => (BFloat16)x).ToArray();
        var b16 = b.Select(x => (BFloat16)x).ToArray();
        var c = new float[200 * 4096];
        int[] ms = [1, 2, 5, 17, 64, 200], ns = [1, 2, 3, 8, 16, 64, 300, 4096], ks = [8, 64, 256];

        var blocks = new nint[16];
        var stop = 0;
        long sent = 0;
        var sender = new Thread(() =>
        {
            while (Volatile.Read(ref stop) == 0)
                foreach (var tid in ThreadSignals.ThreadIds())
                    if (ThreadSignals.SendToThread(tid, SigWinch))
                        sent++;
        });
        sender.Start();
        try
        {
            for (var it = 0; it < 6_000; it++)
            {
                int m = ms[it % 6], n = ns[it / 6 % 8], k = ks[it / 48 % 3];
                bool ta = it / 144 % 2 == 1, tb = it / 288 % 2 == 1;
                int lda = ta ? m : k, ldb = tb ? k : n;
                if (bf16)
                    ((IBf16Gemm)gemm).GemmBf16(ta, tb, m, n, k, 1f, a16, lda, b16, ldb, 0f, c, n);
                else
                    gemm.Sgemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
                Assert.Equal(k, c[m * n - 1]); // all-ones inputs: every entry is k
                // malloc traffic, so a corrupted chunk header is noticed while this test runs
                for (var j = 0; j < blocks.Length; j++)
                    blocks[j] = Marshal.AllocHGlobal(64 + 37 * j); // malloc on Linux
                foreach (var block in blocks)
                    Marshal.FreeHGlobal(block);
            }
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            sender.Join();
        }
        Assert.True(sent > 1_000, $"only {sent} signals were sent");
    }
}
