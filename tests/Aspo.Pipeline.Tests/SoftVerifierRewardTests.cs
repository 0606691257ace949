using Aspo.Data;
using Aspo.Model;
using Aspo.Native.Blas;
using Aspo.Onnx;
using Aspo.Rewards;
using Aspo.Tests.Shared;

namespace Aspo.Pipeline.Tests;

/// <summary>The soft reward is P("YES") of a verifier model; the learner's own forward on the same checkpoint is the reference.</summary>
public sealed class SoftVerifierRewardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-verifier-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (ModelConfig Config, float[] Parameters, string Onnx) ExportVerifier()
    {
        var config = TinyQwen.Config(layers: 2);
        var p = TinyQwen.Parameters(config, seed: 4, amplitude: 0.4);
        var onnx = Path.Combine(_dir, "onnx");
        DecoderExporter.Export(config, p, onnx, TestRepository.Qwen3TokenizerFolder);
        return (config, p, onnx);
    }

    [Fact]
    public void The_reward_is_the_verifiers_probability_of_yes_as_the_learner_computes_it()
    {
        var (config, p, onnx) = ExportVerifier();
        using var model = OnnxDecoder.Open(onnx, threads: 1);
        var tokenizer = model.LoadTokenizer();
        var template = ChatTemplate.FromTokenizerConfig(onnx);
        var settings = new SoftVerifierSettings();
        var verifier = new SoftVerifierReward(model, tokenizer, template, settings);
        RewardRequest[] batch =
        [
            new("general", "What is the capital of France?", "<think>hmm</think>It is Paris.", "Paris"),
            new("general", "What is 2+2?", "The answer is 5.", "4"),
            new("general", "What is the capital of France?", "<think>hmm</think>It is Paris.", "Paris"), // same prompt: same score
        ];
        var results = verifier.ScoreBatch(batch);
        Assert.Equal(3, results.Count);

        var learner = new Decoder(config, p, new OneDnnGemm());
        var yes = tokenizer.Encode("YES").Single();
        var no = tokenizer.Encode("NO").Single();
        for (var i = 0; i < batch.Length; i++)
        {
            var prompt = verifier.PromptIds(batch[i]);
            double LearnerProb(int token)
            {
                var lp = new float[1];
                learner.Forward([.. prompt, token], [0, prompt.Length + 1], [prompt.Length], 1f, lp, [], forTraining: false);
                return Math.Exp(lp[0]);
            }
            var (pYes, pNo) = (LearnerProb(yes), LearnerProb(no));
            // compared as log-probabilities: the probabilities of a random model are tiny, an absolute tolerance would be vacuous
            Assert.Equal(Math.Log(pYes), Math.Log(results[i].Score), 1e-4);
            Assert.Equal(Math.Log(pYes), Math.Log(results[i].Components["p_yes"]), 1e-4);
            Assert.Equal(Math.Log(pNo), Math.Log(results[i].Components["p_no"]), 1e-4);
            Assert.InRange(results[i].Score, 0, 1);
        }
        Assert.Equal(results[0].Score, results[2].Score);
        Assert.NotEqual(results[0].Score, results[1].Score);
        // the reasoning before </think> is not shown to the verifier
        Assert.DoesNotContain("hmm", tokenizer.Decode(verifier.PromptIds(batch[0])));

        // normalised: P(yes) / (P(yes) + P(no))
        var normalized = new SoftVerifierReward(model, tokenizer, template, settings with { Normalize = true }).ScoreBatch(batch);
        for (var i = 0; i < batch.Length; i++)
        {
            var (y, n) = (results[i].Components["p_yes"], results[i].Components["p_no"]);
            Assert.Equal(y / (y + n), normalized[i].Score, 1e-9);
        }

        // through the registry, as a batch grader of a data_source next to the rule graders
        var registry = RewardRegistry.CreateDefault();
        registry.RegisterBatch("general", verifier.ScoreBatch);
        var mixed = registry.ScoreBatch([batch[1], new RewardRequest("lighteval/MATH", "", "\\boxed{4}", "4"), batch[0]]);
        Assert.Equal(results[1].Score, mixed[0].Score);
        Assert.Equal(1.0, mixed[1].Score);
        Assert.Equal(results[0].Score, mixed[2].Score);
    }

    [Fact]
    public void Bad_verifier_settings_fail_with_one_clear_message()
    {
        var (_, _, onnx) = ExportVerifier();
        using var model = OnnxDecoder.Open(onnx, threads: 1);
        var tokenizer = model.LoadTokenizer();
        var template = ChatTemplate.FromTokenizerConfig(onnx);
        (SoftVerifierSettings Settings, string Message)[] cases =
        [
            (new() { YesToken = "Absolutely yes" }, "yes token \"Absolutely yes\" encodes to"),
            (new() { NoToken = null, Normalize = true }, "normalize option needs a no token"),
            (new() { PromptTemplate = "{question} {response}" }, "prompt template lacks {reference}"),
            (new() { MaxResponseChars = -1 }, "max response characters must be ≥ 0"),
        ];
        foreach (var (settings, message) in cases)
            Assert.Contains(message, Assert.Throws<ArgumentException>(() => new SoftVerifierReward(model, tokenizer, template, settings)).Message);
    }
}
