namespace Aspo.Data;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): the project's one seeded random stream. Its output for a seed is fixed by
/// these few lines, not by a .NET version, so prompt order, generated datasets and sampled tokens stay reproducible.
/// </summary>
public static class SplitMix64
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;

    public static ulong Next(ref ulong state) => Finalize(state += Gamma);

    /// <summary>The output for state <paramref name="z"/> without advancing a stream: a 64-bit hash (mixes seeds).</summary>
    public static ulong Mix(ulong z) => Finalize(z + Gamma);

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform [0, 1) from the top 53 bits.</summary>
    public static double NextDouble(ref ulong state) => (Next(ref state) >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [min, max] (inclusive); the modulo bias is below 2^-40 for the ranges used here.</summary>
    public static long NextInRange(ref ulong state, long min, long max) => min + (long)(Next(ref state) % (ulong)(max - min + 1));

    /// <summary>Fisher–Yates in place, drawing from <paramref name="state"/> (the project's one shuffle, so every
    /// seeded order — prompts, mini-batches, SFT epochs — is the same algorithm).</summary>
    public static void Shuffle(Span<int> items, ref ulong state)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = (int)(Next(ref state) % (ulong)(i + 1));
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
