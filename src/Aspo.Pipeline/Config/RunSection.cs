using Aspo.Algorithms;

namespace Aspo.Pipeline.Config;

/// <summary>run: what the loop is called, where it writes, how long it runs.</summary>
public sealed record RunSection
{
    public string Name { get; init; } = "default";
    /// <summary>The run directory; relative paths are resolved against the config file's folder. Default: runs/&lt;name&gt;.</summary>
    public string? Output { get; init; }
    public ulong Seed { get; init; } = 1;
    public int Iterations { get; init; } = 20;
    /// <summary>A wall-clock budget for one `aspo run` process (0 = none): no iteration starts after it is spent; the
    /// last completed one is then evaluated. For comparisons at equal cost; a run stopped by it is not deterministic
    /// in length (how many iterations fit depends on the machine).</summary>
    public double MaxMinutes { get; init; }
    /// <summary>Learner and ONNX Runtime threads; 0 = every core.</summary>
    public int Threads { get; init; }
}
