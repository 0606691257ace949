using Aspo.Data;
using Aspo.Data.Tokenization;
using Aspo.Onnx;

namespace Aspo.Rewards;

/// <summary>
/// The model-based soft reward of multi-subject RLVR (Su et al. 2025, "Crossing the Reward Bridge"): a verifier model
/// exported to ONNX is shown (question, reference answer, response) and the reward is its probability of the "yes"
/// judgment as the next token, in [0, 1]. The reasoning before "&lt;/think&gt;" is dropped when present. It runs through
/// the rollout generator's prefill path (one prefill per distinct prompt), a batch at a time.
/// </summary>
public sealed class SoftVerifierReward
{
    private readonly Generator _generator;
    private readonly BpeTokenizer _tokenizer;
    private readonly ChatTemplate _template;
    private readonly SoftVerifierSettings _settings;
    private readonly int[] _candidates;

    public SoftVerifierReward(OnnxDecoder verifier, BpeTokenizer tokenizer, ChatTemplate template, SoftVerifierSettings settings)
    {
        if (settings.Normalize && settings.NoToken is null)
            throw new ArgumentException("the soft verifier's normalize option needs a no token");
        if (settings.MaxResponseChars < 0)
            throw new ArgumentException($"the soft verifier's max response characters must be ≥ 0, got {settings.MaxResponseChars}");
        foreach (var field in new[] { "{question}", "{reference}", "{response}" })
        {
            if (!settings.PromptTemplate.Contains(field, StringComparison.Ordinal))
                throw new ArgumentException($"the soft verifier's prompt template lacks {field}");
        }
        _generator = new Generator(verifier, tokenizer);
        _tokenizer = tokenizer;
        _template = template;
        _settings = settings;
        _candidates = settings.NoToken is null ? [SingleToken(settings.YesToken, "yes")] : [SingleToken(settings.YesToken, "yes"), SingleToken(settings.NoToken, "no")];
        if (_candidates.Any(c => c >= verifier.VocabSize))
            throw new ArgumentException($"the soft verifier's judgment tokens {string.Join(", ", _candidates)} are outside the model's vocabulary of {verifier.VocabSize}");
    }

    private int SingleToken(string text, string which)
    {
        var ids = _tokenizer.Encode(text);
        return ids.Length == 1 ? ids[0]
            : throw new ArgumentException($"the soft verifier's {which} token \"{text}\" encodes to {ids.Length} tokens [{string.Join(", ", ids)}]; choose a string that is one token of the verifier's vocabulary");
    }

    /// <summary>The token ids of the verifier prompt for one response.</summary>
    public int[] PromptIds(RewardRequest r)
    {
        var response = r.Response;
        var close = response.LastIndexOf("</think>", StringComparison.Ordinal);
        if (close >= 0)
            response = response[(close + "</think>".Length)..];
        if (_settings.MaxResponseChars > 0 && response.Length > _settings.MaxResponseChars)
            response = response[^_settings.MaxResponseChars..];
        var message = _settings.PromptTemplate.Replace("{question}", r.Question, StringComparison.Ordinal)
            .Replace("{reference}", r.GroundTruth, StringComparison.Ordinal).Replace("{response}", response.Trim(), StringComparison.Ordinal);
        return _tokenizer.Encode(_template.Render([new ChatMessage("user", message)], addGenerationPrompt: true));
    }

    public IReadOnlyList<RewardResult> ScoreBatch(IReadOnlyList<RewardRequest> batch)
    {
        if (batch.Count == 0)
            return [];
        var logProbs = _generator.NextTokenLogProbs([.. batch.Select(PromptIds)], _candidates);
        return [.. logProbs.Select(lp =>
        {
            var yes = Math.Exp(lp[0]);
            var components = new Dictionary<string, double> { ["p_yes"] = yes };
            var score = yes;
            if (lp.Length > 1)
            {
                var no = Math.Exp(lp[1]);
                components["p_no"] = no;
                if (_settings.Normalize)
                    score = 1 / (1 + Math.Exp(lp[1] - lp[0])); // P(yes) / (P(yes) + P(no)) in log space: no underflow
            }
            return new RewardResult(score, components);
        })];
    }
}
