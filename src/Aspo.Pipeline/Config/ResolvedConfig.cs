namespace Aspo.Pipeline.Config;

/// <summary>Compares two resolved configurations (<see cref="PipelineConfig.ToYaml"/>) key by key.</summary>
public static class ResolvedConfig
{
    /// <summary>Keys a resumed run may change: its length, where it is (run.output) and the learner that trains it (same
    /// files, same algorithm).</summary>
    public static IReadOnlySet<string> MayChangeOnResume { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "run.iterations", "run.max_minutes", "run.output", "learner.backend", "learner.device", "learner.dtype",
    };

    /// <summary>Keys holding machine paths: compared by their file names only (a run directory and its inputs may move;
    /// the training data is compared by content separately).</summary>
    public static IReadOnlySet<string> PathKeys { get; } = new HashSet<string>(StringComparer.Ordinal) { "model.path", "data.train", "eval.suites" };

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

    /// <summary>The keys whose values differ (absent on one side = null), except <paramref name="ignored"/>, in key order;
    /// path keys by file name; a loss option absent from the new file is not a difference.</summary>
    public static IReadOnlyList<(string Key, string? Old, string? New)> Differences(string oldYaml, string newYaml, IReadOnlySet<string> ignored)
    {
        var a = Flatten(oldYaml);
        var b = Flatten(newYaml);
        string? Comparable(string key, string? value) => value is null || !PathKeys.Contains(key) ? value : FileNames(value);
        return [.. a.Keys.Union(b.Keys).Where(k => !ignored.Contains(k)).Order(StringComparer.Ordinal)
            .Select(k => (k, a.GetValueOrDefault(k), b.GetValueOrDefault(k)))
            .Where(d => Comparable(d.k, d.Item2) != Comparable(d.k, d.Item3))
            // a loss option only the old file lists: files written before options were limited to their loss (the
            // loss itself is compared, so with the same loss the option was unused then too)
            .Where(d => !(d.Item3 is null && ConfigKeys.LossOptionPaths.Contains(d.k)))];
    }

    /// <summary>"key was old, now new; …" for an error message.</summary>
    public static string Describe(IEnumerable<(string Key, string? Old, string? New)> differences) =>
        string.Join("; ", differences.Select(d => $"{d.Key} was {d.Old ?? "(absent)"}, now {d.New ?? "(absent)"}"));

    /// <summary>The file names of a quoted path or a [list] of quoted paths.</summary>
    private static string FileNames(string value) => string.Join(", ", value.Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(p => Path.GetFileName(p.Trim('"').TrimEnd('/'))));
}
