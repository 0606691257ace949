using System.Numerics;
using System.Text.RegularExpressions;

namespace Aspo.Rewards;

/// <summary>Grades a response against a ground truth: optional think-stripping, then Hendrycks MATH, plus the numeric fallback as a component.</summary>
public static class MathVerifier
{
    /// <param name="requireThinkClose">DeepScaleR style: only the text after the first "&lt;/think&gt;" counts; without it the response scores 0</param>
    public static RewardResult Verify(string response, string groundTruth, bool requireThinkClose = false)
    {
        var text = response;
        if (requireThinkClose)
        {
            var close = response.IndexOf("</think>", StringComparison.Ordinal);
            if (close < 0)
                return new RewardResult(0, new Dictionary<string, double> { ["format"] = 0, ["hendrycks"] = 0, ["numeric"] = 0 });
            text = response[(close + "</think>".Length)..];
        }
        var boxed = HendrycksMath.LastBoxedOnlyString(text);
        var answer = boxed is null ? null : HendrycksMath.RemoveBoxed(boxed);
        var hendrycks = answer is not null && HendrycksMath.IsEquivalent(answer, groundTruth) ? 1.0 : 0.0;
        var numeric = answer is not null && NumericAnswer.Equal(answer, groundTruth) ? 1.0 : 0.0;
        return new RewardResult(hendrycks, new Dictionary<string, double>
        {
            ["format"] = boxed is null ? 0 : 1, ["hendrycks"] = hendrycks, ["numeric"] = numeric,
        }, answer is null ? null : HendrycksMath.NormalizedOrRaw(answer));
    }
}
