using System;
using System.Collections.Generic;
using System.Linq;
using EffNet.Kernels;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>The int8 1x1 conv, every path this machine has, against exact integer sums and a double-precision epilogue.</summary>
    public sealed class PointwiseConvolutionInt8Tests
    {
        public static IEnumerable<object[]> Paths()
        {
            yield return new object[] { nameof(PointwiseConvolutionInt8.Path.Scalar) };
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
                yield return new object[] { nameof(PointwiseConvolutionInt8.Path.Avx2) };
            if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
                yield return new object[] { nameof(PointwiseConvolutionInt8.Path.Avx512BW) };
            if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
                yield return new object[] { nameof(PointwiseConvolutionInt8.Path.AvxVnni) };
        }

        static (byte[] X, sbyte[] W) Data(int pixels, int k, int n, int seed)
        {
            var random = new Random(seed);
            byte[] x = Enumerable.Range(0, pixels * k).Select(_ => (byte)random.Next(256)).ToArray();
            sbyte[] w = Enumerable.Range(0, k * n).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
            return (x, w);
        }

        static long Dot(byte[] x, sbyte[] w, int p, int j, int k, int n, int zeroPoint)
        {
            long sum = 0;
            for (int i = 0; i < k; i++)
                sum += (long)(x[p * k + i] - zeroPoint) * w[i * n + j];
            return sum;
        }

        [Theory]
        [MemberData(nameof(Paths))]
        public void Sums_are_exact_with_the_zero_point_taken_out_on_every_shape(string pathName)
        {
            var path = Enum.Parse<PointwiseConvolutionInt8.Path>(pathName);
            // 16-channel tiles, an 8-channel tile, a scalar rest; 6- and 8-pixel tiles, short ones and single pixels; K from 4
            // to 2304 (where AVX-512's widened tile keeps its 16-bit inputs in a rented array rather than on the stack).
            foreach ((int pixels, int k, int n) in new[] { (37, 16, 24), (13, 1152, 192), (6, 4, 3), (50, 96, 40), (7, 232, 29), (9, 2304, 16) })
            {
                (byte[] x, sbyte[] w) = Data(pixels, k, n, pixels * 1000 + k);
                var packed = new sbyte[PointwiseConvolutionInt8.PackedLength(k, n)];
                PointwiseConvolutionInt8.PackWeights(w, k, n, packed);
                float[] ones = Enumerable.Repeat(1f, n).ToArray(), bias = new float[n];
                PointwiseConvolutionInt8.FoldInputZeroPoint(packed, k, n, 1f, 128, ones, bias);
                var y = new float[pixels * n];
                PointwiseConvolutionInt8.Run(path, x, pixels, k, 1f, packed, ones, bias, n,
                                             Activation.None, y, default, default, 1f, 0);
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < n; j++)
                        Assert.True(y[p * n + j] == Dot(x, w, p, j, k, n, 128), $"{pixels}x{k}x{n}, pixel {p}, channel {j}: {y[p * n + j]} vs {Dot(x, w, p, j, k, n, 128)}");
            }
        }

        [Theory]
        [MemberData(nameof(Paths))]
        public void The_epilogue_scales_adds_bias_activates_adds_the_residual_and_requantizes(string pathName)
        {
            var path = Enum.Parse<PointwiseConvolutionInt8.Path>(pathName);
            const int pixels = 25, k = 64, n = 40, zeroPoint = 17;
            (byte[] x, sbyte[] w) = Data(pixels, k, n, 7);
            var packed = new sbyte[PointwiseConvolutionInt8.PackedLength(k, n)];
            PointwiseConvolutionInt8.PackWeights(w, k, n, packed);
            float[] weightScales = Enumerable.Range(0, n).Select(j => 0.0005f + j * 0.00001f).ToArray();
            float[] bias = KernelTestData.Random(n, 8), residual = KernelTestData.Random(pixels * n, 9);
            const float inputScale = 0.02f, outputScale = 0.05f;
            float[] folded = (float[])bias.Clone();
            PointwiseConvolutionInt8.FoldInputZeroPoint(packed, k, n, inputScale, zeroPoint, weightScales, folded);
            const byte outputZeroPoint = 60;
            foreach (Activation activation in new[] { Activation.SiLU, Activation.ReLU6, Activation.None })
            {
                var y = new float[pixels * n];
                var q = new byte[pixels * n];
                PointwiseConvolutionInt8.Run(path, x, pixels, k, inputScale, packed, weightScales, folded, n,
                                             activation, y, residual, q, outputScale, outputZeroPoint);
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < n; j++)
                    {
                        double v = (double)inputScale * weightScales[j] * Dot(x, w, p, j, k, n, zeroPoint) + bias[j];
                        v = activation switch { Activation.SiLU => v / (1 + Math.Exp(-v)), Activation.ReLU6 => Math.Clamp(v, 0, 6), _ => v };
                        v += residual[p * n + j];
                        int at = p * n + j;
                        Assert.True(Math.Abs(y[at] - v) <= 1e-5 * (1 + Math.Abs(v)), $"{activation}, pixel {p}, channel {j}: {y[at]} vs {v}");
                        double expected = Math.Clamp(Math.Round(v / outputScale) + outputZeroPoint, 0, 255);
                        Assert.True(Math.Abs(q[at] - expected) <= 1, $"{activation}, pixel {p}, channel {j}: quantized {q[at]} vs {expected}");
                    }
            }
        }

        [Theory]
        [MemberData(nameof(Paths))]
        public void A_linear_or_ReLU6_layer_with_only_a_u8_output_quantizes_straight_from_the_sums(string pathName)
        {
            var path = Enum.Parse<PointwiseConvolutionInt8.Path>(pathName);
            const int pixels = 19, k = 40, n = 24, zeroPoint = 9;
            (byte[] x, sbyte[] w) = Data(pixels, k, n, 11);
            var packed = new sbyte[PointwiseConvolutionInt8.PackedLength(k, n)];
            PointwiseConvolutionInt8.PackWeights(w, k, n, packed);
            float[] weightScales = Enumerable.Range(0, n).Select(j => 0.0004f + j * 0.00002f).ToArray();
            float[] bias = KernelTestData.Random(n, 12), folded = (float[])bias.Clone();
            PointwiseConvolutionInt8.FoldInputZeroPoint(packed, k, n, 0.03f, zeroPoint, weightScales, folded);
            foreach ((Activation activation, float outputScale, byte outputZeroPoint) in new[] { (Activation.ReLU6, 6f / 255, (byte)0), (Activation.ReLU6, 0.02f, (byte)30), (Activation.None, 0.03f, (byte)128) })
            {
                var q = new byte[pixels * n];
                PointwiseConvolutionInt8.Run(path, x, pixels, k, 0.03f, packed, weightScales, folded, n,
                                             activation, Span<float>.Empty, default, q, outputScale, outputZeroPoint);
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < n; j++)
                    {
                        double v = 0.03 * weightScales[j] * Dot(x, w, p, j, k, n, zeroPoint) + bias[j];
                        if (activation == Activation.ReLU6) v = Math.Clamp(v, 0, 6);
                        double expected = Math.Clamp(Math.Round(v / outputScale) + outputZeroPoint, 0, 255);
                        Assert.True(Math.Abs(q[p * n + j] - expected) <= 1, $"{activation} at {outputScale}, pixel {p}, channel {j}: {q[p * n + j]} vs {expected}");
                    }
            }
        }

        [Theory]
        [MemberData(nameof(Paths))]
        public void Levels_far_past_the_output_range_clamp_to_its_ends(string pathName)
        {
            // An output scale of 1e-12 puts every level past int's range: positive values must come out as 255, negative
            // ones as 0 (or the zero point, after a ReLU6), on the direct path (None, ReLU6) and after the epilogue (SiLU).
            var path = Enum.Parse<PointwiseConvolutionInt8.Path>(pathName);
            const int pixels = 13, k = 32, n = 24, zeroPoint = 5;
            const byte outputZeroPoint = 20;
            (byte[] x, sbyte[] w) = Data(pixels, k, n, 31);
            var packed = new sbyte[PointwiseConvolutionInt8.PackedLength(k, n)];
            PointwiseConvolutionInt8.PackWeights(w, k, n, packed);
            float[] weightScales = Enumerable.Repeat(0.001f, n).ToArray();
            float[] bias = KernelTestData.Random(n, 32), folded = (float[])bias.Clone();
            PointwiseConvolutionInt8.FoldInputZeroPoint(packed, k, n, 0.02f, zeroPoint, weightScales, folded);
            foreach (Activation activation in new[] { Activation.None, Activation.ReLU6, Activation.SiLU })
            {
                var q = new byte[pixels * n];
                PointwiseConvolutionInt8.Run(path, x, pixels, k, 0.02f, packed, weightScales, folded, n,
                                             activation, Span<float>.Empty, default, q, 1e-12f, outputZeroPoint);
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < n; j++)
                    {
                        double v = 0.02 * weightScales[j] * Dot(x, w, p, j, k, n, zeroPoint) + bias[j];
                        if (Math.Abs(v) < 1e-4) continue; // the sign of a value this close to 0 may differ in float
                        int expected = v > 0 ? 255 : activation == Activation.ReLU6 ? outputZeroPoint : 0;
                        Assert.True(q[p * n + j] == expected, $"{activation}, pixel {p}, channel {j} ({v}): {q[p * n + j]} vs {expected}");
                    }
            }
        }

        [Theory]
        [MemberData(nameof(Paths))]
        public void Split_over_threads_the_output_is_the_same_bits(string pathName)
        {
            var path = Enum.Parse<PointwiseConvolutionInt8.Path>(pathName);
            const int pixels = 197, k = 96, n = 40;
            (byte[] x, sbyte[] w) = Data(pixels, k, n, 21);
            var packed = new sbyte[PointwiseConvolutionInt8.PackedLength(k, n)];
            PointwiseConvolutionInt8.PackWeights(w, k, n, packed);
            float[] scales = Enumerable.Range(0, n).Select(j => 0.001f + j * 0.0001f).ToArray(), bias = KernelTestData.Random(n, 22);
            float[] residual = KernelTestData.Random(pixels * n, 23);
            var alone = new float[pixels * n];
            PointwiseConvolutionInt8.Run(path, x, pixels, k, 0.02f, packed, scales, bias, n, Activation.SiLU, alone, residual, default, 1f, 0);
            foreach (int threads in new[] { 2, 3 })
            {
                using var pool = new EffNet.Threading.WorkerPool(threads);
                var split = new float[pixels * n];
                PointwiseConvolutionInt8.Run(path, x, pixels, k, 0.02f, packed, scales, bias, n, Activation.SiLU, split, residual, default, 1f, 0, pool);
                Assert.Equal(alone, split);
            }
        }

        [Fact]
        public void Input_channels_that_are_not_a_multiple_of_4_are_refused_naming_the_rule()
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => PointwiseConvolutionInt8.PackWeights(new sbyte[6], 3, 2, new sbyte[6]));
            Assert.Contains("input channels in fours", e.Message);
        }

        [Fact]
        public void A_call_without_any_output_is_refused()
        {
            var e = Assert.Throws<ArgumentException>(() => PointwiseConvolutionInt8.Run(new byte[4], 1, 4, 1f, new sbyte[4],
                new[] { 1f }, new[] { 0f }, 1, Activation.None, Span<float>.Empty));
            Assert.Contains("fp32 output, a quantized output or both", e.Message);
        }
    }
}
