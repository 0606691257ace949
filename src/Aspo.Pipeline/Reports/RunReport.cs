using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Aspo.Pipeline;

/// <summary>
/// <c>aspo report</c>: one self-contained HTML file (inline SVG and CSS, no script, nothing fetched) with line charts
/// across iterations of reward, held-out accuracy, entropy, response length, KL, clip fractions and the
/// positive/negative IS-weight means — the ASPO article's training-dynamics figures — with several runs overlaid.
/// </summary>
public static class RunReport
{
    public static readonly IReadOnlyList<ReportChart> Charts =
    [
        new("Reward (training rollouts)", "rollout", m => m == "critic/score/mean", "critic/score/mean"),
        new("Held-out accuracy (first eval suite)", "eval", m => m.StartsWith(HeldOutPrefix, StringComparison.Ordinal), "val-core/all/acc/mean@n"),
        new("Entropy", "iteration", m => m == "actor/entropy", "actor/entropy"),
        new("Response length", "rollout", m => m == "response_length/mean", "response_length/mean"),
        new("KL (π_old ‖ π)", "iteration", m => m == "actor/ppo_kl", "actor/ppo_kl"),
        new("Clip fraction", "iteration", m => m == "actor/pg_clipfrac", "actor/pg_clipfrac"),
        new("Dual-clip fraction (negative A)", "iteration", m => m == "actor/negative_pg_clipfrac_dual", "actor/negative_pg_clipfrac_dual"),
        new("IS weight mean, positive advantages", "iteration", m => m == "actor/is_weight_pos_mean", "actor/is_weight_pos_mean"),
        new("IS weight mean, negative advantages", "iteration", m => m == "actor/is_weight_neg_mean", "actor/is_weight_neg_mean"),
        new("Repetition ratio", "rollout", m => m == "token/repetition_ratio", "token/repetition_ratio"),
    ];

    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

    /// <summary>The eval metric of all prompts of a suite, avg@n: <c>val-core/all/acc/mean@n</c>.</summary>
    public const string HeldOutPrefix = "val-core/all/acc/mean@";

    /// <summary>A run's metric rows (<see cref="MetricsLog.Read(string)"/>).</summary>
    public static IReadOnlyList<MetricRow> ReadMetrics(string runDirectory) => MetricsLog.Read(runDirectory);

    /// <summary>The points of one chart for one run: (iteration, value), one per iteration (the last row wins). Eval
    /// charts follow the run's first suite (the headline one; later suites would overwrite it at the same iteration).</summary>
    public static IReadOnlyList<(int X, double Y)> Series(IReadOnlyList<MetricRow> rows, ReportChart chart)
    {
        var points = new SortedDictionary<int, double>();
        var firstSuite = rows.FirstOrDefault(r => r.Kind == "eval")?.Suite;
        foreach (var (kind, iteration, suite, data) in rows)
        {
            if (kind != chart.Kind || (kind == "eval" && suite != firstSuite))
                continue;
            foreach (var (name, value) in data)
            {
                if (chart.Metric(name) && value is JsonValue v && v.TryGetValue<double>(out var y) && double.IsFinite(y))
                {
                    points[iteration] = y;
                    break;
                }
            }
        }
        return [.. points.Select(kv => (kv.Key, kv.Value))];
    }

    public static string Html(IReadOnlyList<string> runDirectories)
    {
        if (runDirectories.Count == 0)
            throw new ArgumentException("report needs at least one run directory");
        var runs = runDirectories.Select(d => (Name: Path.GetFileName(Path.GetFullPath(d).TrimEnd(Path.DirectorySeparatorChar)), Rows: ReadMetrics(d))).ToList();
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ASPO pipeline report</title><style>")
         .Append("body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}table{border-collapse:collapse;margin:12px 0}")
         .Append("td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:right}th:first-child,td:first-child{text-align:left}")
         .Append(".grid{display:flex;flex-wrap:wrap;gap:16px}.chart{border:1px solid #ddd;padding:8px}.chart h2{font-size:14px;margin:0 0 4px}")
         .Append(".wide{overflow-x:auto;max-width:100%}.legend span{display:inline-block;margin-right:12px;font-size:12px}.swatch{display:inline-block;width:12px;height:3px;vertical-align:middle;margin-right:4px}")
         .Append("</style></head><body>\n<h1>ASPO pipeline report</h1>\n<div class=\"legend\">");
        for (var r = 0; r < runs.Count; r++)
            b.Append($"<span><i class=\"swatch\" style=\"background:{Colors[r % Colors.Length]}\"></i>{WebUtility.HtmlEncode(runs[r].Name)}</span>");
        b.Append("</div>\n<div class=\"wide\"><table><tr><th>run</th>");
        foreach (var chart in Charts)
            b.Append($"<th>{WebUtility.HtmlEncode(chart.Label)} (last)</th>");
        b.Append("</tr>\n");
        foreach (var run in runs)
        {
            b.Append($"<tr><td>{WebUtility.HtmlEncode(run.Name)}</td>");
            foreach (var chart in Charts)
            {
                var s = Series(run.Rows, chart);
                b.Append("<td>").Append(s.Count == 0 ? "–" : Format(s[^1].Y)).Append("</td>");
            }
            b.Append("</tr>\n");
        }
        b.Append("</table></div>\n<div class=\"grid\">\n");
        foreach (var chart in Charts)
            b.Append(Svg(chart, [.. runs.Select(r => Series(r.Rows, chart))]));
        b.Append("</div>\n</body></html>\n");
        return b.ToString();
    }

    // table cells: tiny values (KL, clip fractions) in scientific notation rather than "0" or "-0"
    private static string Format(double y) =>
        y == 0 ? "0"
        : Math.Abs(y) < 1e-3 ? y.ToString("0.##E+0", CultureInfo.InvariantCulture)
        : y.ToString(Math.Abs(y) >= 100 ? "0.0" : "0.####", CultureInfo.InvariantCulture);

    /// <summary>An axis label with one more decimal than the tick step needs, so ticks 1e-5 apart read 0.0000100,
    /// 0.0000125, … instead of all "0" (and never "-0").</summary>
    public static string TickLabel(double value, double step)
    {
        var decimals = step > 0 && double.IsFinite(step) ? Math.Clamp((int)Math.Ceiling(-Math.Log10(step)) + 1, 0, 12) : 2;
        var rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        return (rounded == 0 ? 0.0 : rounded).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>One line chart, 420×240 px: axes, 5 ticks each way, one polyline (and dots) per run.</summary>
    private static string Svg(ReportChart chart, IReadOnlyList<IReadOnlyList<(int X, double Y)>> series)
    {
        const int W = 420, H = 240, Left = 56, Right = 12, Top = 10, Bottom = 34;
        var all = series.SelectMany(s => s).ToList();
        var b = new StringBuilder($"<div class=\"chart\"><h2>{WebUtility.HtmlEncode(chart.Title)}</h2>");
        b.Append($"<svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(chart.Label)}\">");
        b.Append($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{W - Left - Right}\" height=\"{H - Top - Bottom}\" fill=\"#fafafa\" stroke=\"#999\"/>");
        if (all.Count == 0)
        {
            b.Append($"<text x=\"{W / 2}\" y=\"{H / 2}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#888\">no data ({WebUtility.HtmlEncode(chart.Label)})</text></svg></div>\n");
            return b.ToString();
        }
        double x0 = all.Min(p => p.X), x1 = all.Max(p => p.X), y0 = all.Min(p => p.Y), y1 = all.Max(p => p.Y);
        if (x1 == x0) { x0 -= 1; x1 += 1; }
        if (y1 == y0) { var pad = Math.Max(Math.Abs(y0) * 0.1, 1e-3); y0 -= pad; y1 += pad; }
        var padY = (y1 - y0) * 0.05;
        y0 -= padY;
        y1 += padY;
        double Px(double x) => Left + (x - x0) / (x1 - x0) * (W - Left - Right);
        double Py(double y) => H - Bottom - (y - y0) / (y1 - y0) * (H - Top - Bottom);
        string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        var integerX = x1 - x0 >= 4; // iterations: whole-number ticks
        for (var t = 0; t <= 4; t++)
        {
            var yv = y0 + (y1 - y0) * t / 4;
            var xv = x0 + (x1 - x0) * t / 4;
            if (integerX)
                xv = Math.Round(xv);
            b.Append($"<line x1=\"{Left}\" x2=\"{W - Right}\" y1=\"{N(Py(yv))}\" y2=\"{N(Py(yv))}\" stroke=\"#e4e4e4\"/>")
             .Append($"<text x=\"{Left - 4}\" y=\"{N(Py(yv) + 4)}\" text-anchor=\"end\" font-size=\"10\">{TickLabel(yv, (y1 - y0) / 4)}</text>")
             .Append($"<text x=\"{N(Px(xv))}\" y=\"{H - Bottom + 14}\" text-anchor=\"middle\" font-size=\"10\">{N(xv)}</text>");
        }
        b.Append($"<text x=\"{(Left + W - Right) / 2}\" y=\"{H - 4}\" text-anchor=\"middle\" font-size=\"11\">iteration</text>");
        for (var r = 0; r < series.Count; r++)
        {
            if (series[r].Count == 0)
                continue;
            var color = Colors[r % Colors.Length];
            var points = string.Join(' ', series[r].Select(p => $"{N(Px(p.X))},{N(Py(p.Y))}"));
            b.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points}\"/>");
            foreach (var p in series[r])
                b.Append($"<circle cx=\"{N(Px(p.X))}\" cy=\"{N(Py(p.Y))}\" r=\"2.5\" fill=\"{color}\"/>");
        }
        b.Append("</svg></div>\n");
        return b.ToString();
    }
}
