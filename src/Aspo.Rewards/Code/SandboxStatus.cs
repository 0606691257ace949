using System.Globalization;
using System.Text;

namespace Aspo.Rewards.Code;

public enum SandboxStatus
{
    /// <summary>The program exited with status 0.</summary>
    Exited,
    /// <summary>Non-zero exit or killed by a signal other than the limits below (MemoryError, exceptions, SIGXFSZ…).</summary>
    RuntimeError,
    /// <summary>Wall-clock or CPU-time limit reached; the whole process tree was killed.</summary>
    TimeLimit,
    /// <summary>More than <see cref="SandboxLimits.MaxOutputBytes"/> on stdout; the program was killed.</summary>
    OutputLimit,
}
