using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Aspo.Rewards;

/// <summary>
/// An exact-rational fallback, reported as its own component (verl does not score it): integers, decimals, a/b and
/// \frac{a}{b} (signs, thousands separators, a trailing percent sign as /100, an "x =" prefix) parsed into fractions
/// and compared exactly. Anything else is "not a number" and compares false.
/// </summary>
public static class NumericAnswer
{
    // NonBacktracking: linear time in the input, so no wall-clock timeout — a grade never depends on how busy the machine is
    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;
    // [0-9], not \d: \d also matches other scripts' digits, which BigInteger.Parse rejects (found by the fuzz test)
    private static readonly Regex Decimal = new(@"^([+-]?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?$", Options);
    private static readonly Regex Fraction = new(@"^([+-]?)\\[dt]?frac\{([+-]?[0-9]+)\}\{([+-]?[0-9]+)\}$", Options);
    private static readonly Regex Slash = new(@"^([+-]?[0-9]+)/([+-]?[0-9]+)$", Options);

    /// <summary>True when both sides parse to the same rational number.</summary>
    public static bool Equal(string answer, string groundTruth) =>
        TryParse(answer, out var a) && TryParse(groundTruth, out var b) && a == b;

    /// <summary>The value as a reduced fraction (numerator, denominator &gt; 0), or false.</summary>
    public static bool TryParse(string text, out (BigInteger Numerator, BigInteger Denominator) value)
    {
        value = default;
        if (text.Length > 200)
            return false;
        var s = text.Replace(" ", "", StringComparison.Ordinal).Replace("\\!", "", StringComparison.Ordinal).Replace("$", "", StringComparison.Ordinal);
        var eq = s.LastIndexOf('=');
        if (eq >= 0 && eq <= 2)
            s = s[(eq + 1)..];
        var percent = s.EndsWith("\\%", StringComparison.Ordinal) ? 2 : s.EndsWith('%') ? 1 : 0;
        s = s[..^percent];
        {
            BigInteger n, d;
            Match m;
            if ((m = Decimal.Match(s)).Success)
            {
                var digits = m.Groups[2].Value.Replace(",", "", StringComparison.Ordinal) + m.Groups[3].Value;
                n = BigInteger.Parse(digits, CultureInfo.InvariantCulture) * (m.Groups[1].Value == "-" ? -1 : 1);
                d = BigInteger.Pow(10, m.Groups[3].Value.Length);
            }
            else if ((m = Fraction.Match(s)).Success)
            {
                n = BigInteger.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) * (m.Groups[1].Value == "-" ? -1 : 1);
                d = BigInteger.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            }
            else if ((m = Slash.Match(s)).Success)
            {
                n = BigInteger.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                d = BigInteger.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            }
            else
                return false;
            if (d.IsZero)
                return false;
            if (percent > 0)
                d *= 100;
            if (d.Sign < 0)
            {
                n = -n;
                d = -d;
            }
            var g = BigInteger.GreatestCommonDivisor(n, d);
            value = g.IsZero ? (n, d) : (n / g, d / g);
            return true;
        }
    }
}
