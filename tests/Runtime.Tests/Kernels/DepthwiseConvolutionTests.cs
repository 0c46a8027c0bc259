using System;
using EffNet.Kernels;
using EffNet.Threading;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>The depthwise kernel against a direct double-precision convolution, on the shapes that pick each of its paths.</summary>
    public sealed class DepthwiseConvolutionTests
    {
        // A 5x5 output sums 25 products of values in [-1, 1): float rounding stays far below this.
        const double Tolerance = 2e-5;

        static double SiLU(double x) => x / (1 + Math.Exp(-x));

        static double[] Reference(float[] x, int height, int width, int channels, float[] w, float[] b, int kernel, int stride,
                                  int padTop, int padLeft, int outHeight, int outWidth, Activation activation)
        {
            var y = new double[outHeight * outWidth * channels];
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                    for (int c = 0; c < channels; c++)
                    {
                        double acc = b[c];
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int iy = oy * stride - padTop + ky, ix = ox * stride - padLeft + kx;
                                if (iy >= 0 && iy < height && ix >= 0 && ix < width)
                                    acc += (double)x[(iy * width + ix) * channels + c] * w[(ky * kernel + kx) * channels + c];
                            }
                        y[(oy * outWidth + ox) * channels + c] = activation == Activation.SiLU ? SiLU(acc) : acc;
                    }
            return y;
        }

        [Theory]
        // height, width, channels, kernel, stride, padTop, padLeft, threads
        [InlineData(56, 56, 144, 3, 1, 1, 1, 1)]   // B0 features.2.1: 3x3, pixel by pixel
        [InlineData(112, 112, 96, 3, 2, 0, 0, 1)]  // B0 features.2.0: 3x3 stride 2, TF SAME-style padding (none on top)
        [InlineData(14, 14, 672, 5, 1, 2, 2, 2)]   // B0 features.5.x: unrolled 5x5, a group of two at the row's end, two threads
        [InlineData(7, 7, 1152, 5, 1, 2, 2, 1)]    // B0 features.6.x: every group touches the padding
        [InlineData(28, 28, 240, 5, 2, 1, 2, 1)]   // 5x5 stride 2, uneven padding
        [InlineData(8, 160, 208, 5, 1, 2, 2, 1)]   // 5x5 rows too wide for the unrolled taps (5 x 160 x 208 floats > 512 KB)
        [InlineData(19, 19, 48, 5, 2, 2, 2, 3)]    // odd map, a group of one at the row's end, three threads
        [InlineData(10, 10, 40, 3, 1, 1, 1, 1)]    // 40 channels, 3x3: two 16-vectors, then an 8-wide Vector<T> rest
        [InlineData(31, 31, 40, 5, 2, 2, 2, 2)]    // 40 channels, 5x5 stride 2: the 8-wide rest in half a vector, two threads
        [InlineData(9, 6, 24, 5, 1, 2, 2, 2)]      // 24 channels, a map narrower than one group plus the padding
        [InlineData(11, 13, 20, 3, 2, 1, 1, 1)]    // 20 channels: a 16-vector and four single channels
        [InlineData(12, 12, 32, 7, 1, 3, 3, 1)]    // a 7x7 kernel: the pixel-by-pixel path
        [InlineData(8, 8, 12, 3, 1, 1, 1, 1)]      // fewer than 16 channels
        public void Output_and_channel_sums_match_a_direct_convolution(int height, int width, int channels, int kernel, int stride,
                                                                       int padTop, int padLeft, int threads)
        {
            int outHeight = (height + 2 * padTop - kernel) / stride + 1, outWidth = (width + 2 * padLeft - kernel) / stride + 1;
            float[] x = KernelTestData.Random(height * width * channels, 11), w = KernelTestData.Random(kernel * kernel * channels, 12);
            float[] b = KernelTestData.Random(channels, 13);
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            foreach (Activation activation in new[] { Activation.SiLU, Activation.None })
            {
                double[] expected = Reference(x, height, width, channels, w, b, kernel, stride, padTop, padLeft, outHeight, outWidth, activation);
                var actual = new float[outHeight * outWidth * channels + 16]; // the 16 past the end must stay untouched
                actual.AsSpan(expected.Length).Fill(float.NaN);
                var sums = new float[channels];
                DepthwiseConvolution.Run(x, height, width, channels, w, b, kernel, stride, padTop, padLeft,
                                         actual.AsSpan(0, expected.Length), outHeight, outWidth, activation, sums, pool);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= Tolerance,
                                $"{activation} output {i} (pixel {i / channels}, channel {i % channels}): {actual[i]} vs {expected[i]}");
                Assert.All(actual[expected.Length..], v => Assert.True(float.IsNaN(v)));
                for (int c = 0; c < channels; c++)
                {
                    double sum = 0, magnitude = 0;
                    for (int p = 0; p < outHeight * outWidth; p++) { sum += expected[p * channels + c]; magnitude += Math.Abs(expected[p * channels + c]); }
                    // Thousands of floats summed in float: allow their rounding, relative to the sum of magnitudes.
                    Assert.True(Math.Abs(sums[c] - sum) <= 1e-5 * magnitude + 1e-5, $"{activation} sum of channel {c}: {sums[c]} vs {sum}");
                }
            }
        }

        [Fact]
        public void Repeated_runs_on_three_threads_give_the_same_bits()
        {
            float[] x = KernelTestData.Random(14 * 14 * 672, 21), w = KernelTestData.Random(25 * 672, 22), b = KernelTestData.Random(672, 23);
            using var pool = new WorkerPool(3);
            float[] first = new float[14 * 14 * 672], firstSums = new float[672];
            DepthwiseConvolution.Run(x, 14, 14, 672, w, b, 5, 1, 2, 2, first, 14, 14, Activation.SiLU, firstSums, pool);
            for (int run = 0; run < 5; run++)
            {
                float[] again = new float[first.Length], againSums = new float[672];
                DepthwiseConvolution.Run(x, 14, 14, 672, w, b, 5, 1, 2, 2, again, 14, 14, Activation.SiLU, againSums, pool);
                Assert.Equal(first, again);
                Assert.Equal(firstSums, againSums);
            }
        }

        [Theory]
        // height, width, channels, kernel, stride, threads: the wide 5x5 path, the pixel path, one and two threads
        [InlineData(28, 28, 240, 5, 1, 1)]
        [InlineData(29, 31, 40, 3, 2, 2)]
        [InlineData(14, 14, 1152, 5, 1, 2)]
        public void Without_channel_sums_the_outputs_are_the_same_bits_and_nothing_is_summed(int height, int width, int channels, int kernel, int stride, int threads)
        {
            int pad = kernel / 2, outHeight = (height + 2 * pad - kernel) / stride + 1, outWidth = (width + 2 * pad - kernel) / stride + 1;
            float[] x = KernelTestData.Random(height * width * channels, 51), w = KernelTestData.Random(kernel * kernel * channels, 52);
            float[] b = KernelTestData.Random(channels, 53);
            var summed = new float[outHeight * outWidth * channels];
            var unsummed = new float[summed.Length];
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            DepthwiseConvolution.Run(x, height, width, channels, w, b, kernel, stride, pad, pad, summed, outHeight, outWidth,
                                     Activation.ReLU6, new float[channels], pool);
            for (int run = 0; run < 2; run++) // the second run after a summing one on the same pool
                DepthwiseConvolution.Run(x, height, width, channels, w, b, kernel, stride, pad, pad, unsummed, outHeight, outWidth,
                                         Activation.ReLU6, Span<float>.Empty, pool);
            Assert.Equal(summed, unsummed);
        }
    }
}