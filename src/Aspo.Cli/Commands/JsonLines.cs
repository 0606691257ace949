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
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"stdin line {lineNumber}: not valid JSON ({e.Message})");
            }
            yield return (node, lineNumber);
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
