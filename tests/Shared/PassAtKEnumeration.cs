namespace Aspo.Tests.Shared;

/// <summary>The independent reference for pass@k: exact enumeration of the k-subsets of n samples.</summary>
public static class PassAtKEnumeration
{
    /// <summary>The fraction of k-subsets of n samples (the first c correct) that hold a correct one; n ≤ 30.</summary>
    public static double Exact(int n, int c, int k)
    {
        long subsets = 0, hits = 0;
        for (var mask = 0; mask < 1 << n; mask++)
        {
            if (System.Numerics.BitOperations.PopCount((uint)mask) != k)
                continue;
            subsets++;
            if ((mask & ((1 << c) - 1)) != 0)
                hits++;
        }
        return (double)hits / subsets;
    }
}
