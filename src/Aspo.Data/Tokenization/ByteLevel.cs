namespace Aspo.Data.Tokenization;

/// <summary>
/// GPT-2's byte ↔ unicode map used by byte-level BPE: the 188 printable bytes map to themselves, the other 68
/// to U+0100 + n in byte order, so every byte sequence is a string of vocabulary characters.
/// </summary>
public static class ByteLevel
{
    /// <summary>ByteToChar[b]: the character standing for byte b.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>CharToByte[c] for c &lt; 0x200: the byte of a mapped character, or -1.</summary>
    public static readonly short[] CharToByte = BuildInverse();

    private static char[] Build()
    {
        var map = new char[256];
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(0x100 + n++);
        }
        return map;
    }

    private static short[] BuildInverse()
    {
        var inverse = new short[0x200];
        Array.Fill(inverse, (short)-1);
        for (var b = 0; b < 256; b++)
            inverse[ByteToChar[b]] = (short)b;
        return inverse;
    }
}
