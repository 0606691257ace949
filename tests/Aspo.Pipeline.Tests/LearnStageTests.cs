using Aspo.Algorithms;
using Aspo.Data.Shards;
using Aspo.Model;
using Aspo.Pipeline.Config;
using Aspo.Tests.Shared;

namespace Aspo.Pipeline.Tests;

public sealed class LearnStageTests
{
    /// <summary>
    /// The direction of learning: of two responses to one prompt, the rewarded one gains log-probability and the other
    /// loses it, for every loss — a sign error anywhere between rewards, advantages, the loss and the backward fails here.
    /// </summary>
    [Theory]
    [InlineData("aspo", "native")]
    [InlineData("grpo", "native")]
    [InlineData("no_is", "native")]
    [InlineData("dapo", "native")]
    [InlineData("aspo", "torch")]
    [InlineData("grpo", "torch")]
    public void The_rewarded_response_gains_probability_and_the_other_loses_it(string loss, string backend)
    {
        var config = TinyQwen.Config();
        using var learner = Learners.Create(config, TinyQwen.Parameters(config, seed: 9),
            new LearnerOptions { Backend = LearnerOptions.ParseBackend(backend), Optimizer = new AdamWOptions { WeightDecay = 0 } });
        int[] prompt = [151644, 872, 198, 17, 10, 17, 151645, 198, 151644, 77091, 198];
        int[] good = [19, 151645];
        int[] bad = [20, 21, 151645];
        RolloutRow Row(int[] response, double reward, int sample)
        {
            var old = new float[response.Length];
            learner.Score(PackedSequences.Pack([(prompt, response)]), 1f, old, [], forTraining: false);
            return new RolloutRow
            {
                RunId = "t", Iteration = 1, PolicyVersion = 0, PromptUid = "p#0", SampleIndex = sample, DataSource = "toy", PromptTokenIds = prompt,
                ResponseTokenIds = response, OldLogprobs = old, ResponseText = "", GroundTruth = "", Reward = reward,
                RewardComponents = new Dictionary<string, double>(), FinishReason = "stop", Temperature = 1f, TopP = 1f, TopK = 0, Seed = (ulong)sample,
            };
        }
        RolloutRow[] rows = [Row(good, 1, 0), Row(bad, 0, 1), Row(good, 1, 2), Row(bad, 0, 3)];
        double LogProb(int[] response)
        {
            var lp = new float[response.Length];
            learner.Score(PackedSequences.Pack([(prompt, response)]), 1f, lp, [], forTraining: false);
            return lp.Sum();
        }
        var (goodBefore, badBefore) = (LogProb(good), LogProb(bad));
        var steps = LearnStage.Run(learner, rows, new LearnSettings
        {
            Algorithm = new AlgorithmSection { Loss = loss, LossOptions = PolicyLosses.DefaultOptions(loss), MiniBatch = 4, MicroBatch = 2 },
            Optimizer = new OptimizerSection { LearningRate = 1e-3, WeightDecay = 0 }, Seed = 1, Iteration = 1,
        });
        Assert.Single(steps);
        Assert.True(LogProb(good) > goodBefore, $"{loss}: log π(rewarded) went {goodBefore:F4} → {LogProb(good):F4}");
        Assert.True(LogProb(bad) < badBefore, $"{loss}: log π(unrewarded) went {badBefore:F4} → {LogProb(bad):F4}");
    }
}
