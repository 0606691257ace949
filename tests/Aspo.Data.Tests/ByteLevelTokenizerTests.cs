using Aspo.Data.Tokenization;

namespace Aspo.Data.Tests;

public sealed class ByteLevelTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-bytelevel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Ids from Hugging Face tokenizers 0.23.2 on the written tokenizer.json (tools/reference/bytelevel_tokenizer.mjs).</summary>
    [Theory]
    [InlineData("Start with 12, add 7. <|im_end|>", new[] { 83, 116, 97, 114, 116, 32, 119, 105, 116, 104, 32, 49, 50, 44, 32, 97, 100, 100, 32, 55, 46, 32, 258 })]
    [InlineData("<|im_start|>user\nhé 中文 😀<|im_end|>\n", new[] { 257, 117, 115, 101, 114, 10, 104, 195, 169, 32, 228, 184, 173, 230, 150, 135, 32, 240, 159, 152, 128, 258, 10 })]
    [InlineData("", new int[0])]
    [InlineData("  a\tb\n", new[] { 32, 32, 97, 9, 98, 10 })]
    public void The_written_tokenizer_encodes_as_hugging_face_tokenizers_does(string text, int[] expected)
    {
        ByteLevelTokenizerFiles.Write(_dir);
        var tokenizer = BpeTokenizer.Load(Path.Combine(_dir, "tokenizer.json"));
        Assert.Equal(ByteLevelTokenizerFiles.VocabSize, tokenizer.VocabSize);
        Assert.Equal(expected, tokenizer.Encode(text));
        Assert.Equal(text, tokenizer.Decode(expected));
        Assert.Equal("chatml", ChatTemplate.FromTokenizerConfig(_dir).Name);
    }
}
