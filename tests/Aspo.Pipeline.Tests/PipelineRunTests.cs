using System.Globalization;
using System.Text.Json.Nodes;
using Aspo.Data;
using Aspo.Data.Synthetic;
using Aspo.Model;
using Aspo.Pipeline.Config;
using Aspo.Tests.Shared;

namespace Aspo.Pipeline.Tests;

/// <summary>The run loop end to end on a tiny random model: export → rollout → learn → eval, resume, and config errors.</summary>
public sealed class PipelineRunTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A tiny random Qwen2 over the Qwen3 tokenizer, an arithmetic training set, and a pipeline file around them.</summary>
    private string Setup(string extra = "")
    {
        TinyQwen.SaveHfFolder(Path.Combine(_dir, "model"), seed: 3);
        var problems = ArithmeticTasks.Generate(ArithmeticTasks.Level("L1"), ArithmeticSplit.Train, 12, seed: 1);
        // data_source "toy": a random model never solves arithmetic, so the test grader rewards an odd response length —
        // rewards then differ within groups and the advantages, gradients and clip statistics are not all zero
        PromptDatasetWriter.Write(Path.Combine(_dir, "train.jsonl"), [.. problems.Select(q => new PromptRow("toy",
            [new ChatMessage("user", q.Question)], "math", q.Answer.ToString(CultureInfo.InvariantCulture), new JsonObject()))]);
        var yaml = Path.Combine(_dir, "pipeline.yaml");
        File.WriteAllText(yaml, $"""
            run: {"{"}name: tiny, seed: 7, iterations: 2, threads: 1{"}"}
            model: {"{"}path: model{"}"}
            data: {"{"}train: train.jsonl{"}"}
            rollout: {"{"}prompts_per_iteration: 3, n: 4, temperature: 1.0, max_new_tokens: 10, batch_size: 6{"}"}
            algorithm: {"{"}loss: aspo, mini_batch: 6, micro_batch: 3{"}"}
            optimizer: {"{"}lr: 0.001{"}"}
            {extra}
            """);
        return yaml;
    }

    private static float[] Weights(string folder) => Checkpoint.Load(folder).Parameters;

    private static void Toy(Aspo.Rewards.RewardRegistry registry) =>
        registry.Register("toy", (response, _) => new Aspo.Rewards.RewardResult(response.Length % 2, new Dictionary<string, double>()));

    [Fact]
    public void Two_iterations_write_shards_checkpoints_and_finite_metrics_and_change_the_parameters()
    {
        var suite = Path.Combine(TestRepository.Root, "datasets", "suites", "arith-quick.yaml");
        var config = PipelineConfig.Load(Setup($"eval: {{suites: [\"{suite}\"], every: 2, limit: 2, n: 2}}"));
        var log = new StringWriter();
        var run = new PipelineRun(config, log, Toy);
        var state = run.Execute();
        Assert.Equal(new RunState(2, Stage.Eval), state);
        foreach (var i in new[] { 1, 2 })
        {
            Assert.True(File.Exists(Path.Combine(run.RunDirectory.IterationFolder(i), "shards", "part-00000.parquet")), $"iteration {i} shard");
            Assert.True(File.Exists(Path.Combine(run.RunDirectory.IterationFolder(i), "onnx", "model.onnx")), $"iteration {i} export");
            Assert.True(File.Exists(Path.Combine(run.RunDirectory.PolicyFolder(i), "optimizer.safetensors")), $"iteration {i} optimizer state");
        }
        var start = Weights(run.RunDirectory.PolicyFolder(0));
        var end = Weights(run.RunDirectory.PolicyFolder(2));
        Assert.True(start.Zip(end, (a, b) => Math.Abs(a - b)).Max() > 1e-6, "the parameters did not change");

        var rows = File.ReadAllLines(run.RunDirectory.MetricsPath).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        // 12 sequences per iteration, mini-batch 6, one epoch: 2 optimizer steps per iteration
        Assert.Equal(4, rows.Count(r => r["kind"]!.GetValue<string>() == "step"));
        Assert.Equal(2, rows.Count(r => r["kind"]!.GetValue<string>() == "rollout"));
        Assert.Equal(2, rows.Count(r => r["kind"]!.GetValue<string>() == "iteration"));
        // eval of the starting policy, then every 2 iterations (here: after iteration 2), on the shipped quick suite
        var evals = rows.Where(r => r["kind"]!.GetValue<string>() == "eval").ToList();
        Assert.Equal([0, 2], evals.Select(e => e["iteration"]!.GetValue<int>()));
        Assert.All(evals, e => Assert.InRange(e["data"]!["val-core/all/acc/mean@2"]!.GetValue<double>(), 0, 1));
        Assert.Contains("suite arith-quick: 4 prompts × 2 samples", log.ToString());
        Assert.Matches(@"^held-out avg@2: \d+\.\d% -> \d+\.\d% \([+-]\d+\.\d points\)$", run.HeldOutChange());
        foreach (var r in rows)
        {
            foreach (var (name, value) in r["data"]!.AsObject())
                Assert.True(double.IsFinite(value!.GetValue<double>()), $"{name} = {value} in {r.ToJsonString()}");
        }
        var iteration = rows.First(r => r["kind"]!.GetValue<string>() == "iteration")["data"]!.AsObject();
        foreach (var name in new[] { "actor/pg_loss", "actor/entropy", "actor/pg_clipfrac", "actor/ppo_kl", "actor/grad_norm", "timing_s/update_actor", "timing_s/step", "perf/throughput",
                                     "rollout_learner/logprob_abs_diff_mean" })
            Assert.True(iteration.ContainsKey(name), name);
        // the learner of iteration 1's learn stage is kept (in memory) for iteration 2's
        Assert.Equal([0.0, 1.0], rows.Where(r => r["kind"]!.GetValue<string>() == "iteration").Select(r => r["data"]!["learn/learner_reused"]!.GetValue<double>()));
        var steps = rows.Where(r => r["kind"]!.GetValue<string>() == "step").Select(r => r["data"]!.AsObject()).ToList();
        Assert.Contains(steps, d => d["actor/grad_norm"]!.GetValue<double>() > 0);
        Assert.Contains(steps, d => d["actor/pg_loss"]!.GetValue<double>() != 0);
        // the learner recomputes the rollout's log-probs on the same weights (DESIGN invariant 1)
        Assert.True(iteration["rollout_learner/logprob_abs_diff_max"]!.GetValue<double>() <= 1e-3);
        var rollout = rows.First(r => r["kind"]!.GetValue<string>() == "rollout")["data"]!.AsObject();
        foreach (var name in new[] { "critic/score/mean", "response_length/mean", "response_length/clip_ratio", "timing_s/gen" })
            Assert.True(rollout.ContainsKey(name), name);
        Assert.Equal(2, JsonNode.Parse(File.ReadAllText(run.RunDirectory.StatePath))!["iteration"]!.GetValue<int>());
        // the same scalars in TensorBoard event files: iteration axis, and per optimizer step under "step/…"
        var events = Directory.GetFiles(run.RunDirectory.TensorBoardFolder, "events.out.tfevents.*").SelectMany(TensorBoardWriterTests.Read).ToList();
        Assert.Contains(events, e => e.Step == 2 && e.Values.Any(v => v.Tag == "critic/score/mean"));
        Assert.Contains(events, e => e.Step == 4 && e.Values.Any(v => v.Tag == "step/actor/pg_loss"));
        output.WriteLine(log.ToString());
        output.WriteLine(File.ReadAllText(run.RunDirectory.MetricsPath));
        Assert.Contains("iteration 2 learn:", log.ToString());

        // a finished run does nothing more; nothing temporary is left behind
        var again = new PipelineRun(config, new StringWriter(), Toy).Execute();
        Assert.Equal(state, again);
        Assert.Empty(Directory.GetFileSystemEntries(run.RunDirectory.Root, "*.tmp", SearchOption.AllDirectories));
    }

    private static List<JsonObject> MetricRows(PipelineRun run, string kind) =>
        [.. File.ReadLines(run.RunDirectory.MetricsPath).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(r => r["kind"]!.GetValue<string>() == kind).Select(r => r["data"]!.AsObject())];

    /// <summary>
    /// algorithm.filter_groups: groups whose rewards are all equal are left out of the update. Here every sample of a
    /// prompt with an odd answer is rewarded (uniform groups), the others by odd response length; the metrics must count
    /// exactly the groups the shard shows as uniform, and the optimizer steps train exactly the other groups' tokens.
    /// </summary>
    [Fact]
    public void Filter_groups_leaves_uniform_groups_out_of_the_update()
    {
        var config = PipelineConfig.Load(Setup(), ["run.iterations=1", "algorithm.filter_groups=true"]);
        var run = new PipelineRun(config, new StringWriter(), registry => registry.Register("toy", (response, truth) =>
            new Aspo.Rewards.RewardResult(Math.Abs(long.Parse(truth, CultureInfo.InvariantCulture)) % 2 == 1 ? 1 : response.Length % 2, new Dictionary<string, double>())));
        run.Execute();
        using var reader = new Aspo.Data.Shards.ShardReader(run.RunDirectory.ShardsFolder(1));
        var groups = reader.ReadBatches().SelectMany(b => b).GroupBy(r => r.PromptUid).ToList();
        var uniform = groups.Where(g => g.Select(r => r.Reward).Distinct().Count() == 1).ToList();
        var informative = groups.Except(uniform).SelectMany(g => g).ToList();
        Assert.True(uniform.Count > 0 && informative.Count > 0, $"{uniform.Count} uniform groups of {groups.Count}: the test needs both kinds");
        var iteration = MetricRows(run, "iteration").Single();
        Assert.Equal(uniform.Count, iteration["filter_groups/dropped_groups"]!.GetValue<double>());
        Assert.Equal(groups.Count, iteration["filter_groups/groups"]!.GetValue<double>());
        Assert.Equal(informative.Count, iteration["filter_groups/kept_sequences"]!.GetValue<double>());
        Assert.Equal(informative.Sum(r => r.ResponseTokenIds.Length), MetricRows(run, "step").Sum(d => d["actor/tokens"]!.GetValue<double>()));
    }

    /// <summary>
    /// algorithm.kl_coef &gt; 0: the starting checkpoint is the frozen reference. The first step starts from it, so its KL
    /// is zero up to the packing's rounding; later steps have moved away (positive KL); and the KL term changes the update.
    /// </summary>
    [Fact]
    public void Kl_to_the_starting_checkpoint_is_logged_and_changes_the_update()
    {
        var yaml = Setup();
        // a larger learning rate than the other tests, so the policy moves measurably from the reference in four steps
        var withKl = new PipelineRun(PipelineConfig.Load(yaml, ["algorithm.kl_coef=0.5", "optimizer.lr=0.01", "run.output=kl"]), new StringWriter(), Toy);
        withKl.Execute();
        var without = new PipelineRun(PipelineConfig.Load(yaml, ["optimizer.lr=0.01", "run.output=plain"]), new StringWriter(), Toy);
        without.Execute();
        var steps = MetricRows(withKl, "step");
        Assert.Equal(4, steps.Count);
        Assert.All(steps, d => Assert.Equal(0.5, d["actor/kl_coef"]!.GetValue<double>()));
        var kl = steps.Select(d => d["actor/kl_loss"]!.GetValue<double>()).ToArray();
        Assert.True(Math.Abs(kl[0]) <= 1e-6, $"first step KL {kl[0]}: the policy is the reference");
        // iteration 2's first step starts from policy 1, not from the reference: had the reference followed the policy, it would be 0 again
        Assert.True(kl[2] > 1e-5 && kl[^1] > 1e-5, $"KL per step: {string.Join(", ", kl)}");
        Assert.DoesNotContain(MetricRows(without, "step"), d => d.ContainsKey("actor/kl_loss"));
        // a moving reference (ref_every 1): every iteration starts at its reference again
        var moving = new PipelineRun(PipelineConfig.Load(yaml, ["algorithm.kl_coef=0.5", "algorithm.ref_every=1", "optimizer.lr=0.01", "run.output=moving"]), new StringWriter(), Toy);
        moving.Execute();
        var movingKl = MetricRows(moving, "step").Select(d => d["actor/kl_loss"]!.GetValue<double>()).ToArray();
        Assert.True(Math.Abs(movingKl[2]) <= 1e-6 && movingKl[1] > 1e-5, $"KL per step with ref_every 1: {string.Join(", ", movingKl)}");
        Assert.Contains("algorithm.ref_every: no reference policy is used", Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, ["algorithm.ref_every=2"])).Message);
        var a = Weights(withKl.RunDirectory.PolicyFolder(2));
        var b = Weights(without.RunDirectory.PolicyFolder(2));
        Assert.True(a.Zip(b, (x, y) => Math.Abs(x - y)).Max() > 1e-7, "kl_coef changed nothing");
    }

    /// <summary>
    /// algorithm.loss dpo: every step's pairs are exactly those the shards' rewards give (every higher- vs lower-rewarded
    /// response of a prompt); with the reference refreshed each iteration, each iteration's first step starts at the
    /// reference (loss ln 2, rewards 0); with the starting checkpoint as reference, iteration 2's does not; the
    /// parameters move.
    /// </summary>
    [Fact]
    public void Dpo_trains_on_the_shards_pairs_against_the_reference_it_names()
    {
        var yaml = Setup();
        // one prompt group per step (mini_batch = n = 4): 3 steps per iteration
        string[] dpo = ["algorithm.loss=dpo", "algorithm.dpo_pairs=all", "algorithm.mini_batch=4", "algorithm.micro_batch=2", "optimizer.lr=0.01"];
        var refreshed = new PipelineRun(PipelineConfig.Load(yaml, [.. dpo, "run.output=dpo1"]), new StringWriter(), Toy);
        refreshed.Execute();
        var frozen = new PipelineRun(PipelineConfig.Load(yaml, [.. dpo, "algorithm.ref_every=0", "run.output=dpo0"]), new StringWriter(), Toy);
        frozen.Execute();
        var steps = MetricRows(refreshed, "step");
        Assert.Equal(6, steps.Count);
        foreach (var i in new[] { 1, 2 })
        {
            using var reader = new Aspo.Data.Shards.ShardReader(refreshed.RunDirectory.ShardsFolder(i));
            var expected = reader.ReadBatches().SelectMany(b => b).Where(r => r.ResponseTokenIds.Length > 0).GroupBy(r => r.PromptUid)
                .Sum(g => g.Sum(w => g.Count(l => w.Reward > l.Reward)));
            Assert.True(expected > 0, "the test needs rewards that differ within a prompt");
            Assert.Equal(expected, steps.Skip(3 * (i - 1)).Take(3).Sum(d => d["dpo/pairs"]!.GetValue<double>()));
        }
        // iteration 1 and 2 each begin at their reference: z = 0 up to the packing's rounding
        foreach (var first in new[] { steps[0], steps[3] })
        {
            Assert.True(Math.Abs(first["dpo/loss"]!.GetValue<double>() - Math.Log(2)) <= 1e-5, $"first step loss {first["dpo/loss"]}");
            Assert.True(Math.Abs(first["dpo/rewards_chosen"]!.GetValue<double>()) <= 1e-5);
        }
        var frozenSecond = MetricRows(frozen, "step")[3];
        Assert.True(Math.Abs(frozenSecond["dpo/loss"]!.GetValue<double>() - Math.Log(2)) > 1e-4,
            $"iteration 2 with the starting checkpoint as reference should not start at z = 0: loss {frozenSecond["dpo/loss"]}");
        Assert.NotEqual(Weights(refreshed.RunDirectory.PolicyFolder(0)), Weights(refreshed.RunDirectory.PolicyFolder(2)));
        Assert.NotEqual(Weights(frozen.RunDirectory.PolicyFolder(2)), Weights(refreshed.RunDirectory.PolicyFolder(2)));
        var resolved = File.ReadAllText(Path.Combine(refreshed.RunDirectory.Root, "pipeline.resolved.yaml"));
        Assert.Contains("dpo_beta: 0.1", resolved);
        Assert.DoesNotContain("clip_low", resolved);
    }

    /// <summary>
    /// algorithm.advantage gae: PPO with a value head on the policy's trunk. The head starts at zero (first step: every
    /// value 0), is trained with the policy and saved with each policy (value_head.safetensors), so iteration 2 starts
    /// from non-zero values; verl's critic metrics are logged; the trunk's weights differ from a GRPO run's.
    /// </summary>
    [Fact]
    public void Ppo_with_a_critic_trains_and_saves_the_value_head_and_logs_verls_critic_metrics()
    {
        var yaml = Setup();
        var run = new PipelineRun(PipelineConfig.Load(yaml, ["algorithm.advantage=gae", "algorithm.loss=ppo", "algorithm.value_lr=0.01", "run.output=gae"]), new StringWriter(), Toy);
        run.Execute();
        var steps = MetricRows(run, "step");
        Assert.Equal(4, steps.Count);
        foreach (var name in new[] { "critic/vf_loss", "critic/vf_clipfrac", "critic/vpred_mean", "critic/grad_norm" })
            Assert.All(steps, d => Assert.True(d.ContainsKey(name), name));
        Assert.Equal(0, steps[0]["critic/vpred_mean"]!.GetValue<double>());   // the zero head
        Assert.NotEqual(0, steps[2]["critic/vpred_mean"]!.GetValue<double>()); // the head saved with policy 1
        Assert.True(steps[0]["critic/vf_loss"]!.GetValue<double>() > 0);
        var iterations = MetricRows(run, "iteration");
        Assert.All(iterations, d => Assert.True(d.ContainsKey("critic/vf_explained_var") && d.ContainsKey("critic/returns/mean")));
        var head1 = Aspo.Model.ValueHead.LoadOrCreate(run.RunDirectory.PolicyFolder(1), Aspo.Model.Checkpoint.Load(run.RunDirectory.PolicyFolder(1)).Config.HiddenSize);
        Assert.Contains(head1.Parameters, p => p != 0);
        Assert.Equal(2, head1.Optimizer.Step);
        Assert.False(File.Exists(Path.Combine(run.RunDirectory.PolicyFolder(0), Aspo.Model.ValueHead.FileName)));
        var grpo = new PipelineRun(PipelineConfig.Load(yaml, ["algorithm.loss=ppo", "run.output=grpo"]), new StringWriter(), Toy);
        grpo.Execute();
        Assert.NotEqual(Weights(grpo.RunDirectory.PolicyFolder(2)), Weights(run.RunDirectory.PolicyFolder(2)));
        var resolved = File.ReadAllText(Path.Combine(run.RunDirectory.Root, "pipeline.resolved.yaml"));
        Assert.Contains("vf_coef: 0.1", resolved);
        Assert.Contains("algorithm.gamma: only read with algorithm.advantage gae", Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, ["algorithm.gamma=0.9"])).Message);
        Assert.Contains("learner.backend torch cannot do yet", Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, ["algorithm.advantage=gae", "learner.backend=torch"])).Message);
        Assert.Contains("algorithm.lam must be in [0, 1]", Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, ["algorithm.advantage=gae", "algorithm.lam=1.5"])).Message);
    }

    /// <summary>
    /// algorithm.advantage spo_chain: the shards hold, besides the samples, N continuations per distinct branch prefix
    /// (every 2nd token with π_old &lt; 0.9, counted here independently), each naming its parent and branch token; the
    /// learn stage trains the samples only, on exactly the tokens with π_old &lt; 0.9; costs are logged.
    /// </summary>
    [Fact]
    public void Spo_chain_samples_continuations_from_branch_points_and_trains_the_uncertain_tokens()
    {
        var yaml = Setup();
        var run = new PipelineRun(PipelineConfig.Load(yaml, ["algorithm.advantage=spo_chain", "algorithm.loss=ppo", "algorithm.spo_continuations=2",
            "algorithm.spo_interval=2", "optimizer.lr=0.01", "run.output=spo"]), new StringWriter(), Toy);
        run.Execute();
        foreach (var iteration in new[] { 1, 2 })
        {
            using var reader = new Aspo.Data.Shards.ShardReader(run.RunDirectory.ShardsFolder(iteration));
            var all = reader.ReadBatches().SelectMany(b => b).ToList();
            var samples = all.Where(r => r.ParentSample < 0).ToList();
            var continuations = all.Where(r => r.ParentSample >= 0).ToList();
            Assert.Equal(12, samples.Count);
            var expectedPrefixes = new HashSet<string>();
            foreach (var r in samples)
            {
                var uncertain = Enumerable.Range(0, r.OldLogprobs.Length).Where(t => Math.Exp(r.OldLogprobs[t]) < 0.9).ToList();
                foreach (var b in uncertain.Where((_, k) => k % 2 == 0))
                    expectedPrefixes.Add(r.PromptUid + "|" + string.Join(',', r.ResponseTokenIds[..b]));
            }
            Assert.True(expectedPrefixes.Count > 0);
            Assert.Equal(2 * expectedPrefixes.Count, continuations.Count);
            foreach (var c in continuations)
            {
                var parent = samples.Single(r => r.PromptUid == c.PromptUid && r.SampleIndex == c.ParentSample);
                Assert.True(Math.Exp(parent.OldLogprobs[c.BranchToken]) < 0.9, "a branch sits before an uncertain token");
                Assert.Equal(parent.PromptTokenIds, c.PromptTokenIds);
                Assert.Contains(c.PromptUid + "|" + string.Join(',', parent.ResponseTokenIds[..c.BranchToken]), expectedPrefixes);
                Assert.True(c.ResponseTokenIds.Length >= 1 && c.BranchToken + c.ResponseTokenIds.Length <= 10, "within max_new_tokens in all");
                Assert.Equal(c.ResponseTokenIds.Length, c.OldLogprobs.Length);
            }
            Assert.Equal(continuations.Count, continuations.Select(c => (c.PromptUid, c.SampleIndex)).Distinct().Count());
            var metrics = MetricRows(run, "iteration")[iteration - 1];
            double uncertainTokens = samples.Sum(r => r.OldLogprobs.Count(lp => Math.Exp(lp) < 0.9));
            Assert.Equal(uncertainTokens / samples.Sum(r => r.ResponseTokenIds.Length), metrics["spo/trained_token_fraction"]!.GetValue<double>(), 9);
            Assert.Equal(continuations.Sum(r => r.ResponseTokenIds.Length) / uncertainTokens, metrics["spo/continuation_tokens_per_trained_token"]!.GetValue<double>(), 9);
            var rollout = MetricRows(run, "rollout")[iteration - 1];
            Assert.Equal(continuations.Count, rollout["spo/continuations"]!.GetValue<double>());
        }
        Assert.NotEqual(Weights(run.RunDirectory.PolicyFolder(0)), Weights(run.RunDirectory.PolicyFolder(2)));
        Assert.Contains("algorithm.spo_rho: only read with algorithm.advantage spo_chain", Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, ["algorithm.spo_rho=0.5"])).Message);
    }

    /// <summary>
    /// algorithm.advantage spo_tree (here 4 first-level segments of 4 tokens per prompt, 2 children each): every node is
    /// a shard row naming its parent; nodes that reached the segment length have exactly 2 children; the trained tokens
    /// are those with π_old &lt; 0.9 of the nodes whose value differs from their parent's (values recomputed here).
    /// </summary>
    [Fact]
    public void Spo_tree_samples_a_tree_per_prompt_and_trains_the_nodes_whose_value_moves()
    {
        var yaml = Setup();
        var run = new PipelineRun(PipelineConfig.Load(yaml, ["algorithm.advantage=spo_tree", "algorithm.loss=ppo", "algorithm.spo_tree_branching=[2]",
            "algorithm.spo_tree_segment=4", "optimizer.lr=0.01", "run.output=tree"]), new StringWriter(), Toy);
        run.Execute();
        using var reader = new Aspo.Data.Shards.ShardReader(run.RunDirectory.ShardsFolder(1));
        var nodes = reader.ReadBatches().SelectMany(b => b).ToList();
        double trained = 0, tokens = 0;
        foreach (var tree in nodes.GroupBy(r => r.PromptUid))
        {
            var first = tree.Where(r => r.ParentSample < 0).ToList();
            Assert.Equal([0, 1, 2, 3], first.Select(r => r.SampleIndex).Order());
            double Value(Aspo.Data.Shards.RolloutRow node)
            {
                var children = tree.Where(c => c.ParentSample == node.SampleIndex).ToList();
                return children.Count == 0 ? node.Reward : children.Average(Value);
            }
            foreach (var node in first)
            {
                var children = tree.Where(c => c.ParentSample == node.SampleIndex).ToList();
                Assert.Equal(node.FinishReason == "length" && node.ResponseTokenIds.Length == 4 ? 2 : 0, children.Count);
                Assert.All(children, c => Assert.True(c.BranchToken == 4 && c.SampleIndex > 3 && c.ResponseTokenIds.Length <= 6));
            }
            var root = first.Average(Value);
            foreach (var node in tree)
            {
                var parentValue = node.ParentSample < 0 ? root : Value(tree.Single(p => p.SampleIndex == node.ParentSample));
                if (Value(node) != parentValue)
                    trained += node.OldLogprobs.Count(lp => Math.Exp(lp) < 0.9);
                tokens += node.ResponseTokenIds.Length;
            }
        }
        Assert.True(nodes.Count > 12, "the trees branched");
        Assert.Equal(trained / tokens, MetricRows(run, "iteration")[0]["spo/trained_token_fraction"]!.GetValue<double>(), 9);
        Assert.True(MetricRows(run, "rollout")[0]["spo/tree_nodes"]!.GetValue<double>() == nodes.Count);
        Assert.NotEqual(Weights(run.RunDirectory.PolicyFolder(0)), Weights(run.RunDirectory.PolicyFolder(2)));
        Assert.Contains("must leave tokens for the last level", Assert.Throws<ConfigException>(() =>
            PipelineConfig.Load(yaml, ["algorithm.advantage=spo_tree", "algorithm.spo_tree_branching=[2, 2]", "algorithm.spo_tree_segment=5"])).Message);
    }

    [Theory]
    [InlineData("algorithm.clip_high=0.3", "algorithm.clip_high: not used by loss dpo")]
    [InlineData("algorithm.kl_coef=0.1", "algorithm.kl_coef: not used by loss dpo")]
    [InlineData("algorithm.advantage=rloo", "algorithm.advantage: not used by loss dpo")]
    [InlineData("algorithm.rollout_correction=token", "algorithm.rollout_correction: not used by loss dpo")]
    [InlineData("algorithm.dpo_pairs=some", "algorithm.dpo_pairs: unknown 'some'; valid: best_worst, all")]
    [InlineData("algorithm.dpo_beta=0", "algorithm.dpo_beta must be > 0")]
    [InlineData("algorithm.mini_batch=3", "rollout.n (4) must be ≥ 2 and divide algorithm.mini_batch (3)")]
    public void Dpo_refuses_settings_it_would_ignore_or_cannot_use(string setting, string message)
    {
        var yaml = Setup();
        var error = Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, ["algorithm.loss=dpo", "algorithm.micro_batch=1", setting]));
        Assert.Contains(message, error.Message);
        Assert.Contains("algorithm.dpo_beta: not used by loss aspo", Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, ["algorithm.dpo_beta=0.2"])).Message);
        // keys that only restate their default are no request: the shipped pipeline.yaml (advantage: grpo,
        // aggregation: token-mean) switches to dpo with one --set
        var shipped = Path.Combine(TestRepository.Root, "pipeline.yaml");
        Assert.Equal("dpo", PipelineConfig.Load(shipped, ["algorithm.loss=dpo"]).Algorithm.Loss);
        Assert.Contains("algorithm.aggregation: not used by loss dpo", Assert.Throws<ConfigException>(() =>
            PipelineConfig.Load(shipped, ["algorithm.loss=dpo", "algorithm.aggregation=seq-mean-token-mean"])).Message);
    }

    /// <summary>run.max_minutes: once spent, no iteration starts (a budget of ~0 stops before the first); the same run
    /// resumes without the budget, which a resume may change.</summary>
    [Fact]
    public void A_spent_wall_clock_budget_starts_no_iteration_and_the_run_resumes_with_a_larger_one()
    {
        var suite = Path.Combine(TestRepository.Root, "datasets", "suites", "arith-quick.yaml");
        var yaml = Setup($"eval: {{suites: [\"{suite}\"], every: 5, limit: 2, n: 2}}");
        var log = new StringWriter();
        var stopped = new PipelineRun(PipelineConfig.Load(yaml, ["run.max_minutes=1e-9"]), log, Toy);
        Assert.Equal(new RunState(0, Stage.Eval), stopped.Execute());
        Assert.Contains("run.max_minutes 1E-09 spent after iteration 0", log.ToString());
        var resumed = new PipelineRun(PipelineConfig.Load(yaml, ["run.iterations=1"]), new StringWriter(), Toy);
        Assert.Equal(new RunState(1, Stage.Eval), resumed.Execute());
        var evaluated = File.ReadLines(resumed.RunDirectory.MetricsPath).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(r => r["kind"]!.GetValue<string>() == "eval").Select(r => r["iteration"]!.GetValue<int>());
        Assert.Equal([0, 1], evaluated); // the start, then the last iteration (eval.every is 5)
        Assert.Contains("run.max_minutes must be ≥ 0", Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, ["run.max_minutes=-1"])).Message);
    }

    /// <summary>Stopping after iteration 1 and resuming gives the same final checkpoint, bit for bit, as one uninterrupted run.</summary>
    [Theory]
    [InlineData("algorithm.loss=aspo")]
    [InlineData("algorithm.loss=dpo algorithm.mini_batch=4 algorithm.micro_batch=2")]
    [InlineData("algorithm.advantage=gae algorithm.loss=ppo")]
    [InlineData("algorithm.advantage=spo_chain algorithm.loss=ppo algorithm.spo_continuations=2 algorithm.spo_interval=2")]
    [InlineData("algorithm.advantage=spo_tree algorithm.loss=ppo algorithm.spo_tree_branching=[2] algorithm.spo_tree_segment=4")]
    public void A_resumed_run_ends_bit_identical_to_an_uninterrupted_one(string settings)
    {
        var yaml = Setup();
        var method = settings.Split(' ');
        var whole = PipelineConfig.Load(yaml, ["run.output=whole", .. method]);
        new PipelineRun(whole, new StringWriter(), Toy).Execute();
        var first = PipelineConfig.Load(yaml, ["run.output=split", "run.iterations=1", .. method]);
        var split = new PipelineRun(first, new StringWriter(), Toy);
        Assert.Equal(new RunState(1, Stage.Eval), split.Execute());
        // a crash between stages: the learn of iteration 2 never recorded → it is redone
        var resumed = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=split", .. method]), new StringWriter(), Toy);
        Assert.Equal(new RunState(2, Stage.Eval), resumed.Execute());
        Assert.Equal(File.ReadAllBytes(Path.Combine(new PipelineRun(whole, new StringWriter(), Toy).RunDirectory.PolicyFolder(2), "model.safetensors")),
                     File.ReadAllBytes(Path.Combine(resumed.RunDirectory.PolicyFolder(2), "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(new PipelineRun(whole, new StringWriter(), Toy).RunDirectory.PolicyFolder(2), "optimizer.safetensors")),
                     File.ReadAllBytes(Path.Combine(resumed.RunDirectory.PolicyFolder(2), "optimizer.safetensors")));
        // a different configuration on the same run directory is refused
        var other = PipelineConfig.Load(yaml, ["run.output=split", "algorithm.loss=grpo"]);
        var refused = Assert.Throws<ConfigException>(() => new PipelineRun(other, new StringWriter(), Toy).Execute()).Message;
        Assert.Contains("was started with another configuration", refused);
        Assert.Contains($"algorithm.loss was \"{method.First(m => m.StartsWith("algorithm.loss=", StringComparison.Ordinal))["algorithm.loss=".Length..]}\", now \"grpo\"", refused); // the keys that differ, old and new
    }

    /// <summary>
    /// The learner is not part of the algorithm: a run started with the native learner resumes with the torch learner
    /// (same checkpoint and optimizer files) and ends within the fp32 floor of the native run.
    /// </summary>
    [Fact]
    public void A_run_resumes_with_the_other_learner_and_ends_where_the_native_run_ends()
    {
        var yaml = Setup();
        var native = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=native"]), new StringWriter(), Toy);
        native.Execute();
        new PipelineRun(PipelineConfig.Load(yaml, ["run.output=switched", "run.iterations=1"]), new StringWriter(), Toy).Execute();
        var switched = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=switched", "learner.backend=torch"]), new StringWriter(), Toy);
        Assert.Equal(new RunState(2, Stage.Eval), switched.Execute());
        Assert.Contains("backend: \"torch\"", File.ReadAllText(Path.Combine(switched.RunDirectory.Root, "pipeline.resolved.yaml")));
        var a = Weights(native.RunDirectory.PolicyFolder(2));
        var b = Weights(switched.RunDirectory.PolicyFolder(2));
        var moved = a.Zip(Weights(native.RunDirectory.PolicyFolder(1)), (x, y) => Math.Abs(x - y)).Max();
        var delta = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        // elements whose gradient is float noise move by ±lr per Adam step in either learner: at most 2 steps × lr 1e-3
        Assert.True(moved > 1e-4 && delta <= 2e-3, $"iteration 2 moved the weights by {moved:G3}; native vs torch-resumed differ by {delta:G3}");
    }

    /// <summary>
    /// rollout.sampler graph: the export carries the sampling head and the rollout samples in the graph — the same
    /// tokens as the host sampler's run, old log-probs within 1e-5; rollout.device cuda on this CPU build is one error
    /// naming the build switch.
    /// </summary>
    [Fact]
    public void Sampling_in_the_graph_writes_the_host_samplers_rows()
    {
        var yaml = Setup();
        Aspo.Data.Shards.RolloutRow[] Rows(PipelineRun run)
        {
            using var reader = new Aspo.Data.Shards.ShardReader(run.RunDirectory.ShardsFolder(1));
            return [.. reader.ReadBatches().SelectMany(b => b).OrderBy(r => r.PromptUid).ThenBy(r => r.SampleIndex)];
        }
        var host = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=host", "run.iterations=1"]), new StringWriter(), Toy);
        host.Execute();
        var graph = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=graph", "run.iterations=1", "rollout.sampler=graph"]), new StringWriter(), Toy);
        graph.Execute();
        using (var exported = Aspo.Onnx.OnnxDecoder.Open(graph.RunDirectory.OnnxFolder(1), threads: 1))
            Assert.True(exported.HasSamplingHead);
        var (a, b) = (Rows(host), Rows(graph));
        Assert.Equal(12, a.Length);
        Assert.Equal(a.Select(r => r.ResponseTokenIds), b.Select(r => r.ResponseTokenIds));
        Assert.True(a.Zip(b, (x, y) => x.OldLogprobs.Zip(y.OldLogprobs, (p, q) => Math.Abs(p - q)).Max()).Max() <= 1e-5);

        var cuda = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=cuda", "run.iterations=1", "rollout.device=cuda"]), new StringWriter(), Toy);
        var e = Assert.ThrowsAny<Exception>(() => cuda.Execute());
        Assert.Contains("has no CUDA execution provider", e.Message);
        Assert.Contains("-p:OnnxBackend=cuda", e.Message);
    }

    [Theory]
    [InlineData(new[] { "algorithm.mini_batch=5" }, "algorithm.mini_batch (5) must divide rollout.prompts_per_iteration × rollout.n = 3 × 4 = 12 sequences; allowed: 1, 2, 3, 4, 6, 12")]
    [InlineData(new[] { "algorithm.micro_batch=4" }, "algorithm.micro_batch (4) must divide algorithm.mini_batch (6); allowed: 1, 2, 3, 6, or auto")]
    [InlineData(new[] { "algorithm.loss=aspoo" }, "algorithm.loss: unknown policy loss 'aspoo'; valid losses: aspo, aspo_paper")]
    [InlineData(new[] { "algorithm.clip_hihg=0.3" }, "--set algorithm.clip_hihg=0.3: unknown key 'algorithm.clip_hihg'")]
    [InlineData(new[] { "rollout.n=eight" }, "--set rollout.n=eight: rollout.n: expected an integer, got 'eight'")]
    [InlineData(new[] { "rollout.temperature=0" }, "rollout.temperature must be > 0 for training")]
    [InlineData(new[] { "algorithm.advantage=ppo" }, "algorithm.advantage: unknown estimator 'ppo'; valid: grpo, dr_grpo, rloo")]
    [InlineData(new[] { "nonsense" }, "--set nonsense: expected key=value")]
    [InlineData(new[] { "model=3" }, "model: expected a mapping of keys, got a scalar")]
    [InlineData(new[] { "learner.backend=jax" }, "learner.backend: unknown 'jax'; valid: native, torch")]
    [InlineData(new[] { "learner.device=gpu" }, "learner.device: 'gpu'; valid: cpu, cuda, cuda:N")]
    [InlineData(new[] { "learner.device=cuda:1" }, "learner.device cuda:1 needs learner.backend torch (the native learner runs on the CPU)")]
    [InlineData(new[] { "learner.dtype=fp16" }, "learner.dtype: unknown 'fp16'; valid: fp32, bf16")]
    [InlineData(new[] { "rollout.sampler=gpu" }, "rollout.sampler: unknown 'gpu'; valid: auto, host, graph")]
    [InlineData(new[] { "rollout.device=tpu" }, "rollout.device: 'tpu'; valid: cpu, cuda, cuda:N")]
    [InlineData(new[] { "algorithm.clip_high=0.3" }, "algorithm.clip_high: not used by loss aspo, so it would change nothing; aspo reads dual_clip, aspo_entropy_split, aspo_low_entropy_clip, aspo_high_entropy_clip, aspo_entropy_quantile")]
    [InlineData(new[] { "algorithm.loss=no_is", "algorithm.dual_clip=2" }, "algorithm.dual_clip: not used by loss no_is, so it would change nothing; no_is reads none of the loss options")]
    public void Bad_settings_fail_at_load_naming_the_key_and_what_is_allowed(string[] overrides, string expected)
    {
        var yaml = Setup();
        var e = Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, overrides));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Overrides_and_loss_defaults_reach_the_typed_config_and_the_resolved_file_loads_again()
    {
        var yaml = Setup();
        var config = PipelineConfig.Load(yaml, ["algorithm.loss=dapo", "rollout.n=6", "eval.suites=[a.yaml, b.yaml]"]);
        Assert.Equal(0.28, config.Algorithm.LossOptions.ClipHigh); // dapo's default clip-higher
        Assert.Equal(6, config.Rollout.SamplesPerPrompt);
        Assert.Equal(["a.yaml", "b.yaml"], config.Eval.Suites);
        var resolved = Path.Combine(_dir, "resolved.yaml");
        File.WriteAllText(resolved, config.ToYaml());
        var back = PipelineConfig.Load(resolved);
        Assert.Equal(config.ToYaml(), back.ToYaml());
    }

    /// <summary>int4 rollouts turn token-level rollout correction on unless the config sets it.</summary>
    [Fact]
    public void Int4_rollouts_correct_the_logprob_mismatch_by_default()
    {
        var yaml = Setup();
        Assert.Equal(Aspo.Algorithms.RolloutCorrectionLevel.Off, PipelineConfig.Load(yaml).Algorithm.RolloutCorrection.Level);
        Assert.Equal(Aspo.Algorithms.RolloutCorrectionLevel.Token, PipelineConfig.Load(yaml, ["rollout.int4=true"]).Algorithm.RolloutCorrection.Level);
        Assert.Equal(Aspo.Algorithms.RolloutCorrectionLevel.Off,
            PipelineConfig.Load(yaml, ["rollout.int4=true", "algorithm.rollout_correction=off"]).Algorithm.RolloutCorrection.Level);
    }

    /// <summary>micro_batch auto reaches the learn stage, which picks a divisor of the mini-batch from the memory plan
    /// (here everything fits: the whole mini-batch) and records it; the resolved file says auto and loads again.</summary>
    [Fact]
    public void Micro_batch_auto_is_chosen_from_the_memory_plan()
    {
        var yaml = Setup();
        var config = PipelineConfig.Load(yaml, ["run.iterations=1", "algorithm.micro_batch=auto"]);
        Assert.Equal(0, config.Algorithm.MicroBatch);
        var run = new PipelineRun(config, new StringWriter(), Toy);
        run.Execute();
        var resolved = File.ReadAllText(Path.Combine(run.RunDirectory.Root, "pipeline.resolved.yaml"));
        Assert.Contains("micro_batch: \"auto\"", resolved);
        Assert.Equal(0, PipelineConfig.Load(Path.Combine(run.RunDirectory.Root, "pipeline.resolved.yaml")).Algorithm.MicroBatch);
        var iteration = File.ReadLines(run.RunDirectory.MetricsPath).Select(l => JsonNode.Parse(l)!.AsObject()).Single(r => r["kind"]!.GetValue<string>() == "iteration");
        Assert.Equal(6, iteration["data"]!["learn/micro_batch"]!.GetValue<double>());
        Assert.Contains("algorithm.micro_batch (4) must divide algorithm.mini_batch (6); allowed: 1, 2, 3, 6, or auto",
            Assert.Throws<ConfigException>(() => PipelineConfig.Load(yaml, ["algorithm.micro_batch=4"])).Message);
    }

    /// <summary>The README's configuration table is the key table's, so a key added, renamed or given another default
    /// without the README following fails here.</summary>
    [Fact]
    public void The_readme_configuration_table_is_the_key_tables()
    {
        var readme = File.ReadAllText(Path.Combine(TestRepository.Root, "README.md")).ReplaceLineEndings("\n");
        Assert.True(readme.Contains(ConfigKeys.MarkdownTable(), StringComparison.Ordinal),
            "README.md's configuration table differs from ConfigKeys.MarkdownTable(); replace it with:\n" + ConfigKeys.MarkdownTable());
        Assert.Equal(ConfigKeys.All.Count, ConfigKeys.All.Select(k => k.Path).Distinct().Count());
    }

    [Fact]
    public void The_shipped_pipeline_yaml_is_valid()
    {
        var root = TestRepository.Root;
        var config = PipelineConfig.Load(Path.Combine(root, "pipeline.yaml"));
        Assert.Equal("aspo", config.Algorithm.Loss);
        Assert.Equal(0, config.SequencesPerIteration % config.Algorithm.MiniBatch);
        Assert.Equal(Path.Combine(root, "runs", "default"), config.RunDirectory);
    }

    /// <summary>Replay: iterative DPO learns from an ASPO run's shards (its pairs are the shards' pairs; no rollout correction).</summary>
    [Fact]
    public void Replay_runs_dpo_on_another_runs_shards()
    {
        var yaml = Setup();
        var source = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=source", "run.iterations=1"]), new StringWriter(), Toy);
        source.Execute();
        var replay = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=replay", "run.iterations=1", "algorithm.loss=dpo", "algorithm.mini_batch=12",
            "algorithm.micro_batch=4", "optimizer.lr=0.01"]), new StringWriter());
        Assert.Equal(new RunState(1, Stage.Learn), replay.Replay(source.RunDirectory.Root));
        using var reader = new Aspo.Data.Shards.ShardReader(source.RunDirectory.ShardsFolder(1));
        var groups = reader.ReadBatches().SelectMany(b => b).Where(r => r.ResponseTokenIds.Length > 0).GroupBy(r => r.PromptUid);
        var step = MetricRows(replay, "step").Single(); // all three prompt groups in one step
        Assert.Equal(groups.Count(g => g.Max(r => r.Reward) > g.Min(r => r.Reward)), step["dpo/pairs"]!.GetValue<double>()); // best_worst: one per group that differs
        Assert.False(step.ContainsKey("rollout_corr/rollout_is_mean"));
        Assert.NotEqual(Weights(source.RunDirectory.PolicyFolder(0)), Weights(replay.RunDirectory.PolicyFolder(1)));
    }

    /// <summary>Replay: GRPO with token-level rollout correction learns from an ASPO run's shards into a new run.</summary>
    [Fact]
    public void Replay_learns_from_another_runs_shards_and_reports_the_logprob_mismatch_per_shard()
    {
        var yaml = Setup();
        // a large learning rate, so the two algorithms' policies drift apart measurably within one iteration
        var source = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=source", "optimizer.lr=0.05"]), new StringWriter(), Toy);
        source.Execute();
        var log = new StringWriter();
        var replay = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=replay", "optimizer.lr=0.05", "algorithm.loss=grpo", "algorithm.rollout_correction=token"]), log);
        Assert.Equal(new RunState(2, Stage.Learn), replay.Replay(source.RunDirectory.Root));
        output.WriteLine(log.ToString());
        var rows = File.ReadAllLines(replay.RunDirectory.MetricsPath).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var shards = rows.Where(r => r["kind"]!.GetValue<string>() == "shard").ToList();
        Assert.Equal(2, shards.Count);
        // iteration 1: same starting policy as the source's rollout → agreement at the fp32 floor
        Assert.True(shards[0]["data"]!["replay/logprob_abs_diff_max"]!.GetValue<double>() <= 1e-3);
        // iteration 2: the shards come from the source's ASPO policy 1, the learner holds the replay's GRPO policy 1
        Assert.True(shards[1]["data"]!["replay/logprob_abs_diff_mean"]!.GetValue<double>() > 10 * shards[0]["data"]!["replay/logprob_abs_diff_mean"]!.GetValue<double>());
        // the learner of iteration 1's learn stage is kept (in memory) for iteration 2's
        Assert.Equal([0.0, 1.0], rows.Where(r => r["kind"]!.GetValue<string>() == "iteration").Select(r => r["data"]!["learn/learner_reused"]!.GetValue<double>()));
        var steps = rows.Where(r => r["kind"]!.GetValue<string>() == "step").Select(r => r["data"]!.AsObject()).ToList();
        Assert.Equal(4, steps.Count);
        Assert.All(steps, d => Assert.True(d.ContainsKey("rollout_corr/rollout_is_mean"), "rollout correction metrics"));
        Assert.Contains("learner vs rollout |Δ logπ|", log.ToString());
        var start = Weights(source.RunDirectory.PolicyFolder(0));
        Assert.Equal(start, Weights(replay.RunDirectory.PolicyFolder(0)));
        Assert.NotEqual(Weights(source.RunDirectory.PolicyFolder(2)), Weights(replay.RunDirectory.PolicyFolder(2)));
        // the report overlays both runs: self-contained HTML, one polyline per run where both have the metric
        var html = RunReport.Html([source.RunDirectory.Root, replay.RunDirectory.Root]);
        var report = Path.Combine(_dir, "report.html");
        File.WriteAllText(report, html);
        Assert.Equal(RunReport.Charts.Count, System.Text.RegularExpressions.Regex.Matches(html, "<svg ").Count);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<link", html);
        Assert.Empty(System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=").Cast<System.Text.RegularExpressions.Match>());
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(Chart(html, "Entropy"), "<polyline").Count);      // both runs learn
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(Chart(html, "Reward (training rollouts)"), "<polyline")); // only the source rolls out
        AssertRenders(report);

        // replaying into the source itself, or from a folder that is not a run, is refused
        Assert.Contains("not a run directory", Assert.Throws<ConfigException>(() =>
            new PipelineRun(PipelineConfig.Load(yaml, ["run.output=replay2"]), new StringWriter()).Replay(_dir)).Message);
    }

    /// <summary>With several eval suites, the report's held-out chart and the closing line follow the first (headline)
    /// suite; a later suite evaluated at the same iterations must not overwrite it.</summary>
    [Fact]
    public void Held_out_series_and_closing_line_follow_the_first_suite()
    {
        var config = PipelineConfig.Load(Setup(), ["run.output=two-suites"]);
        var run = new PipelineRun(config, new StringWriter());
        Directory.CreateDirectory(run.RunDirectory.Root);
        string Row(int iteration, string suite, double value) =>
            $"{{\"kind\":\"eval\",\"iteration\":{iteration},\"step\":0,\"suite\":\"{suite}\",\"data\":{{\"val-core/all/acc/mean@8\":{value.ToString(CultureInfo.InvariantCulture)}}}}}";
        File.WriteAllLines(run.RunDirectory.MetricsPath, [Row(0, "main", 0.439), Row(0, "hard", 0.001), Row(20, "main", 0.62), Row(20, "hard", 0.0),
            Row(40, "main", 0.673), Row(40, "hard", 0.0)]);
        var series = RunReport.Series(RunReport.ReadMetrics(run.RunDirectory.Root), RunReport.Charts.Single(c => c.Kind == "eval"));
        Assert.Equal([(0, 0.439), (20, 0.62), (40, 0.673)], series);
        Assert.Equal("held-out avg@8: 43.9% -> 67.3% (+23.4 points)", run.HeldOutChange());
    }

    [Theory]
    [InlineData(1.25e-5, 2.5e-6, "0.0000125")]   // KL-sized values: distinct labels, not all "0"
    [InlineData(-1e-17, 2.5e-6, "0.0000000")]    // never "-0"
    [InlineData(0.63481, 0.05, "0.635")]
    [InlineData(47.9123, 2.5, "47.9")]
    [InlineData(1234.5, 300, "1235")]
    public void Axis_labels_have_one_more_decimal_than_the_tick_step(double value, double step, string expected) =>
        Assert.Equal(expected, RunReport.TickLabel(value, step));

    private static string Chart(string html, string title)
    {
        var start = html.IndexOf($"<h2>{System.Net.WebUtility.HtmlEncode(title)}</h2>", StringComparison.Ordinal);
        Assert.True(start >= 0, title);
        return html[start..html.IndexOf("</svg>", start, StringComparison.Ordinal)];
    }

    /// <summary>Headless Chromium (tools/report-snapshot) renders the report: a PNG well above a blank page's size.</summary>
    private void AssertRenders(string report)
    {
        var root = TestRepository.Root;
        Assert.True(File.Exists("/usr/bin/chromium"), "chromium is not installed: run tools/setup (it installs Debian's chromium)");
        string Snapshot(string html, string png)
        {
            var info = new System.Diagnostics.ProcessStartInfo(Path.Combine(root, "tools", "report-snapshot"), [html, png, "1000x900"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var p = System.Diagnostics.Process.Start(info)!;
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err.Result);
            Assert.Equal([0x89, 0x50, 0x4E, 0x47], File.ReadAllBytes(png)[..4]); // PNG signature
            return png;
        }
        var blank = Path.Combine(_dir, "blank.html");
        File.WriteAllText(blank, "<!DOCTYPE html><html><body></body></html>");
        var blankSize = new FileInfo(Snapshot(blank, Path.Combine(_dir, "blank.png"))).Length;
        var reportSize = new FileInfo(Snapshot(report, Path.Combine(_dir, "report.png"))).Length;
        output.WriteLine($"report.png {reportSize} bytes, blank page {blankSize} bytes");
        var keep = Environment.GetEnvironmentVariable("ASPO_KEEP_REPORT_PNG"); // a place to look at the rendering by eye
        if (!string.IsNullOrEmpty(keep))
            File.Copy(Path.Combine(_dir, "report.png"), keep, overwrite: true);
        Assert.True(reportSize > 4 * blankSize, $"report.png ({reportSize} bytes) is not much larger than a blank page's ({blankSize} bytes)");
    }

    [Fact]
    public void A_tokenizer_of_another_model_or_an_empty_dataset_fails_before_the_run_directory_exists()
    {
        var yaml = Setup();
        var small = Path.Combine(_dir, "small");
        var config = TinyQwen.Config() with { VocabSize = 1000 };
        Checkpoint.Save(small, config, TinyQwen.Parameters(config, seed: 1));
        File.Copy(Path.Combine(TestRepository.Qwen3TokenizerFolder, "tokenizer.json"), Path.Combine(small, "tokenizer.json"));
        var mismatch = PipelineConfig.Load(yaml, ["run.output=a", "model.path=small"]);
        Assert.Contains("the tokenizer does not belong to this model", Assert.Throws<ConfigException>(() => new PipelineRun(mismatch, new StringWriter(), Toy).Execute()).Message);
        Assert.False(Directory.Exists(mismatch.RunDirectory));
        // an empty JSONL is "no rows"; a verl Parquet with the columns but no rows gets its own message
        File.WriteAllText(Path.Combine(_dir, "empty.jsonl"), "");
        var empty = PipelineConfig.Load(yaml, ["run.output=b", "data.train=empty.jsonl"]);
        Assert.Contains("no rows: the file is empty", Assert.Throws<DataFormatException>(() => new PipelineRun(empty, new StringWriter(), Toy).Execute()).Message);
        Assert.False(Directory.Exists(empty.RunDirectory));
        PromptDatasetWriter.Write(Path.Combine(_dir, "one.parquet"), [new PromptRow("toy", [new ChatMessage("user", "q")], "math", "1", new JsonObject())]);
        using (var conn = DuckDbSql.Open())
            DuckDbSql.Execute(conn, $"COPY (SELECT * FROM read_parquet('{Path.Combine(_dir, "one.parquet")}') WHERE false) TO '{Path.Combine(_dir, "none.parquet")}' (FORMAT parquet)");
        empty = PipelineConfig.Load(yaml, ["run.output=b", "data.train=none.parquet"]);
        Assert.Contains("data.train has no rows", Assert.Throws<ConfigException>(() => new PipelineRun(empty, new StringWriter(), Toy).Execute()).Message);
        Assert.False(Directory.Exists(empty.RunDirectory));
    }

    [Fact]
    public void Learn_refuses_shards_of_another_run_or_an_older_policy()
    {
        var yaml = Setup();
        var a = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=a", "run.name=alpha"]), new StringWriter(), Toy);
        a.Execute();
        var b = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=b", "run.name=beta", "run.iterations=1"]), new StringWriter(), Toy);
        b.Export(1);
        Directory.CreateDirectory(Path.Combine(b.RunDirectory.IterationFolder(1), "shards"));
        File.Copy(Path.Combine(a.RunDirectory.IterationFolder(1), "shards", "part-00000.parquet"), Path.Combine(b.RunDirectory.IterationFolder(1), "shards", "part-00000.parquet"));
        Assert.Contains("belongs to run 'alpha', not 'beta'", Assert.Throws<ConfigException>(() => b.Learn(1)).Message);
        // alpha's iteration-1 shards (policy 0) handed to alpha's iteration 2 (policy 1)
        File.Copy(Path.Combine(a.RunDirectory.IterationFolder(1), "shards", "part-00000.parquet"), Path.Combine(a.RunDirectory.IterationFolder(2), "shards", "part-00000.parquet"), overwrite: true);
        var again = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=a", "run.name=alpha"]), new StringWriter(), Toy);
        Assert.Contains("was sampled by policy version 0, the learner holds version 1", Assert.Throws<ConfigException>(() => again.Learn(2)).Message);
    }

    /// <summary>A full disk while the shard is written: one error naming the file, nothing kept, and the stage reruns fine.</summary>
    [Fact]
    public void A_full_disk_during_the_shard_write_leaves_nothing_and_the_stage_reruns()
    {
        var yaml = Setup();
        var run = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=full", "run.iterations=1"]), new StringWriter(), Toy);
        run.Export(1);
        var shards = Path.Combine(run.RunDirectory.IterationFolder(1), "shards");
        Directory.CreateDirectory(shards);
        // a 4 KiB (one page) tmpfs over the shard folder (the tests run as root, as CI does): the Parquet write runs out of space
        Mount($"-t tmpfs -o size=4k tmpfs {shards}");
        try
        {
            var e = Assert.Throws<IOException>(() => run.Rollout(1));
            Assert.Contains("part-00000.parquet: writing the rollout shard failed", e.Message);
            Assert.Empty(Directory.GetFiles(shards, "*.parquet"));
            Assert.Empty(Directory.GetFiles(shards, ".*"));
        }
        finally
        {
            Mount($"-u {shards}", umount: true);
        }
        run.Rollout(1);
        run.Learn(1);
        Assert.True(File.Exists(Path.Combine(run.RunDirectory.PolicyFolder(1), "model.safetensors")));
    }

    /// <summary>A full disk while learn writes the new policy: one error, no temporary policy folder left behind (it used to
    /// stay until the next resume), and the stage reruns fine once there is room.</summary>
    [Fact]
    public void A_full_disk_during_the_policy_write_leaves_no_temporary_folder()
    {
        var yaml = Setup();
        var run = new PipelineRun(PipelineConfig.Load(yaml, ["run.output=fullpolicy", "run.iterations=1"]), new StringWriter(), Toy);
        run.Export(1);
        run.Rollout(1);
        var iteration = run.RunDirectory.IterationFolder(1);
        var saved = Path.Combine(_dir, "saved-iteration");
        CopyFolder(iteration, saved);
        // a 1 MiB tmpfs over the iteration folder: the shards fit, the ~19 MB checkpoint does not
        Mount($"-t tmpfs -o size=1m tmpfs {iteration}");
        try
        {
            CopyFolder(Path.Combine(saved, "shards"), Path.Combine(iteration, "shards"));
            var e = Assert.ThrowsAny<IOException>(() => run.Learn(1));
            Assert.Contains("space", e.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Equal("shards", string.Join(",", Directory.GetFileSystemEntries(iteration).Select(Path.GetFileName)));
        }
        finally
        {
            Mount($"-u {iteration}", umount: true);
        }
        run.Learn(1);
        Assert.True(File.Exists(Path.Combine(run.RunDirectory.PolicyFolder(1), "model.safetensors")));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (var dir in Directory.GetDirectories(from))
            CopyFolder(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    private static void Mount(string arguments, bool umount = false)
    {
        var info = new System.Diagnostics.ProcessStartInfo(umount ? "umount" : "mount", arguments.Replace("-u ", "", StringComparison.Ordinal))
        {
            RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = System.Diagnostics.Process.Start(info)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{info.FileName} {info.Arguments}: {err}");
    }
}
