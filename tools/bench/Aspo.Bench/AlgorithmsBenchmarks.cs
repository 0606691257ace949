using Aspo.Algorithms;
using BenchmarkDotNet.Attributes;

namespace Aspo.Bench;

/// <summary>
/// The algorithm core on one million response tokens: 2,048 responses × 512 tokens in groups of 16 (128 prompts),
/// ratios spread over every clip region. "aspo objective" is the full actor objective as the default run uses it
/// (ASPO with the per-sequence entropy split, token-mean, k3 KL at 0.001); "grpo advantages" scores → advantages
/// → per-token broadcast.
/// </summary>
[Config(typeof(BenchConfig))]
public class AlgorithmsBenchmarks
{
    public const int Sequences = 2048, Width = 512, GroupSize = 16, Tokens = Sequences * Width;

    private float[] _lp = [], _old = [], _ref = [], _adv = [], _mask = [], _entropy = [], _grad = [];
    private float[] _scores = [], _sequenceAdvantages = [];
    private long[] _groups = [];
    private int[] _offsets = [];
    private PolicyObjective _objective = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _lp = new float[Tokens]; _old = new float[Tokens]; _ref = new float[Tokens]; _adv = new float[Tokens];
        _mask = new float[Tokens]; _entropy = new float[Tokens]; _grad = new float[Tokens];
        _scores = new float[Sequences]; _sequenceAdvantages = new float[Sequences]; _groups = new long[Sequences];
        _offsets = new int[Sequences + 1];
        for (var i = 0; i < Sequences; i++)
        {
            _offsets[i + 1] = (i + 1) * Width;
            _groups[i] = i / GroupSize;
            _scores[i] = rng.Next(2);
            var length = rng.Next(Width / 4, Width + 1);
            for (var t = 0; t < Width; t++)
            {
                var k = i * Width + t;
                _old[k] = (float)(-rng.NextDouble() * 4);
                _lp[k] = _old[k] + (float)(rng.NextDouble() * 3 - 1.5);
                _ref[k] = _lp[k] + (float)(rng.NextDouble() - 0.5);
                _mask[k] = t < length ? 1 : 0;
                _entropy[k] = (float)(rng.NextDouble() * 3);
            }
        }
        _objective = new PolicyObjective(PolicyLosses.Create("aspo"), new ObjectiveOptions { KlEstimator = "k3", KlCoefficient = 0.001 });
        GrpoAdvantages();
    }

    [Benchmark(Description = "grpo advantages")]
    public void GrpoAdvantages()
    {
        AdvantageEstimators.Compute("grpo", _scores, _groups, _sequenceAdvantages);
        AdvantageEstimators.BroadcastToTokens(_sequenceAdvantages, _offsets, _mask, _adv);
    }

    [Benchmark(Description = "aspo objective")]
    public double AspoObjective() => _objective.Compute(new TokenBatch
    {
        LogProbs = _lp, OldLogProbs = _old, Advantages = _adv, Mask = _mask, Entropies = _entropy, RefLogProbs = _ref, SequenceOffsets = _offsets,
    }, _grad).Loss;
}
