using System.Runtime.InteropServices;
using System.Text;

namespace Aspo.Data.Tokenization;

/// <summary>
/// Decodes ids as they arrive (rollout streaming): each call returns the text that is complete so far; bytes of a
/// UTF-8 sequence split across tokens are held until the sequence completes; invalid bytes become U+FFFD as in a
/// full decode. <see cref="Flush"/> ends the stream.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly BpeTokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private readonly List<byte> _bytes = [];
    private char[] _chars = new char[64];

    internal StreamingDecoder(BpeTokenizer tokenizer, bool skipSpecial)
    {
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
    }

    /// <summary>The new text produced by token <paramref name="id"/> (possibly empty).</summary>
    public string Push(int id)
    {
        _bytes.Clear();
        _tokenizer.AppendBytes(id, _skipSpecial, _bytes);
        return DecodeBytes(CollectionsMarshal.AsSpan(_bytes), flush: false);
    }

    /// <summary>Whether bytes of an incomplete UTF-8 sequence are held back.</summary>
    public bool HasPendingBytes => _utf8.GetCharCount([], flush: true) > 0;

    /// <summary>Text still held back at the end of the stream (replacement characters for an incomplete sequence).</summary>
    public string Flush() => DecodeBytes([], flush: true);

    private string DecodeBytes(ReadOnlySpan<byte> bytes, bool flush)
    {
        var max = _utf8.GetCharCount(bytes, flush);
        if (_chars.Length < max)
            _chars = new char[Math.Max(max, 2 * _chars.Length)];
        var n = _utf8.GetChars(bytes, _chars, flush);
        return new string(_chars, 0, n);
    }
}
