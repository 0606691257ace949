using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Aspo.Pipeline;

/// <summary>
/// How evaluation results are shown and kept: a console table, a JSON report, and metric rows appended to a run's
/// metrics.jsonl under verl's validation names (<c>val-core/{data_source}/acc/mean@{n}</c>, …).
/// </summary>
public static class EvalReport
{
    public const string PassAtKFormula = "pass@k = 1 − C(n−c, k) / C(n, k) per prompt (unbiased estimator, Chen et al. 2021), averaged over prompts";
    public const string MajAtKDefinition = "maj@k = the most frequent answer among a prompt's first k samples is correct";

    public static string Table(SuiteResult result)
    {
        var n = result.Settings.SamplesPerPrompt;
        var s = result.Settings.Sampling;
        var b = new StringBuilder();
        b.AppendLine($"suite {result.Suite}: {result.Prompts} prompts × {n} samples, temperature {F(s.Temperature)}, top-p {F(s.TopP)}" +
                     $"{(s.TopK > 0 ? $", top-k {s.TopK}" : "")}, ≤ {s.MaxNewTokens} new tokens, seed {result.Settings.Seed}");
        var ks = result.Summaries[0].PassAtK.Select(x => x.K).ToList();
        var majK = result.Summaries[0].MajK;
        var width = Math.Max(12, result.Summaries.Max(x => x.DataSource.Length));
        b.Append($"{"data_source".PadRight(width)}  prompts  {$"avg@{n}",8}").Append(string.Concat(ks.Select(k => $"  {$"pass@{k}",8}")))
         .AppendLine($"  {$"maj@{majK}",8}  {"score",8}  {"length",8}  {"trunc",6}");
        foreach (var x in result.Summaries)
        {
            b.Append($"{x.DataSource.PadRight(width)}  {x.Prompts,7}  {P(x.AvgAtN),8}").Append(string.Concat(x.PassAtK.Select(p => $"  {P(p.PassAtK),8}")))
             .AppendLine($"  {(x.MajAtK is { } m ? P(m) : "n/a"),8}  {F(x.MeanScore),8}  {x.MeanResponseLength.ToString("0.0", CultureInfo.InvariantCulture),8}  {P(x.TruncationRate),6}");
        }
        b.AppendLine($"  {PassAtKFormula}; {MajAtKDefinition}; avg@{n} = mean accuracy of all samples; length in tokens; trunc = share cut at the token limit");
        return b.ToString();
    }

    public static JsonObject Json(SuiteResult result)
    {
        var s = result.Settings;
        return new JsonObject
        {
            ["suite"] = result.Suite, ["prompts"] = result.Prompts, ["samples_per_prompt"] = s.SamplesPerPrompt,
            ["temperature"] = s.Sampling.Temperature, ["top_p"] = s.Sampling.TopP, ["top_k"] = s.Sampling.TopK,
            ["max_new_tokens"] = s.Sampling.MaxNewTokens, ["seed"] = s.Seed, ["pass_at_k_formula"] = PassAtKFormula,
            ["summaries"] = new JsonArray([.. result.Summaries.Select(x => (JsonNode)new JsonObject
            {
                ["data_source"] = x.DataSource, ["prompts"] = x.Prompts, ["samples"] = x.Samples, ["avg_at_n"] = x.AvgAtN, ["mean_score"] = x.MeanScore,
                ["pass_at_k"] = new JsonObject(x.PassAtK.Select(p => KeyValuePair.Create(p.K.ToString(CultureInfo.InvariantCulture), (JsonNode?)p.PassAtK))),
                ["maj_k"] = x.MajK, ["maj_at_k"] = x.MajAtK, ["mean_response_length"] = x.MeanResponseLength, ["truncation_rate"] = x.TruncationRate,
            })]),
        };
    }

    /// <summary>One metrics row for a suite at an iteration ({"kind": "eval", "iteration", "step", "suite", "data": {…}}):
    /// verl's val-core / val-aux names per data_source.</summary>
    public static JsonObject MetricsRow(SuiteResult result, int iteration)
    {
        var n = result.Settings.SamplesPerPrompt;
        var data = new JsonObject();
        foreach (var x in result.Summaries)
        {
            var source = x.DataSource;
            data[$"val-core/{source}/acc/mean@{n}"] = x.AvgAtN;
            foreach (var (k, pass) in x.PassAtK)
                data[$"val-core/{source}/acc/pass@{k}"] = pass;
            if (x.MajAtK is { } maj)
                data[$"val-core/{source}/acc/maj@{x.MajK}/mean"] = maj;
            data[$"val-aux/{source}/reward/mean@{n}"] = x.MeanScore;
            data[$"val-aux/{source}/response_length/mean"] = x.MeanResponseLength;
            data[$"val-aux/{source}/response_length/clip_ratio"] = x.TruncationRate;
        }
        return new JsonObject { ["kind"] = "eval", ["iteration"] = iteration, ["step"] = iteration, ["suite"] = result.Suite, ["data"] = data };
    }

    private static string F(double x) => x.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string P(double x) => (100 * x).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
