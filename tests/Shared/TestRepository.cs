namespace Aspo.Tests.Shared;

/// <summary>Where the tests find the checkout they were built from, and what tools/setup put into it.</summary>
public static class TestRepository
{
    /// <summary>The repository root: the first folder above the test binaries holding Aspo.Pipeline.sln.</summary>
    public static string Root
    {
        get
        {
            var root = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(root, "Aspo.Pipeline.sln")))
                root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
            return root;
        }
    }

    /// <summary>The Qwen3 tokenizer folder tools/setup fetches (tokenizer.json, tokenizer_config.json).</summary>
    public static string Qwen3TokenizerFolder => Path.Combine(Root, ".native", "tokenizers", "qwen3");
}
