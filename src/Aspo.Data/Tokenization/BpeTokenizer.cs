using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Aspo.Data.Tokenization;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> byte-level BPE tokenizer (GPT-2, Qwen2/2.5/3, Llama-3): added tokens split
/// out first (leftmost-longest), NFC, the Split pre-tokenizer as a scanner, bytes mapped to GPT-2's unicode alphabet,
/// BPE by merge rank, results cached per piece. Encoding adds no BOS/EOS (chat templates carry their own).
/// Not thread-safe (the piece cache and scratch buffers): use <see cref="Clone"/> per thread; the tables are shared.
/// </summary>
public sealed class BpeTokenizer
{
    private const int MaxCacheEntries = 200_000;

    private readonly Tables _t;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    private readonly BpeMerger _merger = new();
    private char[] _mapped = new char[256];
    private byte[] _utf8 = new byte[256];

    private BpeTokenizer(Tables tables)
    {
        _t = tables;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>A tokenizer sharing this one's tables, with its own cache (for another thread).</summary>
    public BpeTokenizer Clone() => new(_t);

    public string Source => _t.Source;
    /// <summary>Ids used: BPE vocabulary plus added tokens (max id + 1).</summary>
    public int VocabSize => _t.IdToToken.Length;
    public PreTokenizerPattern Pattern => _t.Pattern;
    public IReadOnlyDictionary<string, int> AddedTokens => _t.AddedTokens;

    public int? TokenToId(string token) =>
        _t.AddedTokens.TryGetValue(token, out var a) ? a : _t.Vocab.TryGetValue(token, out var v) ? v : null;

    public string? IdToToken(int id) => (uint)id < (uint)_t.IdToToken.Length ? _t.IdToToken[id] : null;

    /// <summary>Loads <c>tokenizer.json</c> (a file, or a folder containing one).</summary>
    /// <exception cref="DataFormatException">unreadable file or a configuration this tokenizer does not implement</exception>
    public static BpeTokenizer Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path;
        if (!File.Exists(file))
            throw new DataFormatException($"{file}: tokenizer.json not found");
        try
        {
            using var stream = File.OpenRead(file);
            using var json = JsonDocument.Parse(stream);
            return new BpeTokenizer(Tables.Build(json.RootElement, file));
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"{file}: not valid JSON ({e.Message})");
        }
    }

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids);
        return [.. ids];
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids) => Encode(text, ids, offsets: null);

    /// <summary>
    /// Appends the ids of <paramref name="text"/> and, when <paramref name="offsets"/> is given, each token's character
    /// range in <paramref name="text"/>, which must then be NFC-normalized already (offsets refer to the text encoded).
    /// A character whose UTF-8 bytes are split across tokens belongs to each of them, as in Hugging Face tokenizers.
    /// </summary>
    internal void Encode(ReadOnlySpan<char> text, List<int> ids, List<Range>? offsets)
    {
        var position = 0;
        while (position < text.Length)
        {
            var (matchStart, matchLength, id) = _t.FindAddedToken(text, position);
            var segmentEnd = matchStart < 0 ? text.Length : matchStart;
            if (segmentEnd > position)
                EncodeOrdinary(text[position..segmentEnd], position, ids, offsets);
            if (matchStart < 0)
                break;
            ids.Add(id);
            offsets?.Add(matchStart..(matchStart + matchLength));
            position = matchStart + matchLength;
        }
    }

    /// <summary>Whether this tokenizer NFC-normalizes text before splitting it.</summary>
    internal bool NormalizesToNfc => _t.Nfc;

    private void EncodeOrdinary(ReadOnlySpan<char> segment, int segmentStart, List<int> ids, List<Range>? offsets)
    {
        if (_t.Nfc && !segment.IsNormalized(NormalizationForm.FormC))
        {
            if (offsets is not null)
                throw new ArgumentException("offsets need NFC-normalized text (normalize it first)", nameof(segment));
            segment = segment.ToString().Normalize(NormalizationForm.FormC);
        }
        var pattern = _t.Pattern;
        var i = 0;
        while (i < segment.Length)
        {
            var end = PreTokenizer.NextPiece(segment, i, pattern);
            var first = ids.Count;
            EncodePiece(segment[i..end], ids);
            if (offsets is not null)
                AddOffsets(segment[i..end], segmentStart + i, CollectionsMarshal.AsSpan(ids)[first..], offsets);
            i = end;
        }
    }

    /// <summary>Character ranges of <paramref name="tokens"/>, which encode <paramref name="piece"/> (at <paramref name="pieceStart"/>) byte by byte.</summary>
    private void AddOffsets(ReadOnlySpan<char> piece, int pieceStart, ReadOnlySpan<int> tokens, List<Range> offsets)
    {
        var charAt = 0;    // the character (UTF-16 index in the piece) holding the next byte
        var bytesLeft = 0; // bytes of that character not yet covered by earlier tokens
        foreach (var token in tokens)
        {
            var start = charAt;
            var end = charAt;
            for (var length = _t.TokenBytes[token]!.Length; length > 0;)
            {
                if (bytesLeft == 0)
                    bytesLeft = Utf8Length(piece, charAt);
                var take = Math.Min(length, bytesLeft);
                length -= take;
                bytesLeft -= take;
                end = charAt + (Utf8Length(piece, charAt) == 4 ? 2 : 1);
                if (bytesLeft == 0)
                    charAt = end;
            }
            offsets.Add((pieceStart + start)..(pieceStart + end));
        }
    }

    /// <summary>UTF-8 length of the character at <paramref name="at"/> (a lone surrogate encodes as U+FFFD: 3 bytes).</summary>
    private static int Utf8Length(ReadOnlySpan<char> text, int at)
    {
        var c = text[at];
        if (char.IsHighSurrogate(c) && at + 1 < text.Length && char.IsLowSurrogate(text[at + 1]))
            return 4;
        return c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> ids)
    {
        // UTF-8 bytes → one GPT-2 alphabet char per byte
        var byteCount = Encoding.UTF8.GetMaxByteCount(piece.Length);
        if (_utf8.Length < byteCount)
            _utf8 = new byte[Math.Max(byteCount, 2 * _utf8.Length)];
        var n = Encoding.UTF8.GetBytes(piece, _utf8);
        if (_mapped.Length < n)
            _mapped = new char[Math.Max(n, 2 * _mapped.Length)];
        for (var k = 0; k < n; k++)
            _mapped[k] = ByteLevel.ByteToChar[_utf8[k]];
        var mapped = _mapped.AsSpan(0, n);

        if (_cacheLookup.TryGetValue(mapped, out var cached))
        {
            ids.AddRange(cached);
            return;
        }
        int[] result;
        if (_t.IgnoreMerges && _t.VocabLookup.TryGetValue(mapped, out var whole))
            result = [whole];
        else
            result = _merger.Merge(mapped, _t);
        if (_cache.Count >= MaxCacheEntries)
            _cache.Clear();
        _cache[mapped.ToString()] = result;
        ids.AddRange(result);
    }

    /// <summary>
    /// Token ids back to text: byte-level tokens to their bytes, added tokens to their content, invalid UTF-8 as U+FFFD.
    /// Ids without a token are skipped, as Hugging Face tokenizers does: a model's embedding is often padded past the
    /// tokenizer (Qwen: 151,936 rows, 151,669 tokens) and sampling may pick a padding id.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (var id in ids)
            AppendBytes(id, skipSpecialTokens, bytes);
        return Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(bytes));
    }

    internal void AppendBytes(int id, bool skipSpecialTokens, List<byte> bytes)
    {
        if ((uint)id >= (uint)_t.TokenBytes.Length || _t.TokenBytes[id] is null)
            return;
        if (skipSpecialTokens && _t.Special.Contains(id))
            return;
        bytes.AddRange(_t.TokenBytes[id]!);
    }

    /// <summary>A decoder that turns ids into text as they arrive, holding back incomplete UTF-8 sequences.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    /// <summary>The immutable tables shared by clones.</summary>
    internal sealed class Tables
    {
        public required string Source { get; init; }
        public required Dictionary<string, int> Vocab { get; init; }
        public required Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> VocabLookup { get; init; }
        public required Dictionary<long, (int Rank, int Merged)> Merges { get; init; }
        public required Dictionary<string, int> AddedTokens { get; init; }
        public required HashSet<int> Special { get; init; }
        public required string?[] IdToToken { get; init; }
        public required byte[]?[] TokenBytes { get; init; }
        public required PreTokenizerPattern Pattern { get; init; }
        public required bool Nfc { get; init; }
        public required bool IgnoreMerges { get; init; }
        /// <summary>Added tokens grouped by first char, longest first (leftmost-longest matching).</summary>
        public required Dictionary<char, (string Content, int Id)[]> AddedByFirstChar { get; init; }

        public (int Start, int Length, int Id) FindAddedToken(ReadOnlySpan<char> text, int from)
        {
            if (AddedByFirstChar.Count == 0)
                return (-1, 0, 0);
            for (var i = from; i < text.Length; i++)
            {
                if (!AddedByFirstChar.TryGetValue(text[i], out var candidates))
                    continue;
                foreach (var (content, id) in candidates)
                    if (text[i..].StartsWith(content, StringComparison.Ordinal))
                        return (i, content.Length, id);
            }
            return (-1, 0, 0);
        }

        public static Tables Build(JsonElement root, string source)
        {
            var model = Get(root, "model", source);
            var type = model.TryGetProperty("type", out var t) ? t.GetString() : "BPE";
            if (type != "BPE")
                throw new DataFormatException($"{source}: model.type \"{type}\" is not supported; only byte-level BPE tokenizers are");
            if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
                throw new DataFormatException($"{source}: model.byte_fallback = true (SentencePiece-style BPE) is not supported; only byte-level BPE");
            foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
                if (model.TryGetProperty(affix, out var a) && a.ValueKind == JsonValueKind.String && a.GetString()!.Length > 0)
                    throw new DataFormatException($"{source}: model.{affix} \"{a.GetString()}\" is not supported");

            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var entry in Get(model, "vocab", source).EnumerateObject())
                vocab[entry.Name] = entry.Value.GetInt32();
            var merges = new Dictionary<long, (int, int)>();
            var rank = 0;
            foreach (var m in Get(model, "merges", source).EnumerateArray())
            {
                string left, right;
                if (m.ValueKind == JsonValueKind.String)
                {
                    var line = m.GetString()!;
                    if (line.StartsWith("#version", StringComparison.Ordinal))
                        continue;
                    var parts = line.Split(' ');
                    if (parts.Length != 2)
                        throw new DataFormatException($"{source}: model.merges[{rank}] \"{line}\" must be two tokens separated by one space");
                    (left, right) = (parts[0], parts[1]);
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
                    (left, right) = (m[0].GetString()!, m[1].GetString()!);
                else
                    throw new DataFormatException($"{source}: model.merges[{rank}] must be \"a b\" or [\"a\", \"b\"]");
                if (!vocab.TryGetValue(left, out var l) || !vocab.TryGetValue(right, out var r) || !vocab.TryGetValue(left + right, out var merged))
                    throw new DataFormatException($"{source}: model.merges[{rank}] ({left} + {right}) uses a token that is not in model.vocab");
                merges.TryAdd(((long)l << 32) | (uint)r, (rank, merged));
                rank++;
            }

            var added = new Dictionary<string, int>(StringComparer.Ordinal);
            var special = new HashSet<int>();
            if (root.TryGetProperty("added_tokens", out var addedTokens))
                foreach (var a in addedTokens.EnumerateArray())
                {
                    var content = a.GetProperty("content").GetString()!;
                    var id = a.GetProperty("id").GetInt32();
                    foreach (var flag in new[] { "single_word", "lstrip", "rstrip", "normalized" })
                        if (a.TryGetProperty(flag, out var f) && f.ValueKind == JsonValueKind.True)
                            throw new DataFormatException($"{source}: added token \"{content}\" has {flag} = true, which is not supported");
                    added[content] = id;
                    if (a.TryGetProperty("special", out var sp) && sp.ValueKind == JsonValueKind.True)
                        special.Add(id);
                }

            var nfc = root.TryGetProperty("normalizer", out var norm) && norm.ValueKind == JsonValueKind.Object
                ? norm.GetProperty("type").GetString() == "NFC" ? true
                    : throw new DataFormatException($"{source}: normalizer {norm.GetRawText()} is not supported; only NFC or null")
                : false;
            var pattern = ReadPattern(root, source);

            var size = Math.Max(vocab.Values.DefaultIfEmpty(-1).Max(), added.Values.DefaultIfEmpty(-1).Max()) + 1;
            var idToToken = new string?[size];
            var tokenBytes = new byte[]?[size];
            foreach (var (token, id) in vocab)
            {
                idToToken[id] = token;
                tokenBytes[id] = TokenToBytes(token);
            }
            foreach (var (content, id) in added)
            {
                idToToken[id] = content;
                tokenBytes[id] = Encoding.UTF8.GetBytes(content);
            }
            return new Tables
            {
                Source = source, Vocab = vocab, VocabLookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>(), Merges = merges,
                AddedTokens = added, Special = special, IdToToken = idToToken, TokenBytes = tokenBytes, Pattern = pattern, Nfc = nfc,
                IgnoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True,
                AddedByFirstChar = added.Where(kv => kv.Key.Length > 0).GroupBy(kv => kv.Key[0])
                    .ToDictionary(g => g.Key, g => g.OrderByDescending(kv => kv.Key.Length).Select(kv => (kv.Key, kv.Value)).ToArray()),
            };
        }

        /// <summary>A vocabulary token's bytes: each char through the inverse byte map, or the token's own UTF-8 if any char is outside it.</summary>
        private static byte[] TokenToBytes(string token)
        {
            var bytes = new byte[token.Length];
            for (var k = 0; k < token.Length; k++)
            {
                var c = token[k];
                if (c >= ByteLevel.CharToByte.Length || ByteLevel.CharToByte[c] < 0)
                    return Encoding.UTF8.GetBytes(token);
                bytes[k] = (byte)ByteLevel.CharToByte[c];
            }
            return bytes;
        }

        private static PreTokenizerPattern ReadPattern(JsonElement root, string source)
        {
            if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
                throw new DataFormatException($"{source}: pre_tokenizer is missing; a byte-level tokenizer needs a Split or ByteLevel pre-tokenizer");
            var steps = pre.GetProperty("type").GetString() == "Sequence" ? pre.GetProperty("pretokenizers").EnumerateArray().ToArray() : [pre];
            PreTokenizerPattern? pattern = null;
            var byteLevel = false;
            foreach (var step in steps)
            {
                switch (step.GetProperty("type").GetString())
                {
                    case "Split":
                        var regex = step.GetProperty("pattern").TryGetProperty("Regex", out var r) ? r.GetString()! : "";
                        pattern = PreTokenizer.Recognise(regex)
                            ?? throw new DataFormatException($"{source}: pre_tokenizer Split pattern {JsonSerializer.Serialize(regex)} is not one of the implemented ones (Qwen2/3, Llama-3, GPT-2)");
                        if (step.TryGetProperty("behavior", out var b) && b.GetString() != "Isolated")
                            throw new DataFormatException($"{source}: pre_tokenizer Split behavior \"{b.GetString()}\" is not supported; only Isolated");
                        break;
                    case "ByteLevel":
                        byteLevel = true;
                        if (step.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
                            throw new DataFormatException($"{source}: ByteLevel add_prefix_space = true is not supported");
                        if (step.TryGetProperty("use_regex", out var ur) && ur.ValueKind != JsonValueKind.False)
                            pattern ??= PreTokenizerPattern.Gpt2;
                        break;
                    default:
                        throw new DataFormatException($"{source}: pre_tokenizer step \"{step.GetProperty("type").GetString()}\" is not supported");
                }
            }
            if (!byteLevel || pattern is null)
                throw new DataFormatException($"{source}: pre_tokenizer must be byte-level with a known split pattern");
            return pattern.Value;
        }

        private static JsonElement Get(JsonElement e, string name, string source) =>
            e.TryGetProperty(name, out var v) ? v : throw new DataFormatException($"{source}: field \"{name}\" is missing");
    }
}
