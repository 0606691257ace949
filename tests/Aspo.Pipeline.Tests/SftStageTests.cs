using System.Text.Json.Nodes;
using Aspo.Data;
using Aspo.Data.Tokenization;
using Aspo.Model;
using Aspo.Native.Blas;

namespace Aspo.Pipeline.Tests;

public sealed class SftStageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-sft-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A fresh byte-level model learns a fixed reply: the cross-entropy falls and greedy decoding then produces it.</summary>
    [Theory]
    [InlineData("native")]
    [InlineData("torch")]
    public void Sft_lowers_the_loss_until_the_model_reproduces_its_target(string backend)
    {
        ByteLevelTokenizerFiles.Write(_dir);
        var tokenizer = BpeTokenizer.Load(Path.Combine(_dir, "tokenizer.json"));
        var eos = ByteLevelTokenizerFiles.SpecialId("<|im_end|>");
        var config = new ModelConfig
        {
            Family = ModelFamily.Qwen2, HiddenSize = 32, IntermediateSize = 64, NumLayers = 1, NumHeads = 2, NumKvHeads = 1, HeadDim = 16,
            VocabSize = ByteLevelTokenizerFiles.VocabSize, TieWordEmbeddings = true, MaxPositionEmbeddings = 128, EosTokenIds = [eos],
        };
        using var learner = Learners.Create(config, ModelInit.Random(config, seed: 3), new LearnerOptions { Backend = LearnerOptions.ParseBackend(backend) });
        var records = Enumerable.Range(0, 8).Select(i => new PromptRecord(i, "toy", [new ChatMessage("user", $"q{i}")], "x", "", new JsonObject { ["solution"] = "ok 42" }.ToJsonString())).ToList();
        var examples = SftStage.Examples(records, tokenizer, ChatTemplate.ByName("chatml"), eos);
        Assert.Equal([.. tokenizer.Encode("ok 42"), eos], examples[0].Response);
        var steps = SftStage.Run(learner, examples,
            new SftSettings { Epochs = 60, BatchSize = 8, MicroBatch = 4, LearningRate = 1e-2, WarmupSteps = 5 });
        Assert.Equal(60, steps.Count);
        Assert.True(steps[^1]["sft/loss"] < 0.05 * steps[0]["sft/loss"], $"loss {steps[0]["sft/loss"]:F3} → {steps[^1]["sft/loss"]:F3}");
        // greedy continuation of a prompt reproduces the target and stops
        var decoder = new Decoder(config, learner.ReadParameters(), GemmBackends.CreateDefault());
        var sequence = examples[0].Prompt.ToList();
        for (var t = 0; t < 8 && sequence[^1] != eos; t++)
        {
            var logits = decoder.Logits([.. sequence]);
            var last = logits.AsSpan((sequence.Count - 1) * config.VocabSize, config.VocabSize);
            sequence.Add(last.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(last)));
        }
        Assert.Equal(examples[0].Response, sequence[examples[0].Prompt.Length..]);
    }

    [Fact]
    public void Rows_without_the_target_field_and_bad_settings_are_clear_errors()
    {
        ByteLevelTokenizerFiles.Write(_dir);
        var tokenizer = BpeTokenizer.Load(Path.Combine(_dir, "tokenizer.json"));
        PromptRecord[] records = [new(4, "toy", [new ChatMessage("user", "q")], "x", "", "{\"other\": 1}")];
        Assert.Contains("row 4: extra_info has no string field \"solution\"",
            Assert.Throws<ArgumentException>(() => SftStage.Examples(records, tokenizer, ChatTemplate.ByName("chatml"), 258)).Message);
        Assert.Throws<ArgumentException>(() => new SftSettings { BatchSize = 6, MicroBatch = 4 }.Validate());
    }
}
