using System;
using System.Linq;
using System.Runtime.InteropServices;
using EffNet.Kernels;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>The int8 k x k conv on HWC maps against a reference built from the same u8 levels with exact integer sums.</summary>
    public sealed class ConvolutionInt8Tests
    {
        [Theory]
        [InlineData(9, 11, 8, 3, 1, 1, 1, 24, true)]   // stride 1, padding on every side, a residual
        [InlineData(12, 12, 16, 3, 2, 0, 0, 40, false)] // stride 2, TF SAME: padding only after
        [InlineData(7, 5, 24, 3, 2, 1, 1, 16, false)]
        public void Outputs_match_exact_sums_of_the_levels_with_padding_at_the_zero_point_on_one_and_two_threads(
            int inHeight, int inWidth, int inChannels, int kernel, int stride, int padTop, int padLeft, int outChannels, bool withResidual)
        {
            int outHeight = (inHeight + 2 * padTop - kernel) / stride + 1, outWidth = (inWidth + 2 * padLeft - kernel) / stride + 1;
            if (padTop == 0) { outHeight = (inHeight + stride - 1) / stride; outWidth = (inWidth + stride - 1) / stride; }
            int taps = kernel * kernel * inChannels;
            float[] input = KernelTestData.Random(inHeight * inWidth * inChannels, 1).Select(v => v * 3).ToArray();
            var random = new Random(2);
            sbyte[] levels = Enumerable.Range(0, taps * outChannels).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
            float[] scales = Enumerable.Range(0, outChannels).Select(j => 0.002f + 0.0001f * j).ToArray();
            float[] bias = KernelTestData.Random(outChannels, 3);
            float[] residual = withResidual ? KernelTestData.Random(outHeight * outWidth * outChannels, 4) : Array.Empty<float>();
            const float inputScale = 0.025f;
            const byte zeroPoint = 121;

            // As the blob loader prepares them: levels packed, the zero point's share out of the bias.
            var packed = new sbyte[taps * outChannels];
            PointwiseConvolutionInt8.PackWeights(levels, taps, outChannels, packed);
            float[] folded = (float[])bias.Clone();
            PointwiseConvolutionInt8.FoldInputZeroPoint(packed, taps, outChannels, inputScale, zeroPoint, scales, folded);
            float[] storage = new float[packed.Length / 4];
            packed.AsSpan().CopyTo(MemoryMarshal.Cast<float, sbyte>(storage.AsSpan()));

            var q = new byte[input.Length];
            QuantizeActivations.Run(input, inHeight * inWidth, inChannels, default, inputScale, zeroPoint, q);
            var expected = new double[outHeight * outWidth * outChannels];
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                    for (int j = 0; j < outChannels; j++)
                    {
                        long sum = 0;
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int iy = oy * stride - padTop + ky, ix = ox * stride - padLeft + kx;
                                if (iy < 0 || iy >= inHeight || ix < 0 || ix >= inWidth) continue; // the zero point: (x - zp) = 0
                                for (int c = 0; c < inChannels; c++)
                                    sum += (long)(q[(iy * inWidth + ix) * inChannels + c] - zeroPoint) * levels[((ky * kernel + kx) * inChannels + c) * outChannels + j];
                            }
                        double v = (double)inputScale * scales[j] * sum + bias[j];
                        v = v / (1 + Math.Exp(-v));
                        int at = (oy * outWidth + ox) * outChannels + j;
                        expected[at] = v + (withResidual ? residual[at] : 0);
                    }

            foreach (int threads in new[] { 1, 2 })
            {
                using var pool = threads > 1 ? new EffNet.Threading.WorkerPool(threads) : null;
                var output = new float[expected.Length];
                var levelsScratch = new float[(input.Length + 3) / 4];
                var rows = new float[ConvolutionInt8.RowBufferLength(outWidth, kernel, inChannels) * threads];
                ConvolutionInt8.RunLayer(input, inHeight, inWidth, inChannels, new[] { inputScale, (float)zeroPoint }, storage, scales, folded,
                    kernel, stride, padTop, padLeft, output, outHeight, outWidth, outChannels, Activation.SiLU, residual, levelsScratch, rows, pool);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(output[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"{threads} thread(s), value {i}: {output[i]} vs {expected[i]}");
            }
        }
    }
}
