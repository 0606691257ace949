namespace Aspo.Pipeline.Config;

/// <summary>Compares two resolved configurations (<see cref="PipelineConfig.ToYaml"/>) key by key.</summary>
public static class ResolvedConfig
{
    /// <summary>Keys a resumed run may change: its length and the learner that trains it (same files, same algorithm).</summary>
    public static IReadOnlySet<string> MayChangeOnResume { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "run.iterations", "learner.backend", "learner.device", "learner.dtype",
    };

    /// <summary>"section.key" → value text of a resolved configuration (two-level YAML as ToYaml writes it).</summary>
    public static IReadOnlyDictionary<string, string> Flatten(string yaml)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var section = "";
        foreach (var raw in yaml.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var colon = line.IndexOf(':');
            if (colon < 0)
                continue;
            if (!line.StartsWith(' '))
                section = line[..colon];
            else
                values[$"{section}.{line[..colon].Trim()}"] = line[(colon + 1)..].Trim();
        }
        return values;
    }

    /// <summary>The keys whose values differ (absent on one side = null), except <paramref name="ignored"/>, in key order.</summary>
    public static IReadOnlyList<(string Key, string? Old, string? New)> Differences(string oldYaml, string newYaml, IReadOnlySet<string> ignored)
    {
        var a = Flatten(oldYaml);
        var b = Flatten(newYaml);
        return [.. a.Keys.Union(b.Keys).Where(k => !ignored.Contains(k)).Order(StringComparer.Ordinal)
            .Select(k => (k, a.GetValueOrDefault(k), b.GetValueOrDefault(k))).Where(d => d.Item2 != d.Item3)];
    }
}
