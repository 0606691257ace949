using System.Text.Json;

namespace Aspo.Rewards.Code;

/// <summary>
/// LiveCodeBench-style code reward: the program is the text between the last two lines containing a ``` fence
/// (LiveCodeBench's <c>extract_code</c>), run once per test case in the <see cref="PythonSandbox"/> with the test's
/// input on stdin and judged by <see cref="StdioJudge"/>. Score = fraction of tests passed; "acc" = 1 only when every
/// test passes (what avg@k and pass@k count). Tests run in parallel, one sandbox each.
/// </summary>
public sealed class CodeReward(PythonSandbox sandbox, SandboxLimits limits, int parallelism)
{
    public static RewardResult Zero(double tests) =>
        new(0, new Dictionary<string, double>
        {
            ["acc"] = 0, ["pass_fraction"] = 0, ["tests"] = tests, ["code_found"] = 0, ["time_limit"] = 0, ["runtime_error"] = 0, ["output_limit"] = 0,
        });

    public RewardResult Score(string response, string groundTruth)
    {
        var tests = ParseTests(groundTruth);
        var code = ExtractCode(response);
        if (code is null)
            return Zero(tests.Count);
        var results = new SandboxResult[tests.Count];
        var passed = new bool[tests.Count];
        Parallel.For(0, tests.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism) }, i =>
        {
            results[i] = sandbox.Run(code, tests[i].Input, limits);
            passed[i] = results[i].Status == SandboxStatus.Exited && StdioJudge.Matches(results[i].Stdout, tests[i].Output);
        });
        var fraction = (double)passed.Count(p => p) / tests.Count;
        return new RewardResult(fraction, new Dictionary<string, double>
        {
            ["acc"] = fraction == 1 ? 1 : 0,
            ["pass_fraction"] = fraction,
            ["tests"] = tests.Count,
            ["code_found"] = 1,
            ["time_limit"] = results.Count(r => r.Status == SandboxStatus.TimeLimit),
            ["runtime_error"] = results.Count(r => r.Status == SandboxStatus.RuntimeError),
            ["output_limit"] = results.Count(r => r.Status == SandboxStatus.OutputLimit),
        });
    }

    /// <summary>The text between the last two lines containing ```, or null when there are fewer than two such lines.</summary>
    public static string? ExtractCode(string response)
    {
        var lines = response.Split('\n');
        int last = -1, previous = -1;
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Contains("```", StringComparison.Ordinal))
            {
                previous = last;
                last = i;
            }
        }
        return previous < 0 ? null : string.Join('\n', lines[(previous + 1)..last]);
    }

    /// <summary>
    /// The test cases of a ground truth: a JSON object {"inputs": [...], "outputs": [...]} (APPS/TACO/verl layout) or a
    /// JSON list of {"input", "output"[, "testtype": "stdin"]} (LiveCodeBench layout). Anything else — including
    /// call-based (functional) tests, which this reward does not run — is an error naming what was expected.
    /// </summary>
    public static IReadOnlyList<StdioTest> ParseTests(string groundTruth)
    {
        const string Expected = "expected {\"inputs\": [..], \"outputs\": [..]} or [{\"input\": .., \"output\": ..}, ..] with string values";
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(groundTruth);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"ground_truth of a code task is not JSON ({e.Message}); {Expected}");
        }
        using (doc)
        {
            var tests = new List<StdioTest>();
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("fn_name", out _))
                    throw new ArgumentException("ground_truth of a code task has \"fn_name\": call-based tests are not supported, only stdin/stdout");
                if (!root.TryGetProperty("inputs", out var inputs) || !root.TryGetProperty("outputs", out var outputs)
                    || inputs.ValueKind != JsonValueKind.Array || outputs.ValueKind != JsonValueKind.Array)
                    throw new ArgumentException($"ground_truth of a code task lacks \"inputs\"/\"outputs\" arrays; {Expected}");
                if (inputs.GetArrayLength() != outputs.GetArrayLength())
                    throw new ArgumentException($"ground_truth of a code task has {inputs.GetArrayLength()} inputs but {outputs.GetArrayLength()} outputs");
                foreach (var (input, output) in inputs.EnumerateArray().Zip(outputs.EnumerateArray()))
                    tests.Add(new StdioTest(Text(input, "inputs"), Text(output, "outputs")));
            }
            else if (root.ValueKind == JsonValueKind.Array)
            {
                foreach (var t in root.EnumerateArray())
                {
                    if (t.ValueKind != JsonValueKind.Object || !t.TryGetProperty("input", out var input) || !t.TryGetProperty("output", out var output))
                        throw new ArgumentException($"ground_truth of a code task: a test is not an object with \"input\" and \"output\"; {Expected}");
                    if (t.TryGetProperty("testtype", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != "stdin")
                        throw new ArgumentException($"ground_truth of a code task has a \"{type.GetString()}\" test: only stdin/stdout tests are supported");
                    tests.Add(new StdioTest(Text(input, "input"), Text(output, "output")));
                }
            }
            else
                throw new ArgumentException($"ground_truth of a code task is a JSON {root.ValueKind}; {Expected}");
            if (tests.Count == 0)
                throw new ArgumentException("ground_truth of a code task has no test cases");
            return tests;
        }
    }

    private static string Text(JsonElement e, string field) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new ArgumentException($"ground_truth of a code task: \"{field}\" holds a JSON {e.ValueKind}, expected a string");
}
