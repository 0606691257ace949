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
    /// <summary>Learner and ONNX Runtime threads; 0 = every core.</summary>
    public int Threads { get; init; }
}
