using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Aspo.Pipeline.Config;

/// <summary>
/// Strict typed reading of one YAML mapping: every getter names the file, line and dotted key when the value has the
/// wrong type, and <see cref="RejectUnknownKeys"/> turns any key nobody asked for into an error listing the known ones —
/// so a typo ("temprature") fails instead of silently using a default.
/// </summary>
public sealed class YamlSection
{
    private readonly YamlMappingNode _node;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    // nodes set by --set overrides: errors name the override instead of a line of the file
    private readonly Dictionary<YamlNode, string> _overridden;

    private YamlSection(string file, string path, YamlMappingNode node, Dictionary<YamlNode, string> overridden)
    {
        File = file;
        Path = path;
        _node = node;
        _overridden = overridden;
    }

    public string File { get; }
    /// <summary>Dotted key of this section ("" for the root).</summary>
    public string Path { get; }

    /// <summary>
    /// Parses a file whose root is a mapping, then applies overrides "dotted.key=value" (the value is read as YAML, so
    /// "[a, b]" is a list); missing intermediate mappings are created.
    /// </summary>
    public static YamlSection Load(string file, IReadOnlyList<string> overrides)
    {
        var section = Load(file);
        foreach (var o in overrides)
            section.Override(o);
        return section;
    }

    private void Override(string assignment)
    {
        var eq = assignment.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
            throw new ConfigException($"--set {assignment}: expected key=value with a dotted key, e.g. --set algorithm.loss=grpo");
        var key = assignment[..eq].Trim();
        var text = assignment[(eq + 1)..];
        YamlNode value;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            value = stream.Documents.Count == 0 ? new YamlScalarNode("") : stream.Documents[0].RootNode;
        }
        catch (YamlException e)
        {
            throw new ConfigException($"--set {assignment}: the value is not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        catch (InvalidOperationException)
        {
            throw new ConfigException($"--set {assignment}: the value is not valid YAML: it ends inside an unterminated [list] or {{mapping}}");
        }
        var parts = key.Split('.');
        if (parts.Any(p => p.Length == 0))
            throw new ConfigException($"--set {assignment}: '{key}' is not a dotted key");
        var mapping = _node;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (!mapping.Children.TryGetValue(new YamlScalarNode(parts[i]), out var child))
            {
                child = new YamlMappingNode();
                mapping.Children[new YamlScalarNode(parts[i])] = child;
            }
            mapping = child as YamlMappingNode
                ?? throw new ConfigException($"--set {assignment}: '{string.Join('.', parts[..(i + 1)])}' is not a mapping in {File}");
        }
        var keyNode = new YamlScalarNode(parts[^1]);
        mapping.Children[keyNode] = value;
        _overridden[value] = $"--set {assignment}";
        _overridden[keyNode] = $"--set {assignment}";
        foreach (var inner in value.AllNodes)
            _overridden.TryAdd(inner, $"--set {assignment}");
    }

    /// <summary>Parses a file whose root is a mapping.</summary>
    public static YamlSection Load(string file)
    {
        var full = System.IO.Path.GetFullPath(file);
        if (!System.IO.File.Exists(full))
            throw new ConfigException($"{full}: file not found");
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(full);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{full}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's parser gives up this way on some unterminated flow collections at the end of the input
            throw new ConfigException($"{full}: not valid YAML: the file ends inside an unterminated [list] or {{mapping}}");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ConfigException($"{full}: expected a mapping of keys at the top level");
        return new YamlSection(full, "", root, new Dictionary<YamlNode, string>(ReferenceEqualityComparer.Instance));
    }

    private string Key(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    private string Where(YamlNode node) => _overridden.TryGetValue(node, out var o) ? $"{File}: {o}" : $"{File}:{node.Start.Line}:{node.Start.Column}";

    private YamlNode? Get(string key)
    {
        _known.Add(key);
        return _node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
    }

    public bool Has(string key)
    {
        _known.Add(key);
        return _node.Children.ContainsKey(new YamlScalarNode(key));
    }

    private string Scalar(YamlNode node, string key, string expected) =>
        node is YamlScalarNode { Value: { } v } ? v : throw new ConfigException($"{Where(node)}: {Key(key)}: expected {expected}, got a {Kind(node)}");

    private static string Kind(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "null",
    };

    public string String(string key, string fallback) => Get(key) is { } n ? Scalar(n, key, "a string") : fallback;

    public string? OptionalString(string key) => Get(key) is { } n ? Scalar(n, key, "a string") : null;

    public string RequiredString(string key) =>
        Get(key) is { } n ? Scalar(n, key, "a string") : throw new ConfigException($"{File}:{_node.Start.Line}:{_node.Start.Column}: {Key(key)} is required");

    public int Int(string key, int fallback) => Get(key) is { } n ? ParseInt(n, key) : fallback;

    private int ParseInt(YamlNode n, string key)
    {
        var text = Scalar(n, key, "an integer");
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v : throw new ConfigException($"{Where(n)}: {Key(key)}: expected an integer, got '{text}'");
    }

    public ulong ULong(string key, ulong fallback)
    {
        if (Get(key) is not { } n)
            return fallback;
        var text = Scalar(n, key, "a non-negative integer");
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v : throw new ConfigException($"{Where(n)}: {Key(key)}: expected a non-negative integer, got '{text}'");
    }

    public double Double(string key, double fallback)
    {
        if (Get(key) is not { } n)
            return fallback;
        var text = Scalar(n, key, "a number");
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v : throw new ConfigException($"{Where(n)}: {Key(key)}: expected a number, got '{text}'");
    }

    public bool Bool(string key, bool fallback)
    {
        if (Get(key) is not { } n)
            return fallback;
        return Scalar(n, key, "true or false") switch
        {
            "true" or "True" or "TRUE" => true,
            "false" or "False" or "FALSE" => false,
            var text => throw new ConfigException($"{Where(n)}: {Key(key)}: expected true or false, got '{text}'"),
        };
    }

    /// <summary>A list of integers, or null when the key is absent.</summary>
    public IReadOnlyList<int>? IntList(string key)
    {
        if (Get(key) is not { } n)
            return null;
        if (n is not YamlSequenceNode seq)
            throw new ConfigException($"{Where(n)}: {Key(key)}: expected a list of integers, got a {(n is YamlScalarNode ? "scalar" : Kind(n))}");
        return [.. seq.Children.Select(c => ParseInt(c, key))];
    }

    /// <summary>A list of strings, or null when the key is absent.</summary>
    public IReadOnlyList<string>? StringList(string key)
    {
        if (Get(key) is not { } n)
            return null;
        if (n is not YamlSequenceNode seq)
            throw new ConfigException($"{Where(n)}: {Key(key)}: expected a list of strings, got a {(n is YamlScalarNode ? "scalar" : Kind(n))}");
        return [.. seq.Children.Select(c => Scalar(c, key, "a string"))];
    }

    /// <summary>A nested mapping; an absent key gives an empty section (every getter falls back to its default).</summary>
    public YamlSection Section(string key)
    {
        var n = Get(key);
        return n switch
        {
            null => new YamlSection(File, Key(key), new YamlMappingNode(), _overridden),
            YamlMappingNode m => new YamlSection(File, Key(key), m, _overridden),
            _ => throw new ConfigException($"{Where(n)}: {Key(key)}: expected a mapping of keys, got a {(n is YamlScalarNode ? "scalar" : Kind(n))}"),
        };
    }

    /// <summary>A list of mappings (e.g. datasets); absent = empty.</summary>
    public IReadOnlyList<YamlSection> Sections(string key)
    {
        var n = Get(key);
        if (n is null)
            return [];
        if (n is not YamlSequenceNode seq)
            throw new ConfigException($"{Where(n)}: {Key(key)}: expected a list, got a {(n is YamlScalarNode ? "scalar" : Kind(n))}");
        return [.. seq.Children.Select((c, i) => c is YamlMappingNode m
            ? new YamlSection(File, $"{Key(key)}[{i}]", m, _overridden)
            : throw new ConfigException($"{Where(c)}: {Key(key)}[{i}]: expected a mapping of keys"))];
    }

    /// <summary>Fails on the first key no getter asked for, naming its line and the keys this section knows.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var (k, _) in _node.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            if (!_known.Contains(name))
                throw new ConfigException($"{Where(k)}: unknown key '{Key(name)}'; known keys{(Path.Length == 0 ? "" : $" of {Path}")}: {string.Join(", ", _known.Order(StringComparer.Ordinal))}");
        }
    }
}
