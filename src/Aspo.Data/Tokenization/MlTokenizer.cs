using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Aspo.Data.Tokenization;

/// <summary>
/// Our byte-level BPE tokenizer behind the <c>Microsoft.ML.Tokenizers</c> API, for .NET code that expects a
/// <see cref="Tokenizer"/>: ids, token counts, tokens with character offsets, and decoding. Encoding is ours (exact to
/// Hugging Face on the parity corpus); the package's own BPE, built from the same files, mismatches on astral-plane
/// letters and is slower (README, "Dependencies"). Offsets refer to the NFC-normalized text when normalization changed
/// it (then returned as the normalized text); special tokens are kept when decoding.
/// </summary>
public sealed class MlTokenizer : Tokenizer
{
    private readonly BpeTokenizer _bpe;

    public MlTokenizer(BpeTokenizer bpe) => _bpe = bpe.Clone(); // a private clone: the piece cache is not thread-safe

    /// <summary>Loads a tokenizer.json.</summary>
    public static MlTokenizer Load(string path) => new(BpeTokenizer.Load(path));

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var (input, normalized) = Prepare(text, textSpan, settings);
        var ids = new List<int>();
        var offsets = new List<Range>();
        _bpe.Encode(input, ids, offsets);
        var count = KeptTokens(offsets, settings.MaxTokenCount);
        var tokens = new EncodedToken[count];
        for (var i = 0; i < count; i++)
            tokens[i] = new EncodedToken(ids[i], _bpe.IdToToken(ids[i]) ?? "", offsets[i]);
        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = normalized, CharsConsumed = Consumed(offsets, count, input.Length) };
    }

    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var (input, normalized) = Prepare(text, textSpan, settings);
        var ids = new List<int>();
        if (settings.MaxTokenCount == int.MaxValue)
        {
            _bpe.Encode(input, ids);
            return new EncodeResults<int> { Tokens = ids, NormalizedText = normalized, CharsConsumed = input.Length };
        }
        var offsets = new List<Range>();
        _bpe.Encode(input, ids, offsets);
        var count = KeptTokens(offsets, settings.MaxTokenCount);
        return new EncodeResults<int> { Tokens = ids.GetRange(0, count), NormalizedText = normalized, CharsConsumed = Consumed(offsets, count, input.Length) };
    }

    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings) =>
        EncodeToIds(text, textSpan, settings).Tokens.Count;

    public override string Decode(IEnumerable<int> ids) => _bpe.Decode(ids.ToArray());

    /// <summary>Decodes as many whole ids as fit; an id whose UTF-8 sequence is still incomplete is not counted as consumed.</summary>
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        var decoder = _bpe.CreateStreamingDecoder();
        idsConsumed = 0;
        charsWritten = 0;
        var written = 0;
        var pushed = 0;
        foreach (var id in ids)
        {
            var text = decoder.Push(id);
            pushed++;
            if (written + text.Length > destination.Length)
                return OperationStatus.DestinationTooSmall;
            text.AsSpan().CopyTo(destination[written..]);
            written += text.Length;
            if (!decoder.HasPendingBytes)
            {
                idsConsumed = pushed;
                charsWritten = written;
            }
        }
        var rest = decoder.Flush();
        if (written + rest.Length > destination.Length)
            return OperationStatus.DestinationTooSmall;
        rest.AsSpan().CopyTo(destination[written..]);
        idsConsumed = pushed;
        charsWritten = written + rest.Length;
        return OperationStatus.Done;
    }

    /// <summary>The text to encode: NFC-normalized when the tokenizer normalizes (and normalization is wanted), with the normalized text when it differs.</summary>
    private (string Input, string? Normalized) Prepare(string? text, ReadOnlySpan<char> span, EncodeSettings settings)
    {
        if (!settings.ConsiderPreTokenization)
            throw new NotSupportedException("this byte-level BPE always splits text with its pre-tokenizer pattern (ConsiderPreTokenization = false is not supported)");
        var input = text ?? span.ToString();
        if (!settings.ConsiderNormalization || !_bpe.NormalizesToNfc || input.IsNormalized(NormalizationForm.FormC))
            return (input, null);
        var normalized = input.Normalize(NormalizationForm.FormC);
        return (normalized, normalized);
    }

    /// <summary>At most <paramref name="max"/> tokens, never ending inside a character that the next token shares.</summary>
    private static int KeptTokens(List<Range> offsets, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var count = Math.Min(max, offsets.Count);
        while (count > 0 && count < offsets.Count && offsets[count].Start.Value < offsets[count - 1].End.Value)
            count--;
        return count;
    }

    private static int Consumed(List<Range> offsets, int count, int length) =>
        count == offsets.Count ? length : count == 0 ? 0 : offsets[count - 1].End.Value;
}
