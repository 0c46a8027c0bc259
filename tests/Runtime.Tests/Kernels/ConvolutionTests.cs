using System;
using EffNet.Kernels;
using EffNet.Threading;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>The dense k x k convolution on HWC maps (Fused-MBConv) against a direct double-precision convolution.</summary>
    public sealed class ConvolutionTests
    {
        [Theory]
        // height, width, in, out, stride, padTop, padLeft, residual, threads
        [InlineData(48, 48, 24, 24, 1, 1, 1, true, 1)]     // V2-S stage 1: 3x3 24 -> 24, residual, windows read in place
        [InlineData(48, 48, 24, 96, 2, 1, 1, false, 2)]    // V2-S stage 2's expand: 96 outputs (two panels), gathered
        [InlineData(31, 27, 48, 192, 2, 0, 0, false, 1)]   // odd sizes, TF SAME-style padding, 432 taps
        [InlineData(20, 20, 80, 320, 1, 1, 1, false, 3)]   // V2-M: 720 taps, wider than the stem's patch buffer
        [InlineData(12, 12, 96, 384, 2, 1, 1, false, 1)]   // V2-L: 864 taps
        [InlineData(9, 11, 32, 40, 1, 1, 1, true, 2)]      // 32 + 8 outputs with a residual
        public void Output_matches_a_direct_convolution(int height, int width, int inChannels, int outChannels, int stride,
                                                        int padTop, int padLeft, bool withResidual, int threads)
        {
            const int kernel = 3;
            int outHeight = (height + 2 * padTop - kernel) / stride + 1, outWidth = (width + 2 * padLeft - kernel) / stride + 1;
            int taps = kernel * kernel * inChannels;
            float[] input = KernelTestData.Random(height * width * inChannels, 41);
            float[] weights = KernelTestData.Random(taps * outChannels, 42); // [taps, out]
            var packed = new float[weights.Length];
            PointwiseConvolution.PackPanels(weights, packed, taps, outChannels);
            float[] bias = KernelTestData.Random(outChannels, 43);
            float[] residual = withResidual ? KernelTestData.Random(outHeight * outWidth * outChannels, 44) : Array.Empty<float>();
            var output = new float[outHeight * outWidth * outChannels];
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            Convolution.Run(input, height, width, inChannels, packed, bias, kernel, stride, padTop, padLeft,
                            output, outHeight, outWidth, outChannels, Activation.SiLU, residual, pool);

            double[] sums = KernelTestData.DirectConvolution(input, height, width, inChannels, weights, bias, kernel, stride, padTop, padLeft,
                                                             outHeight, outWidth, outChannels);
            for (int at = 0; at < output.Length; at++)
            {
                double expected = sums[at] / (1 + Math.Exp(-sums[at])) + (withResidual ? residual[at] : 0);
                Assert.True(Math.Abs(output[at] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"element {at}: {output[at]} vs {expected}");
            }
        }
    }
}
