using Aspo.Data;
using Aspo.Model;
using Aspo.Onnx;
using Aspo.Tests.Shared;

namespace Aspo.Pipeline.Tests;

/// <summary>Evaluation with ONNX Runtime GenAI as the engine, against ours, on the shipped model and suite.</summary>
public sealed class GenAiEvalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-genai-eval-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ExportShippedModel()
    {
        var shipped = Path.Combine(TestRepository.Root, "datasets", "models", "arith-tiny-sft");
        var (config, parameters) = Checkpoint.Load(shipped);
        var onnx = Path.Combine(_dir, "onnx");
        DecoderExporter.Export(config, parameters, onnx, shipped, new ExportOptions());
        return onnx;
    }

    /// <summary>Greedy (temperature 0) the two engines must agree token for token: same answers, grades and summaries,
    /// and the log-probs GenAI's logits give equal ours.</summary>
    [Fact]
    public void Greedy_eval_with_genai_equals_ours_on_the_shipped_suite()
    {
        var onnx = ExportShippedModel();
        var suite = EvalSuite.Load(Path.Combine(TestRepository.Root, "datasets", "suites", "arith-l123.yaml")).WithLimit(8);
        var prompts = suite.LoadPrompts();
        var settings = suite.Settings with { SamplesPerPrompt = 1, Ks = null, BatchSize = 8, Sampling = suite.Settings.Sampling with { Temperature = 0 } };
        using var model = OnnxDecoder.Open(onnx, threads: 1);
        var tokenizer = model.LoadTokenizer();
        var template = ChatTemplate.FromTokenizerConfig(onnx);
        var ours = EvalStage.Run(model, tokenizer, template, Aspo.Rewards.RewardRegistry.CreateDefault(), prompts, settings);
        using var genAi = new GenAiEngine(model, tokenizer, threads: 1);
        var theirs = EvalStage.Run(model, tokenizer, template, Aspo.Rewards.RewardRegistry.CreateDefault(), prompts, settings, genAi);
        Assert.Equal(ours.Rows.Count, theirs.Rows.Count);
        Assert.Equal(24, ours.Rows.Count); // 8 prompts from each of three files
        for (var i = 0; i < ours.Rows.Count; i++)
        {
            var (a, b) = (ours.Rows[i], theirs.Rows[i]);
            Assert.Equal(a.PromptUid, b.PromptUid);
            Assert.Equal(a.ResponseTokenIds, b.ResponseTokenIds);
            Assert.Equal(a.ResponseText, b.ResponseText);
            Assert.Equal(a.Reward, b.Reward);
            Assert.Equal(a.FinishReason, b.FinishReason);
            var delta = a.OldLogprobs.Zip(b.OldLogprobs, (x, y) => Math.Abs(x - y)).DefaultIfEmpty(0).Max();
            Assert.True(delta <= 1e-5, $"row {i}: old log-probs differ by {delta:G3}");
        }
        Assert.Equal(ours.Summaries.Select(s => (s.DataSource, s.AvgAtN)), theirs.Summaries.Select(s => (s.DataSource, s.AvgAtN)));
        Assert.Contains(ours.Rows, r => r.Reward > 0); // the shipped model answers some: the comparison is not all-zero
    }

    [Fact]
    public void What_genai_cannot_honour_is_refused_with_one_line()
    {
        var onnx = ExportShippedModel();
        using var model = OnnxDecoder.Open(onnx, threads: 1);
        var e = Assert.Throws<ArgumentException>(() => GenAiEngine.CheckSupported(new SamplingParams { StopStrings = ["</answer>"] }, model.EosTokenIds));
        Assert.Equal("--engine genai cannot stop at stop strings (\"</answer>\"): ONNX Runtime GenAI 0.18 has none; use --engine aspo", e.Message);
        e = Assert.Throws<ArgumentException>(() => GenAiEngine.CheckSupported(new SamplingParams { StopTokenIds = [7] }, model.EosTokenIds));
        Assert.Contains("extra stop tokens need --engine aspo", e.Message);
        GenAiEngine.CheckSupported(new SamplingParams { StopTokenIds = [.. model.EosTokenIds] }, model.EosTokenIds); // EOS ids are fine
        Assert.Contains("eval.engine: unknown 'vllm'; valid: aspo, genai",
            Assert.Throws<Aspo.Pipeline.Config.ConfigException>(() => Aspo.Pipeline.Config.PipelineConfig.Load(Path.Combine(TestRepository.Root, "pipeline.yaml"), ["eval.engine=vllm"])).Message);
    }
}
