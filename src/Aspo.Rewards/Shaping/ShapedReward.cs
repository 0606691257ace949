
namespace Aspo.Rewards;

/// <summary>
/// Applies <see cref="RewardShapingSettings"/> on top of any reward: the verifiable score is kept as "base_score" and
/// every term is logged as its own component ("format", "length_penalty", "overlong_reward" — verl's name).
/// </summary>
public sealed class ShapedReward(IRewardFunction inner, RewardShapingSettings settings) : IRewardFunction
{
    public IReadOnlyList<RewardResult> ScoreBatch(IReadOnlyList<RewardRequest> batch)
    {
        var results = inner.ScoreBatch(batch);
        if (settings.IsIdentity)
            return results;
        return [.. results.Select((r, i) => Shape(r, batch[i]))];
    }

    private RewardResult Shape(RewardResult r, RewardRequest request)
    {
        var components = new Dictionary<string, double>(r.Components) { ["base_score"] = r.Score };
        var score = r.Score;
        if (settings.RequiredTags.Count > 0)
        {
            var ok = TagsInOrder(request.Response, settings.RequiredTags);
            components["format"] = ok ? 1 : 0;
            if (ok)
                score += settings.FormatBonus;
            else if (settings.FormatMissingScore is { } missing)
                score = missing;
        }
        if (settings.LengthPenaltyTarget > 0)
        {
            var penalty = -settings.LengthPenaltyPerToken * Math.Max(0, request.ResponseTokens - settings.LengthPenaltyTarget);
            components["length_penalty"] = penalty;
            score += penalty;
        }
        if (settings.OverlongMaxLength > 0)
        {
            var overlong = OverlongPenalty(request.ResponseTokens, settings.OverlongMaxLength, settings.OverlongBuffer, settings.OverlongPenaltyFactor);
            components["overlong_reward"] = overlong;
            score += overlong;
        }
        return new RewardResult(score, components, r.Answer);
    }

    private static bool TagsInOrder(string response, IReadOnlyList<string> tags)
    {
        var at = 0;
        foreach (var tag in tags)
        {
            var found = response.IndexOf(tag, at, StringComparison.Ordinal);
            if (found < 0)
                return false;
            at = found + tag.Length;
        }
        return true;
    }

    /// <summary>
    /// DAPO soft overlong punishment (verl DAPO reward manager): with expected = maxLength − buffer,
    /// penalty = min(−(length − expected) / buffer · factor, 0), added to the score.
    /// </summary>
    public static double OverlongPenalty(int responseLength, int maxResponseLength, int bufferLength, double penaltyFactor = 1.0)
    {
        if (bufferLength <= 0 || bufferLength > maxResponseLength)
            throw new ArgumentException($"overlong buffer must be in 1..{maxResponseLength} (the max response length), got {bufferLength}", nameof(bufferLength));
        var expected = maxResponseLength - bufferLength;
        return Math.Min(-(double)(responseLength - expected) / bufferLength * penaltyFactor, 0);
    }
}
