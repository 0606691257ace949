using Aspo.Data;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>
/// An evaluation suite (a YAML file under datasets/suites/): its datasets and how to sample them. Reading is strict:
/// unknown keys, wrong types and missing files are errors naming the file, line and key.
/// </summary>
public sealed record EvalSuite(string Name, string Description, string SourceFile, IReadOnlyList<SuiteDataset> Datasets, EvalSettings Settings,
                               bool RequireThinkClose)
{
    /// <summary>
    /// Loads a suite file. Layout:
    /// <code>
    /// name: arith-heldout              # defaults to the file name
    /// description: …
    /// datasets:
    ///   - file: ../arith/heldout-L3.parquet   # relative to this file; .parquet or .jsonl, verl layout by default
    ///     data_source: arith/L3               # for files without a data_source column
    ///     prompt_column: prompt               # a list of {role, content} or a string
    ///     answer_column: answer               # default: reward_model.ground_truth
    ///     limit: 0                            # first N rows only (0 = all)
    ///     instruction: "Put the answer in \boxed{}."  # appended to the last user message (after a blank line)
    ///     download: "how to get the file"     # printed when the file is missing
    /// sampling: {n: 8, k: [1, 2, 4, 8], temperature: 0.6, top_p: 0.95, top_k: 0, max_new_tokens: 256, seed: 1, batch_size: 64}
    /// require_think_close: false
    /// </code>
    /// </summary>
    public static EvalSuite Load(string path, bool checkFiles = true)
    {
        var root = YamlSection.Load(path);
        var folder = Path.GetDirectoryName(root.File)!;
        var name = root.String("name", Path.GetFileNameWithoutExtension(root.File));
        var description = root.String("description", "");
        var datasets = new List<SuiteDataset>();
        foreach (var d in root.Sections("datasets"))
        {
            var file = Path.GetFullPath(Path.Combine(folder, d.RequiredString("file")));
            var mapping = new DatasetMapping
            {
                PromptColumn = d.String("prompt_column", "prompt"),
                AnswerColumn = d.OptionalString("answer_column"),
                DefaultDataSource = d.String("data_source", "default"),
            };
            var limit = d.Int("limit", 0);
            if (limit < 0)
                throw new ConfigException($"{root.File}: {d.Path}.limit must be ≥ 0, got {limit}");
            var instruction = d.OptionalString("instruction");
            var download = d.OptionalString("download");
            d.RejectUnknownKeys();
            if (checkFiles && !File.Exists(file))
                throw new ConfigException($"{root.File}: {d.Path}.file: {file} not found" + (download is null ? "" : $"; {download}"));
            datasets.Add(new SuiteDataset(file, mapping, limit, instruction, download));
        }
        if (datasets.Count == 0)
            throw new ConfigException($"{root.File}: datasets: the suite needs at least one dataset");

        var s = root.Section("sampling");
        var defaults = new EvalSettings();
        var n = s.Int("n", defaults.SamplesPerPrompt);
        var settings = new EvalSettings
        {
            SamplesPerPrompt = n,
            Ks = s.IntList("k"),
            Seed = s.ULong("seed", defaults.Seed),
            BatchSize = s.Int("batch_size", defaults.BatchSize),
            Sampling = defaults.Sampling with
            {
                Temperature = (float)s.Double("temperature", defaults.Sampling.Temperature),
                TopP = (float)s.Double("top_p", defaults.Sampling.TopP),
                TopK = s.Int("top_k", defaults.Sampling.TopK),
                MaxNewTokens = s.Int("max_new_tokens", defaults.Sampling.MaxNewTokens),
            },
        };
        s.RejectUnknownKeys();
        var think = root.Bool("require_think_close", false);
        root.RejectUnknownKeys();
        try
        {
            settings.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{root.File}: sampling: {e.Message}");
        }
        return new EvalSuite(name, description, root.File, datasets, settings, think);
    }

    /// <summary>The suite with every dataset cut to at most <paramref name="limit"/> rows (0 = as it is).</summary>
    public EvalSuite WithLimit(int limit) => limit == 0 ? this
        : this with { Datasets = [.. Datasets.Select(d => d with { Limit = d.Limit > 0 ? Math.Min(d.Limit, limit) : limit })] };

    /// <summary>Every prompt of the suite, in dataset order, each file cut to its limit.</summary>
    public IReadOnlyList<PromptRecord> LoadPrompts()
    {
        var prompts = new List<PromptRecord>();
        foreach (var d in Datasets)
        {
            if (!File.Exists(d.File))
                throw new ConfigException($"{SourceFile}: {d.File} not found" + (d.Download is null ? "" : $"; {d.Download}"));
            var rows = PromptDataset.Load(d.File, d.Mapping);
            foreach (var p in d.Limit > 0 ? rows.Take(d.Limit) : rows)
                prompts.Add(d.Instruction is null ? p : p with { Prompt = WithInstruction(p.Prompt, d.Instruction) });
        }
        return prompts;
    }

    private static IReadOnlyList<ChatMessage> WithInstruction(IReadOnlyList<ChatMessage> messages, string instruction)
    {
        var last = messages.Select((m, i) => (m, i)).LastOrDefault(x => x.m.Role == "user");
        if (last.m is null)
            return [.. messages, new ChatMessage("user", instruction)];
        return [.. messages.Select((m, i) => i == last.i ? m with { Content = m.Content + "\n\n" + instruction } : m)];
    }
}
