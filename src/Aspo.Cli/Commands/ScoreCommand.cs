using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Aspo.Data;
using Aspo.Onnx;
using Aspo.Pipeline;
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
        var verifier = new Option<string?>("--verifier") { Description = "Grade with a model-based soft verifier instead: an exported ONNX folder; the reward is its P(YES) given question, reference and response (lines may carry \"question\")." };
        var normalize = new Option<bool>("--verifier-normalize") { Description = "With --verifier: reward P(YES) / (P(YES) + P(NO))." };
        var command = new Command("score", "Score JSON lines {\"response\", \"ground_truth\"} from stdin with the reward of a data_source.")
        {
            dataSource, think, verifier, normalize,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var source = parse.GetValue(dataSource)!;
            if (parse.GetValue(verifier) is not { } folder)
                return Run(RewardRegistry.CreateDefault(parse.GetValue(think)), source, Console.In, Console.Out);
            using var model = OnnxDecoder.Open(folder);
            var soft = new SoftVerifierReward(model, model.LoadTokenizer(), ChatTemplate.FromTokenizerConfig(folder),
                new SoftVerifierSettings { Normalize = parse.GetValue(normalize) });
            var registry = new RewardRegistry();
            registry.RegisterBatch(source, soft.ScoreBatch);
            return Run(registry, source, Console.In, Console.Out);
        }));
        return command;
    }

    internal static int Run(RewardRegistry registry, string dataSource, TextReader input, TextWriter output)
    {
        registry.Resolve(dataSource);
        var requests = new List<RewardRequest>();
        foreach (var (obj, lineNumber) in JsonLines.ReadObjects(input, "a JSON object with \"response\" and \"ground_truth\""))
        {
            var question = obj.ContainsKey("question") ? JsonLines.RequiredString(obj, "question", lineNumber) : "";
            requests.Add(new RewardRequest(dataSource, question, JsonLines.RequiredString(obj, "response", lineNumber), JsonLines.RequiredString(obj, "ground_truth", lineNumber)));
        }
        foreach (var r in registry.ScoreBatch(requests))
            output.WriteLine(Format(r));
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
