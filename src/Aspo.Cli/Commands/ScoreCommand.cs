using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aspo.Rewards;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo score --data-source NAME</c>: one JSON object {"response": …, "ground_truth": …} per line in, one JSON object
/// {"score": …, components…} per line out, so data and rewards can be checked (or compared with another grader) before
/// spending compute. Every line is validated before anything is printed.
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var dataSource = new Option<string>("--data-source") { Description = "The data_source whose reward grades the lines (e.g. lighteval/MATH).", Required = true };
        var think = new Option<bool>("--require-think-close") { Description = "Grade only the text after </think>; a response without it scores 0." };
        var command = new Command("score", "Score JSON lines {\"response\", \"ground_truth\"} from stdin with the reward of a data_source.")
        {
            dataSource, think,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
            Run(RewardRegistry.CreateDefault(parse.GetValue(think)), parse.GetValue(dataSource)!, Console.In, Console.Out)));
        return command;
    }

    internal static int Run(RewardRegistry registry, string dataSource, TextReader input, TextWriter output)
    {
        var grader = registry.Resolve(dataSource);
        var results = new List<string>();
        foreach (var (obj, lineNumber) in JsonLines.ReadObjects(input, "a JSON object with \"response\" and \"ground_truth\""))
            results.Add(Format(grader(JsonLines.RequiredString(obj, "response", lineNumber), JsonLines.RequiredString(obj, "ground_truth", lineNumber))));
        foreach (var r in results)
            output.WriteLine(r);
        return 0;
    }

    // {"score":1,"format":1,"hendrycks":1,"numeric":1}: score first, components in their registered order
    private static string Format(RewardResult result)
    {
        var sb = new StringBuilder("{\"score\":").Append(result.Score.ToString("R", CultureInfo.InvariantCulture));
        foreach (var (name, value) in result.Components)
            sb.Append(',').Append(JsonSerializer.Serialize(name)).Append(':').Append(value.ToString("R", CultureInfo.InvariantCulture));
        return sb.Append('}').ToString();
    }
}
