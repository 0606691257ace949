using Aspo.Data.Shards;
using Aspo.Model;
using Aspo.Model.Tests;
using Aspo.Pipeline;
using Aspo.Pipeline.Config;
using Aspo.Tests.Shared;

namespace Aspo.Torch.Tests;

/// <summary>
/// The two learners check each other: the same weights give the same log-probs (within 1e-5) and gradients (within
/// 1e-4 of each tensor's largest), two learn iterations on the same rollout rows end within 1e-4 of each other, and a
/// checkpoint with optimizer state written by one continues in the other exactly as in the first.
/// </summary>
public sealed class BackendAgreementTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-agree-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The shipped default's starting model and a random model of each family (the golden fixtures).</summary>
    public static TheoryData<string> Models() => new("default", "qwen2", "llama", "qwen3");

    private static string Folder(string model) => model == "default"
        ? Path.Combine(TestRepository.Root, "datasets", "models", "arith-tiny-sft")
        : Path.Combine(AppContext.BaseDirectory, "Fixtures", model);

    private static LearnerOptions Options(LearnerBackend backend) =>
        new() { Backend = backend, Optimizer = new AdamWOptions { WeightDecay = 0.01 } };

    /// <summary>
    /// Four packed sequences: for the shipped default, arithmetic problems and answers of its task rendered with its chat
    /// template (what it scores in a run); for the random models, 7–40 random token ids with the response starting mid-way.
    /// </summary>
    private static PackedSequences Batch(string model, ModelConfig config, int seed)
    {
        if (model == "default")
        {
            var tokenizer = Aspo.Data.Tokenization.BpeTokenizer.Load(Path.Combine(Folder(model), "tokenizer.json"));
            var template = Aspo.Data.ChatTemplate.FromTokenizerConfig(Folder(model));
            return PackedSequences.Pack([.. new[]
            {
                ("What is 12 + 7?", "12 + 7 = 19\nThe answer is \\boxed{19}"),
                ("Ann has 3 boxes of 14 pens. She gives away 9 pens. How many pens are left?", "3 * 14 = 42\n42 - 9 = 33\nThe answer is \\boxed{33}"),
                ("What is 8 * 9 - 5?", "The answer is \\boxed{67}"),
                ("Compute 250 - 17 + 4.", "250 - 17 = 233\n233 + 4 = 237\nThe answer is \\boxed{237}"),
            }.Select(qa => (tokenizer.Encode(template.Render([new Aspo.Data.ChatMessage("user", qa.Item1)], addGenerationPrompt: true)),
                tokenizer.Encode(qa.Item2)))]);
        }
        var rng = new Random(seed);
        var sequences = new List<(int[], int[])>();
        foreach (var length in new[] { 7, 40, 19, 26 })
        {
            var tokens = Enumerable.Range(0, length).Select(_ => rng.Next(config.VocabSize)).ToArray();
            var start = 1 + rng.Next(length - 2);
            sequences.Add((tokens[..start], tokens[start..]));
        }
        return PackedSequences.Pack(sequences);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Logprobs_entropies_and_gradients_agree(string model)
    {
        var (config, parameters) = Checkpoint.Load(Folder(model));
        using var native = Learners.Create(config, (float[])parameters.Clone(), Options(LearnerBackend.Native));
        using var torch = Learners.Create(config, (float[])parameters.Clone(), Options(LearnerBackend.Torch));
        var batch = Batch(model, config, seed: 5);
        var n = batch.ScoredTokens;
        var rng = new Random(11);
        var cLp = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var cH = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.1f).ToArray();
        var results = new List<(float[] Lp, float[] H, float[] Grad)>();
        foreach (var learner in new[] { native, torch })
        {
            foreach (var temperature in new[] { 1f, 0.7f })
            {
                var lp = new float[n];
                var h = new float[n];
                learner.ZeroGradients();
                learner.Score(batch, temperature, lp, h, forTraining: true);
                learner.Backward(cLp, cH);
                results.Add((lp, h, learner.ReadGradients()));
            }
        }
        var layout = new ParameterLayout(config);
        for (var t = 0; t < 2; t++)
        {
            var (a, b) = (results[t], results[t + 2]);
            // fp32 rounding of log_softmax grows with |logπ|: on the shipped model's tokens of log π ≈ −20 two GEMM
            // libraries under our own learner (oneDNN vs OpenBLAS) already differ by 4e-5, so the bound is relative there
            var dLp = a.Lp.Zip(b.Lp, (x, y) => Math.Abs(x - y) / Math.Max(1, Math.Abs(x))).Max();
            var dH = a.H.Zip(b.H, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(dLp <= 1e-5 && dH <= 1e-5, $"{model}, T #{t}: native vs torch max |Δ logπ| / max(1, |logπ|) {dLp:G3}, max |Δ H| {dH:G3}");
            var report = ModelFixture.CompareSlabs(layout, a.Grad, b.Grad, relativeBound: 1e-4);
            Assert.True(report.Passed, $"{model}, T #{t}: gradients native vs torch:\n{report}");
        }
    }

    /// <summary>Rollout rows of 4 prompts × 4 samples with random responses, rewards 0/1 and old log-probs from the model.</summary>
    private static List<RolloutRow> Rows(ModelConfig config, float[] parameters, int iteration)
    {
        using var scorer = Learners.Create(config, (float[])parameters.Clone(), Options(LearnerBackend.Native));
        var rng = new Random(100 + iteration);
        var rows = new List<RolloutRow>();
        for (var p = 0; p < 4; p++)
        {
            var prompt = Enumerable.Range(0, 5 + p).Select(_ => rng.Next(config.VocabSize)).ToArray();
            for (var s = 0; s < 4; s++)
            {
                var response = Enumerable.Range(0, 3 + rng.Next(12)).Select(_ => rng.Next(config.VocabSize)).ToArray();
                var old = new float[response.Length];
                scorer.Score(PackedSequences.Pack([(prompt, response)]), 1f, old, [], forTraining: false);
                rows.Add(new RolloutRow
                {
                    RunId = "agree", Iteration = iteration, PolicyVersion = iteration - 1, PromptUid = $"p{p}", SampleIndex = s, DataSource = "toy",
                    PromptTokenIds = prompt, ResponseTokenIds = response, OldLogprobs = old, ResponseText = "", GroundTruth = "",
                    Reward = rng.Next(2), RewardComponents = new Dictionary<string, double>(), FinishReason = "stop", Temperature = 1f, TopP = 1f,
                    TopK = 0, Seed = (ulong)s,
                });
            }
        }
        return rows;
    }

    private static void LearnIteration(ILearner learner, IReadOnlyList<RolloutRow> rows, int iteration) =>
        LearnStage.Run(learner, rows, new LearnSettings
        {
            Algorithm = new AlgorithmSection { MiniBatch = 8, MicroBatch = 4, PpoEpochs = 2 },
            Optimizer = new OptimizerSection { LearningRate = 1e-3 }, Seed = 3, Iteration = iteration, TotalSteps = 8,
        });

    [Theory]
    [MemberData(nameof(Models))]
    public void Two_learn_iterations_on_the_same_rows_end_at_the_same_parameters(string model)
    {
        var (config, parameters) = Checkpoint.Load(Folder(model));
        var rows1 = Rows(config, parameters, 1);
        var rows2 = Rows(config, parameters, 2);
        var finals = new List<float[]>();
        foreach (var backend in new[] { LearnerBackend.Native, LearnerBackend.Torch })
        {
            using var learner = Learners.Create(config, (float[])parameters.Clone(), Options(backend));
            LearnIteration(learner, rows1, 1);
            LearnIteration(learner, rows2, 2);
            Assert.Equal(8, learner.OptimizerStep);
            finals.Add(learner.ReadParameters());
        }
        var moved = finals[0].Zip(parameters, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(moved > 1e-3, $"{model}: the parameters moved by only {moved:G3}");
        var layout = new ParameterLayout(config);
        // a trained model's gradients span many orders of magnitude: on these rows 16 % of the default's elements (lm-head
        // rows of tokens it never predicts, dead MLP units) get gradients below 1e-3 of their tensor's largest
        var compared = ModelFixture.ComparableUnderAdam(layout, FirstGradient(config, parameters, rows1), maxLeftOut: model == "default" ? 0.2 : 0.1);
        var worst = Enumerable.Range(0, finals[0].Length).Where(i => compared[i]).MaxBy(i => Math.Abs(finals[0][i] - finals[1][i]));
        var delta = Math.Abs(finals[0][worst] - finals[1][worst]);
        Assert.True(delta <= 1e-4, $"{model}: after two learn iterations (8 AdamW steps) native vs torch max |Δ parameter| = {delta:G3} (moved {moved:G3}) at {layout.Tensors.Last(t => t.Offset <= worst).Name}");
        // and with no element left out: the two trained policies score a batch the same (to 1e-3: the elements Adam moves
        // on float noise, ±lr per step, shift these log-probs by ~1e-4 on the peaked default model; a bug moves them by 1e-1)
        var batch = Batch(model, config, seed: 8);
        var scores = finals.Select(p =>
        {
            using var scorer = Learners.Create(config, p, Options(LearnerBackend.Native));
            var lp = new float[batch.ScoredTokens];
            scorer.Score(batch, 1f, lp, [], forTraining: false);
            return lp;
        }).ToArray();
        var dLp = scores[0].Zip(scores[1], (a, b) => Math.Abs(a - b) / Math.Max(1, Math.Abs(a))).Max();
        Assert.True(dLp <= 1e-3, $"{model}: the policies after two learn iterations score a batch differently: max |Δ logπ| / max(1, |logπ|) = {dLp:G3}");
    }

    /// <summary>The gradient of the mean log-prob of every response in <paramref name="rows"/> (which parameters Adam moves on float noise).</summary>
    private static float[] FirstGradient(ModelConfig config, float[] parameters, IReadOnlyList<RolloutRow> rows)
    {
        using var learner = Learners.Create(config, (float[])parameters.Clone(), Options(LearnerBackend.Native));
        var batch = PackedSequences.Pack([.. rows.Select(r => (r.PromptTokenIds, r.ResponseTokenIds))]);
        var coefficients = Enumerable.Repeat(-1f / batch.ScoredTokens, batch.ScoredTokens).ToArray();
        learner.Score(batch, 1f, new float[batch.ScoredTokens], [], forTraining: true);
        learner.Backward(coefficients, []);
        return learner.ReadGradients();
    }

    [Theory]
    [InlineData(LearnerBackend.Native, LearnerBackend.Torch)]
    [InlineData(LearnerBackend.Torch, LearnerBackend.Native)]
    public void A_checkpoint_written_by_one_learner_resumes_in_the_other(LearnerBackend first, LearnerBackend second)
    {
        var (config, parameters) = Checkpoint.Load(Folder("qwen3"));
        var rows1 = Rows(config, parameters, 1);
        var rows2 = Rows(config, parameters, 2);
        var folder = Path.Combine(_dir, "policy");
        float[] continued;
        using (var learner = Learners.Create(config, (float[])parameters.Clone(), Options(first)))
        {
            LearnIteration(learner, rows1, 1);
            learner.SaveCheckpoint(folder);
            learner.SaveOptimizer(Path.Combine(folder, Learners.OptimizerFile));
            LearnIteration(learner, rows2, 2);
            continued = learner.ReadParameters();
        }
        using var resumed = Learners.Load(folder, Options(second));
        Assert.Equal(4, resumed.OptimizerStep);
        LearnIteration(resumed, rows2, 2);
        var delta = continued.Zip(resumed.ReadParameters(), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(delta <= 1e-4, $"{first} → {second}: resumed vs continued max |Δ parameter| = {delta:G3}");
        // resuming without the optimizer state would restart Adam's moments and bias correction: far larger differences
        using var fresh = Learners.Load(folder, Options(second), withOptimizerState: false);
        LearnIteration(fresh, rows2, 2);
        var withoutState = continued.Zip(fresh.ReadParameters(), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(withoutState > 10 * Math.Max(delta, 1e-6), $"without optimizer state the difference {withoutState:G3} should dwarf {delta:G3}");
    }
}
