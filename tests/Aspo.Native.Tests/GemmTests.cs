using Aspo.Native.Blas;

namespace Aspo.Native.Tests;

public sealed class GemmTests
{
    private static readonly ReferenceGemm Reference = new();

    // odd and even sizes, vectors, and a few that cross the native kernels' blocking boundaries
    public static TheoryData<int, int, int, bool, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, bool, bool>();
        int[][] sizes = [[1, 1, 1], [3, 5, 7], [17, 13, 31], [64, 64, 64], [127, 33, 65], [1, 257, 19], [200, 1, 300], [96, 130, 257]];
        foreach (var s in sizes)
            foreach (var ta in new[] { false, true })
                foreach (var tb in new[] { false, true })
                    data.Add(s[0], s[1], s[2], ta, tb);
        return data;
    }

    private sealed record Problem(int M, int N, int K, bool TransA, bool TransB, float[] A, int Lda, float[] B, int Ldb, float[] C, int Ldc);

    /// <summary>Random matrices, each stored with 3 columns of padding so leading dimensions are exercised.</summary>
    private static Problem MakeProblem(int m, int n, int k, bool ta, bool tb, int seed)
    {
        var rng = new Random(seed);
        float[] Fill(int rows, int ld) => Enumerable.Range(0, rows * ld).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var (aRows, aCols) = ta ? (k, m) : (m, k);
        var (bRows, bCols) = tb ? (n, k) : (k, n);
        int lda = aCols + 3, ldb = bCols + 3, ldc = n + 3;
        return new Problem(m, n, k, ta, tb, Fill(aRows, lda), lda, Fill(bRows, ldb), ldb, Fill(m, ldc), ldc);
    }

    /// <summary>Per-element error bound scale: |alpha|·(|op(A)|·|op(B)|) + |beta·C| — the magnitude the rounding error is relative to.</summary>
    private static float[] Magnitude(Problem p, float alpha, float beta)
    {
        var absA = p.A.Select(Math.Abs).ToArray();
        var absB = p.B.Select(Math.Abs).ToArray();
        var absC = p.C.Select(Math.Abs).ToArray();
        Reference.Sgemm(p.TransA, p.TransB, p.M, p.N, p.K, Math.Abs(alpha), absA, p.Lda, absB, p.Ldb, Math.Abs(beta), absC, p.Ldc);
        return absC;
    }

    private static void AssertWithin(Problem p, float[] expected, float[] actual, float[] magnitude, double relative, string what)
    {
        for (var i = 0; i < p.M; i++)
            for (var j = 0; j < p.N; j++)
            {
                var at = i * p.Ldc + j;
                var tolerance = relative * magnitude[at] + 1e-30;
                Assert.True(Math.Abs(expected[at] - actual[at]) <= tolerance,
                    $"{what} C[{i},{j}]: {actual[at]} vs reference {expected[at]} (|Δ|={Math.Abs(expected[at] - actual[at]):G3}, bound {tolerance:G3})");
            }
        // padding columns of C are never written
        for (var i = 0; i < p.M; i++)
            for (var j = p.N; j < p.Ldc; j++)
                Assert.Equal(p.C[i * p.Ldc + j], actual[i * p.Ldc + j]);
    }

    private static void CheckFp32(IGemm gemm, int m, int n, int k, bool ta, bool tb)
    {
        const float alpha = 0.75f, beta = -0.5f;
        var p = MakeProblem(m, n, k, ta, tb, seed: m * 7919 + n * 31 + k + (ta ? 1 : 0) + (tb ? 2 : 0));
        var expected = (float[])p.C.Clone();
        Reference.Sgemm(ta, tb, m, n, k, alpha, p.A, p.Lda, p.B, p.Ldb, beta, expected, p.Ldc);
        var actual = (float[])p.C.Clone();
        gemm.Sgemm(ta, tb, m, n, k, alpha, p.A, p.Lda, p.B, p.Ldb, beta, actual, p.Ldc);
        AssertWithin(p, expected, actual, Magnitude(p, alpha, beta), 1e-4, gemm.Name);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OpenBlas_sgemm_matches_reference(int m, int n, int k, bool transA, bool transB) =>
        CheckFp32(new OpenBlasGemm(), m, n, k, transA, transB);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OneDnn_sgemm_matches_reference(int m, int n, int k, bool transA, bool transB) =>
        CheckFp32(new OneDnnGemm(), m, n, k, transA, transB);

    /// <summary>With a thread count (the pipeline's run.threads), each call first sets the calling thread's OpenMP team
    /// size through libgomp; the results stay those of the reference.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void OneDnn_sgemm_on_one_thread_matches_reference(int m, int n, int k, bool transA, bool transB)
    {
        var gemm = GemmBackends.Create("onednn", threads: 1);
        Assert.Equal(1, ((OneDnnGemm)gemm).Threads);
        CheckFp32(gemm, m, n, k, transA, transB);
    }

    [Fact]
    public void A_negative_thread_count_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneDnnGemm(threads: -1));

    [Theory]
    [MemberData(nameof(Shapes))]
    public void OneDnn_bf16_gemm_matches_reference_within_bf16_rounding(int m, int n, int k, bool ta, bool tb)
    {
        const float alpha = 1.25f, beta = 0.5f;
        var p = MakeProblem(m, n, k, ta, tb, seed: 17 + m + n * 3 + k * 5 + (ta ? 100 : 0) + (tb ? 200 : 0));
        var a16 = p.A.Select(x => (BFloat16)x).ToArray();
        var b16 = p.B.Select(x => (BFloat16)x).ToArray();
        var actual = (float[])p.C.Clone();
        new OneDnnGemm().GemmBf16(ta, tb, m, n, k, alpha, a16, p.Lda, b16, p.Ldb, beta, actual, p.Ldc);
        var magnitude = Magnitude(p, alpha, beta);

        // 1) same bf16 inputs, exact (double) products: only fp32 accumulation error remains
        var exactOnBf16 = (float[])p.C.Clone();
        Reference.GemmBf16(ta, tb, m, n, k, alpha, a16, p.Lda, b16, p.Ldb, beta, exactOnBf16, p.Ldc);
        AssertWithin(p, exactOnBf16, actual, magnitude, 1e-4, "onednn bf16 vs reference on bf16 inputs");

        // 2) against the fp32 problem: each input rounded to bf16 (relative error ≤ 2⁻⁹), so products within ~2⁻⁸
        var fp32 = (float[])p.C.Clone();
        Reference.Sgemm(ta, tb, m, n, k, alpha, p.A, p.Lda, p.B, p.Ldb, beta, fp32, p.Ldc);
        AssertWithin(p, fp32, actual, magnitude, Math.Pow(2, -8) + 1e-4, "onednn bf16 vs fp32 reference");
    }

    /// <summary>The benchmark shapes, checked on 300 sampled entries against double-precision dot products
    /// (the full reference takes seconds at this size).</summary>
    [Theory]
    [InlineData("openblas", 1024, 1024, 1024)]
    [InlineData("onednn", 1024, 1024, 1024)]
    [InlineData("openblas", 4096, 1024, 256)]
    [InlineData("onednn", 4096, 1024, 256)]
    public void Benchmark_shapes_match_sampled_dot_products(string backend, int m, int n, int k)
    {
        var rng = new Random(m + n + k);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var gemm = GemmBackends.Create(backend);
        var c = new float[m * n];
        gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
        float[]? c16 = null;
        if (gemm is IBf16Gemm bf16)
        {
            c16 = new float[m * n];
            bf16.GemmBf16(false, false, m, n, k, 1f, a.Select(x => (BFloat16)x).ToArray(), k, b.Select(x => (BFloat16)x).ToArray(), n, 0f, c16, n);
        }
        for (var t = 0; t < 300; t++)
        {
            int i = rng.Next(m), j = rng.Next(n);
            double dot = 0, magnitude = 0;
            for (var p = 0; p < k; p++)
            {
                dot += (double)a[i * k + p] * b[p * n + j];
                magnitude += Math.Abs((double)a[i * k + p] * b[p * n + j]);
            }
            Assert.True(Math.Abs(c[i * n + j] - dot) <= 1e-4 * magnitude, $"{backend} C[{i},{j}] = {c[i * n + j]}, expected {dot}");
            if (c16 is not null)
                Assert.True(Math.Abs(c16[i * n + j] - dot) <= (Math.Pow(2, -8) + 1e-4) * magnitude, $"{backend} bf16 C[{i},{j}] = {c16[i * n + j]}, expected {dot}");
        }
    }

    [Theory]
    [InlineData("openblas")]
    [InlineData("onednn")]
    [InlineData("reference")]
    public void Beta_zero_ignores_nan_in_c_and_k_zero_scales_c(string backend)
    {
        var gemm = GemmBackends.Create(backend);
        float[] a = [1, 2, 3, 4], b = [5, 6, 7, 8];
        var c = new[] { float.NaN, float.NaN, float.NaN, float.NaN };
        gemm.Sgemm(false, false, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        Assert.Equal([19f, 22f, 43f, 50f], c); // [[1,2],[3,4]]·[[5,6],[7,8]]

        float[] c2 = [1, 2, 3, 4];
        gemm.Sgemm(false, false, 2, 2, 0, 1f, [], 1, [], 2, 2f, c2, 2);
        Assert.Equal([2f, 4f, 6f, 8f], c2);
    }

    [Theory]
    [InlineData("openblas")]
    [InlineData("onednn")]
    [InlineData("reference")]
    public void Short_buffers_and_small_leading_dimensions_are_argument_errors(string backend)
    {
        var gemm = GemmBackends.Create(backend);
        var e = Assert.Throws<ArgumentException>(() => gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[15], 4, new float[16], 4, 0f, new float[16], 4));
        Assert.Equal("A", e.ParamName);
        Assert.Contains("needs 16 elements", e.Message);
        e = Assert.Throws<ArgumentException>(() => gemm.Sgemm(false, true, 4, 4, 4, 1f, new float[16], 4, new float[16], 3, 0f, new float[16], 4));
        Assert.Equal("ldb", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => gemm.Sgemm(false, false, 4, 4, 4, 1f, new float[16], 4, new float[16], 4, 0f, new float[15], 4));
        Assert.Equal("C", e.ParamName);
    }

    [Fact]
    public void Unknown_backend_lists_the_valid_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => GemmBackends.Create("cublas"));
        Assert.Contains("openblas, onednn, reference", e.Message);
    }

    [Fact]
    public void Backends_describe_their_libraries()
    {
        Assert.StartsWith("OpenBLAS 0.3", new OpenBlasGemm().Description);
        Assert.StartsWith("oneDNN 2.", new OneDnnGemm().Description);
    }

    /// <summary>Oracle: the two bf16 neighbours of x (truncation and the next one up), picked by distance, ties to even.</summary>
    private static ushort NearestBf16(float x)
    {
        var bits = BitConverter.SingleToUInt32Bits(x);
        var down = (ushort)(bits >> 16);
        var up = (ushort)(down + 1);
        double dDown = Math.Abs((double)x - (float)new BFloat16(down));
        double dUp = Math.Abs((double)x - (float)new BFloat16(up));
        return dDown < dUp ? down : dUp < dDown ? up : (down & 1) == 0 ? down : up;
    }

    [Fact]
    public void BFloat16_rounds_to_the_nearest_value_ties_to_even()
    {
        var rng = new Random(5);
        for (var t = 0; t < 200_000; t++)
        {
            var x = BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32));
            if (!float.IsFinite(x) || Math.Abs(x) > 3.3e38f)
                continue;
            Assert.Equal(NearestBf16(x), ((BFloat16)x).Bits);
        }
        Assert.True(float.IsNaN((float)(BFloat16)float.NaN));
        Assert.Equal(0x3F80, ((BFloat16)1f).Bits);
        Assert.Equal(0x3F80, ((BFloat16)1.00390625f).Bits); // exactly halfway between 1 and 1+2⁻⁷: ties to even
        Assert.Equal(0x3F82, ((BFloat16)1.01171875f).Bits); // halfway between 0x3F81 and 0x3F82: to even
    }

    /// <summary>The vectorised span conversion (32 values per step, then a scalar tail): every finite value as the
    /// oracle rounds it, ±∞ kept, NaN still NaN — at every length around the vector width.</summary>
    [Fact]
    public void BFloat16_span_conversion_rounds_every_value_like_the_oracle()
    {
        var rng = new Random(9);
        var values = Enumerable.Range(0, 100_003).Select(_ => BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32))).ToArray();
        values[7] = float.NaN;
        values[40] = float.PositiveInfinity;
        values[41] = float.NegativeInfinity;
        values[42] = 1.00390625f; // a tie
        values[43] = -0f;
        var converted = new BFloat16[values.Length];
        BFloat16.Convert(values, converted);
        for (var i = 0; i < values.Length; i++)
        {
            var x = values[i];
            if (float.IsNaN(x))
                Assert.True(float.IsNaN((float)converted[i]), $"value {i}: NaN became {(float)converted[i]}");
            else if (float.IsInfinity(x) || Math.Abs(x) > 3.3e38f)
                Assert.Equal(((BFloat16)x).Bits, converted[i].Bits);
            else
                Assert.True(NearestBf16(x) == converted[i].Bits, $"value {i} ({x:R}): {converted[i].Bits:X4}, expected {NearestBf16(x):X4}");
        }
        foreach (var length in new[] { 0, 1, 31, 32, 33, 63, 64, 65 })
        {
            var part = new BFloat16[length];
            BFloat16.Convert(values.AsSpan(100, length), part);
            Assert.Equal(converted.AsSpan(100, length).ToArray(), part);
        }
    }

    /// <summary>
    /// The bf16 adapter: operands inside the registered slab come from its rounded copy, others are rounded per call;
    /// both give the reference product of the rounded operands; after the slab changes, <c>WeightsChanged</c> makes the
    /// next product use the new weights (and without it the copy is deliberately stale).
    /// </summary>
    [Fact]
    public void Bf16_adapter_multiplies_rounded_operands_and_follows_weight_changes()
    {
        const int m = 5, n = 7, k = 33;
        var rng = new Random(21);
        var slab = Enumerable.Range(0, 50 + n * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var x = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        float[] Expected(float[] weights)
        {
            var c = new float[m * n];
            Reference.GemmBf16(false, true, m, n, k, 1f, x.Select(v => (BFloat16)v).ToArray(), k,
                weights.AsSpan(50, n * k).ToArray().Select(v => (BFloat16)v).ToArray(), k, 0f, c, n);
            return c;
        }
        using var adapter = new Bf16Gemm(new OneDnnGemm(), slab);
        var actual = new float[m * n];
        adapter.Sgemm(false, true, m, n, k, 1f, x, k, slab.AsSpan(50, n * k), k, 0f, actual, n);
        var before = Expected(slab);
        Assert.True(before.Zip(actual, (e, a) => Math.Abs(e - a)).Max() <= 1e-5, "slab operand");
        // the activation in the slab's place, the weight as a copy outside it: same product
        var outside = slab.AsSpan(50, n * k).ToArray();
        var swapped = new float[m * n];
        adapter.Sgemm(false, true, m, n, k, 1f, x, k, outside, k, 0f, swapped, n);
        Assert.True(before.Zip(swapped, (e, a) => Math.Abs(e - a)).Max() <= 1e-5, "operand outside the slab");

        for (var i = 50; i < slab.Length; i++)
            slab[i] *= -2f;
        adapter.Sgemm(false, true, m, n, k, 1f, x, k, slab.AsSpan(50, n * k), k, 0f, actual, n);
        Assert.True(before.Zip(actual, (e, a) => Math.Abs(e - a)).Max() <= 1e-5, "the copy is only refreshed when told");
        adapter.WeightsChanged();
        adapter.Sgemm(false, true, m, n, k, 1f, x, k, slab.AsSpan(50, n * k), k, 0f, actual, n);
        var after = Expected(slab);
        Assert.True(after.Zip(actual, (e, a) => Math.Abs(e - a)).Max() <= 1e-5, "after WeightsChanged");
        Assert.Equal("onednn-bf16", adapter.Name);
    }
}
