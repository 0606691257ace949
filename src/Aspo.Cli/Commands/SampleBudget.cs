namespace Aspo.Cli.Commands;

/// <summary>
/// Sizes that allocate are bounded before anything is allocated: every sample keeps its tokens, log-probs and
/// entropies (12 bytes a token) and the JSON printed for it, so the samples × max new tokens of a request must fit in
/// the memory this process may use.
/// </summary>
internal static class SampleBudget
{
    /// <summary>Bytes a sample may take per generated token: ids, log-probs, entropies, and the printed text and JSON.</summary>
    private const long BytesPerToken = 64;

    public static void Check(string what, long samples, int maxNewTokens)
    {
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var need = samples * (Math.Max(maxNewTokens, 1) * BytesPerToken + 1024);
        if (need > available / 2)
        {
            var most = Math.Max(1, available / 2 / (Math.Max(maxNewTokens, 1) * BytesPerToken + 1024));
            throw new ArgumentException(FormattableString.Invariant(
                $"{what} = {samples:N0} samples of up to {maxNewTokens} tokens would need about {need / 1e9:F1} GB; this process may use {available / 1e9:F1} GB, so at most {most:N0} samples per call"));
        }
    }
}
