namespace Aspo.Algorithms;

/// <summary>
/// Generalized Advantage Estimation (Schulman et al. 2016) as verl's <c>compute_gae_advantage_return</c>: per response,
/// backwards over its tokens, δ_t = r_t + γ·V_{t+1} − V_t (V after the last token = 0), A_t = δ_t + γλ·A_{t+1},
/// returns R_t = A_t + V_t (the critic's target, before whitening); the advantages are then whitened over the whole
/// batch (<see cref="Whiten"/>). Layout: response tokens flat, sequence i owning [offsets[i], offsets[i+1]).
/// </summary>
public static class Gae
{
    /// <summary>algorithm.advantage's name for GAE with a learned critic.</summary>
    public const string Name = "gae";

    /// <summary>verl's masked_whiten: ε inside the square root.</summary>
    public const double WhitenEpsilon = 1e-8;

    /// <param name="rewards">r_t per token [N] (outcome RL: the score on the last token, 0 elsewhere)</param>
    /// <param name="values">V_t per token from the critic before the update [N]</param>
    /// <param name="offsets">sequence boundaries [B+1]</param>
    public static void Compute(ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<int> offsets, double gamma, double lambda,
        Span<float> advantages, Span<float> returns)
    {
        var n = rewards.Length;
        if (values.Length != n || advantages.Length != n || returns.Length != n)
            throw new ArgumentException($"rewards ({n}), values ({values.Length}), advantages ({advantages.Length}) and returns ({returns.Length}) must have one entry per token");
        if (offsets.Length < 1 || offsets[0] != 0 || offsets[^1] != n)
            throw new ArgumentException($"offsets must run from 0 to the token count {n}");
        if (gamma is < 0 or > 1 || lambda is < 0 or > 1)
            throw new ArgumentException($"GAE needs γ and λ in [0, 1], got γ = {gamma}, λ = {lambda}");
        for (var i = 0; i + 1 < offsets.Length; i++)
        {
            double next = 0, running = 0;
            for (var t = offsets[i + 1] - 1; t >= offsets[i]; t--)
            {
                var delta = rewards[t] + gamma * next - values[t];
                running = delta + gamma * lambda * running;
                advantages[t] = (float)running;
                returns[t] = (float)(running + values[t]);
                next = values[t];
            }
        }
    }

    /// <summary>(x − mean) / √(unbiased variance + 1e-8) over every entry (verl: over the batch's response mask).</summary>
    public static void Whiten(Span<float> values)
    {
        if (values.Length < 2)
            throw new ArgumentException($"whitening needs at least 2 tokens, got {values.Length}");
        double sum = 0;
        foreach (var v in values)
            sum += v;
        var mean = sum / values.Length;
        double squares = 0;
        foreach (var v in values)
            squares += (v - mean) * (v - mean);
        var variance = squares / (values.Length - 1);
        var inverse = 1 / Math.Sqrt(variance + WhitenEpsilon);
        for (var t = 0; t < values.Length; t++)
            values[t] = (float)((values[t] - mean) * inverse);
    }
}
