using System.Globalization;
using System.Text;

namespace Aspo.Rewards.Code;

/// <summary>Limits of one sandboxed run. Defaults follow LiveCodeBench (6 s per test) with room for Python's start-up.</summary>
public sealed record SandboxLimits
{
    /// <summary>Wall-clock limit per run; CPU time is limited to the same number of seconds (rounded up).</summary>
    public double TimeLimitSeconds { get; init; } = 6;
    /// <summary>Address-space limit (RLIMIT_AS) of the program.</summary>
    public long MemoryBytes { get; init; } = 2L << 30;
    /// <summary>Processes and threads of the program's private user id (RLIMIT_NPROC): contains fork bombs.</summary>
    public int MaxProcesses { get; init; } = 32;
    /// <summary>Bytes of stdout kept; a program that prints more is stopped and fails with OutputLimit.</summary>
    public int MaxOutputBytes { get; init; } = 4 << 20;
    /// <summary>Largest file the program may write (RLIMIT_FSIZE).</summary>
    public long MaxFileBytes { get; init; } = 16 << 20;
    /// <summary>Size of the private tmpfs that is the program's only writable directory (/tmp in the sandbox).</summary>
    public long WorkDirBytes { get; init; } = 64 << 20;

    public void Validate()
    {
        if (!(TimeLimitSeconds > 0) || MemoryBytes < (64 << 20) || MaxProcesses < 1 || MaxOutputBytes < 1 || MaxFileBytes < 1 || WorkDirBytes < (1 << 20))
            throw new ArgumentException($"invalid sandbox limits: {this} (time > 0 s, memory ≥ 64 MiB, work dir ≥ 1 MiB, the rest ≥ 1)");
    }
}
