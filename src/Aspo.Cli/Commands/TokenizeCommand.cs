using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Data.Tokenization;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo tokenize --tokenizer PATH [--decode]</c>: one JSON string per line in, one JSON array of ids per line out
/// (or the reverse with --decode), so our tokenizer can be compared with any other. Input is validated before output.
/// </summary>
internal static class TokenizeCommand
{
    // non-ASCII text stays readable in the output (still valid JSON)
    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json, or a folder containing one.", Required = true };
        var decode = new Option<bool>("--decode") { Description = "Read JSON arrays of ids and print JSON strings instead." };
        var command = new Command("tokenize", "Encode JSON-string lines to id arrays (or decode id arrays with --decode) with a tokenizer.json.")
        {
            tokenizer, decode,
        };
        command.SetAction(parse => CommandRunner.Run(() => Run(parse.GetValue(tokenizer)!, parse.GetValue(decode), Console.In, Console.Out)));
        return command;
    }

    internal static int Run(string tokenizerPath, bool decode, TextReader input, TextWriter output)
    {
        var tokenizer = BpeTokenizer.Load(tokenizerPath);
        var results = new List<string>();
        foreach (var (node, lineNumber) in JsonLines.Read(input))
        {
            if (decode)
            {
                if (node is not JsonArray array)
                    throw new InvalidDataException($"stdin line {lineNumber}: expected a JSON array of token ids");
                var ids = new int[array.Count];
                for (var i = 0; i < ids.Length; i++)
                {
                    if (array[i] is not JsonValue v || !v.TryGetValue<int>(out ids[i]) || tokenizer.IdToToken(ids[i]) is null)
                        throw new InvalidDataException($"stdin line {lineNumber}: element {i} = {array[i]?.ToJsonString() ?? "null"} is not a token id of {tokenizer.Source}");
                }
                results.Add(JsonSerializer.Serialize(tokenizer.Decode(ids), Readable));
            }
            else
            {
                if (node is not JsonValue value || !value.TryGetValue<string>(out var text))
                    throw new InvalidDataException($"stdin line {lineNumber}: expected a JSON string");
                results.Add(JsonSerializer.Serialize(tokenizer.Encode(text)));
            }
        }
        foreach (var r in results)
            output.WriteLine(r);
        return 0;
    }
}
