using System.Text;

namespace Aspo.Data.Tokenization;

/// <summary>Which Split regex of a tokenizer.json the scanner reproduces.</summary>
public enum PreTokenizerPattern
{
    /// <summary>Qwen2/2.5/3 (cl100k with single digits): <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c></summary>
    Qwen,
    /// <summary>Llama-3: as Qwen with <c>\p{N}{1,3}</c>.</summary>
    Llama3,
    /// <summary>GPT-2 (ByteLevel use_regex): <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c></summary>
    Gpt2,
}
