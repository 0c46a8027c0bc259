using System;
using EffNet.Kernels;
using EffNet.Threading;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>The Winograd F(2x2, 3x3) convolution against a direct double-precision convolution.</summary>
    public sealed class ConvolutionWinograd2x2Tests
    {
        [Theory]
        // height, width, in, out, pad, residual, threads
        [InlineData(48, 48, 24, 24, 1, true, 1)]     // V2-S stage 1: 24 -> 24 with the block input added
        [InlineData(24, 24, 48, 192, 1, false, 2)]   // V2-S stage 2's expand: three 64-wide panels
        [InlineData(12, 12, 64, 256, 1, false, 3)]   // V2-S stage 3's expand
        [InlineData(17, 13, 40, 72, 0, false, 1)]    // no padding: odd output sizes, a last tile half outside
        [InlineData(9, 11, 32, 40, 1, true, 2)]      // 32 + 8 outputs with a residual, odd sizes
        [InlineData(7, 5, 13, 7, 1, false, 1)]       // channel counts off the vector width
        [InlineData(5, 53, 24, 24, 1, false, 2)]     // more tiles in a row than one chunk
        public void Output_matches_a_direct_convolution(int height, int width, int inChannels, int outChannels, int pad, bool withResidual, int threads)
        {
            int outHeight = height + 2 * pad - 2, outWidth = width + 2 * pad - 2, taps = 9 * inChannels;
            float[] input = KernelTestData.Random(height * width * inChannels, 51);
            float[] weights = KernelTestData.Random(taps * outChannels, 52); // [taps, out]
            var packed = new float[weights.Length];
            PointwiseConvolution.PackPanels(weights, packed, taps, outChannels);
            float[] bias = KernelTestData.Random(outChannels, 53);
            float[] residual = withResidual ? KernelTestData.Random(outHeight * outWidth * outChannels, 54) : Array.Empty<float>();
            var output = new float[outHeight * outWidth * outChannels];
            var transformed = new float[ConvolutionWinograd2x2.TransformedWeightFloats(inChannels, outChannels)];
            var rowBuffers = new float[ConvolutionWinograd2x2.RowBufferFloats(inChannels, outChannels) * threads];
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            ConvolutionWinograd2x2.Run(input, height, width, inChannels, packed, bias, pad, pad, output, outHeight, outWidth, outChannels,
                                       Activation.SiLU, residual, transformed, rowBuffers, pool);

            double[] sums = KernelTestData.DirectConvolution(input, height, width, inChannels, weights, bias, 3, 1, pad, pad,
                                                             outHeight, outWidth, outChannels);
            for (int at = 0; at < output.Length; at++)
            {
                double expected = sums[at] / (1 + Math.Exp(-sums[at])) + (withResidual ? residual[at] : 0);
                Assert.True(Math.Abs(output[at] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"element {at}: {output[at]} vs {expected}");
            }
        }
    }
}
