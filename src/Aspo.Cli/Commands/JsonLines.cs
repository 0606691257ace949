using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Cli.Commands;

/// <summary>
/// JSON-lines input for the stdin verbs: every non-blank line parsed, errors naming the line and field. Callers convert
/// all lines before printing anything, so bad input prints nothing.
/// </summary>
internal static class JsonLines
{
    /// <summary>Every non-blank line as JSON with its 1-based line number; invalid JSON is one error naming the line.</summary>
    public static IEnumerable<(JsonNode? Node, int LineNumber)> Read(TextReader input)
    {
        var lineNumber = 0;
        while (input.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(line);
                CheckStrings(node);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"stdin line {lineNumber}: not valid JSON ({e.Message})");
            }
            catch (InvalidOperationException)
            {
                // System.Text.Json refuses to decode "\ud800" without its low surrogate only when the string is read
                throw new InvalidDataException($"stdin line {lineNumber}: a string holds an unpaired UTF-16 surrogate escape (e.g. \"\\ud800\"); expected valid Unicode text");
            }
            yield return (node, lineNumber);
        }
    }

    /// <summary>Decodes every string and property name of <paramref name="node"/> (throws InvalidOperationException on an unpaired surrogate).</summary>
    private static void CheckStrings(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    _ = key.Length;
                    CheckStrings(value);
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                    CheckStrings(item);
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                _ = v.GetValue<string>();
                break;
        }
    }

    /// <summary>Every non-blank line as a JSON object; anything else is an error naming the line and <paramref name="expected"/>.</summary>
    public static IEnumerable<(JsonObject Object, int LineNumber)> ReadObjects(TextReader input, string expected)
    {
        foreach (var (node, lineNumber) in Read(input))
            yield return (node as JsonObject ?? throw new InvalidDataException($"stdin line {lineNumber}: expected {expected}"), lineNumber);
    }

    /// <summary>A field that must be a JSON string.</summary>
    public static string RequiredString(JsonObject obj, string name, int lineNumber) =>
        obj[name] is JsonValue v && v.TryGetValue<string>(out var text)
            ? text
            : throw new InvalidDataException($"stdin line {lineNumber}: field \"{name}\" must be a JSON string");
}
