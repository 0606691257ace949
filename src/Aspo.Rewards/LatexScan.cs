namespace Aspo.Rewards;

/// <summary>Text scans the graders share.</summary>
internal static class LatexScan
{
    /// <summary>
    /// The reference graders' brace matching (<c>last_boxed_only_string</c>): from <paramref name="from"/> count '{' up and
    /// '}' down, and return the index of the '}' that brings the count back to 0, or -1 when the group never closes.
    /// </summary>
    public static int ClosingBrace(string s, int from)
    {
        var open = 0;
        for (var i = from; i < s.Length; i++)
        {
            if (s[i] == '{')
                open++;
            else if (s[i] == '}' && --open == 0)
                return i;
        }
        return -1;
    }
}
