using Aspo.Data;

namespace Aspo.Onnx;

/// <summary>Per-sample seeds from (master seed, iteration, prompt uid, sample index): never from batch position or thread.</summary>
public static class SampleSeeds
{
    public static ulong Derive(ulong masterSeed, int iteration, string promptUid, int sampleIndex)
    {
        var h = 14695981039346656037UL; // FNV-1a over the uid's UTF-16 code units
        foreach (var ch in promptUid)
            h = (h ^ ch) * 1099511628211UL;
        var state = masterSeed ^ SplitMix64.Mix(h) ^ SplitMix64.Mix((ulong)iteration * 0x9E3779B97F4A7C15UL + 1) ^ SplitMix64.Mix((ulong)sampleIndex + 0xD1B54A32D192ED03UL);
        return SplitMix64.Mix(state);
    }
}
