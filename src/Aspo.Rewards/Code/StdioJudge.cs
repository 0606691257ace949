using System.Globalization;
using System.Numerics;
using System.Text;

namespace Aspo.Rewards.Code;

/// <summary>
/// LiveCodeBench's stdin/stdout comparison (<c>grade_stdio</c>): both outputs are stripped, split on '\n' and every line
/// stripped; the line counts must match; each line pair matches when the strings are equal or when both lines are
/// whitespace-separated lists of numbers that are equal as Python <c>Decimal</c>s (so "1.0" matches "1" and "1e2"
/// matches "100", but "0.333" never matches "0.3333"). Linear time, no regular expressions.
/// </summary>
public static class StdioJudge
{
    private const int MaxExponentDigits = 40;
    private static readonly BigInteger MaxEmax = BigInteger.Parse("999999999999999999", CultureInfo.InvariantCulture);
    private static readonly BigInteger MinEtiny = BigInteger.Parse("-1999999999999999997", CultureInfo.InvariantCulture);

    public static bool Matches(string actual, string expected)
    {
        var a = StrippedLines(actual);
        var e = StrippedLines(expected);
        if (a.Count != e.Count)
            return false;
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i] != e[i] && !DecimalsEqual(a[i], e[i]))
                return false;
        }
        return true;
    }

    private static List<string> StrippedLines(string text)
    {
        var lines = new List<string>();
        foreach (var line in text.Trim().Split('\n'))
            lines.Add(line.Trim());
        return lines;
    }

    private static bool DecimalsEqual(string a, string b)
    {
        var x = a.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var y = b.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (x.Length != y.Length)
            return false;
        for (var i = 0; i < x.Length; i++)
        {
            if (!TryNormalize(x[i], out var p) || !TryNormalize(y[i], out var q) || p is null || p != q)
                return false;
        }
        return true;
    }

    /// <summary>
    /// A Python Decimal literal in a canonical form with equal Decimals giving equal strings: "sign digits e exponent"
    /// with no leading or trailing zeros in digits ("0" for zero, whose sign is dropped since -0 == 0), "±inf" for
    /// infinities, and null for NaN (which equals nothing). False when Python's Decimal() would reject the text: like
    /// CPython, every underscore is dropped first, and exponents outside libmpdec's 64-bit range are rejected.
    /// </summary>
    internal static bool TryNormalize(string token, out string? canonical)
    {
        canonical = null;
        var s = token.Replace("_", "", StringComparison.Ordinal).AsSpan();
        var negative = false;
        if (s.Length > 0 && (s[0] == '+' || s[0] == '-'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s.Equals("inf", StringComparison.OrdinalIgnoreCase) || s.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            canonical = negative ? "-inf" : "+inf";
            return true;
        }
        if (IsNaN(s))
            return true;
        var digits = new StringBuilder();
        var fractionDigits = 0;
        var sawDigit = false;
        var sawPoint = false;
        var i = 0;
        for (; i < s.Length; i++)
        {
            var d = CharUnicodeInfo.GetDecimalDigitValue(s[i]);
            if (d >= 0)
            {
                digits.Append((char)('0' + d));
                sawDigit = true;
                if (sawPoint)
                    fractionDigits++;
            }
            else if (s[i] == '.' && !sawPoint)
                sawPoint = true;
            else
                break;
        }
        if (!sawDigit)
            return false;
        var exponent = BigInteger.Zero;
        if (i < s.Length && ((s[i] != 'e' && s[i] != 'E') || !TryParseExponent(s[(i + 1)..], out exponent)))
            return false;
        exponent -= fractionDigits;
        var coefficient = digits.ToString().TrimStart('0');
        // libmpdec's range (64-bit): adjusted exponent ≤ MAX_EMAX, exponent ≥ MIN_ETINY
        if (exponent + Math.Max(coefficient.Length, 1) - 1 > MaxEmax || exponent < MinEtiny)
            return false;
        if (coefficient.Length == 0)
        {
            canonical = "0";
            return true;
        }
        var trimmed = coefficient.TrimEnd('0');
        exponent += coefficient.Length - trimmed.Length;
        canonical = (negative ? "-" : "+") + trimmed + "e" + exponent.ToString(CultureInfo.InvariantCulture);
        return true;
    }

    private static bool IsNaN(ReadOnlySpan<char> s)
    {
        // NaN, sNaN, optionally followed by a diagnostic payload of digits
        if (s.Length > 0 && (s[0] == 's' || s[0] == 'S'))
            s = s[1..];
        if (s.Length < 3 || !s[..3].Equals("nan", StringComparison.OrdinalIgnoreCase))
            return false;
        foreach (var c in s[3..])
        {
            if (CharUnicodeInfo.GetDecimalDigitValue(c) < 0)
                return false;
        }
        return true;
    }

    private static bool TryParseExponent(ReadOnlySpan<char> s, out BigInteger value)
    {
        value = 0;
        var negative = false;
        if (s.Length > 0 && (s[0] == '+' || s[0] == '-'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s.Length == 0)
            return false;
        var digits = new StringBuilder(Math.Min(s.Length, MaxExponentDigits));
        foreach (var c in s)
        {
            var d = CharUnicodeInfo.GetDecimalDigitValue(c);
            if (d < 0)
                return false;
            if (d > 0 || digits.Length > 0)
                digits.Append((char)('0' + d));
        }
        // longer exponents are out of libmpdec's range anyway; the cap keeps the parse linear
        if (digits.Length > MaxExponentDigits)
        {
            value = negative ? MinEtiny - 1 : MaxEmax + 1;
            return true;
        }
        value = digits.Length == 0 ? BigInteger.Zero : BigInteger.Parse(digits.ToString(), CultureInfo.InvariantCulture);
        if (negative)
            value = -value;
        return true;
    }
}
