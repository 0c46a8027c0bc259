using System;
using EffNet.Kernels;
using EffNet.Threading;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>The stem (CHW image in, HWC map out) against a direct double-precision convolution.</summary>
    public sealed class StemConvolutionTests
    {
        [Theory]
        // size (height, width), outChannels, padTop, padLeft, threads
        [InlineData(224, 224, 32, 1, 1, 1)]  // B0: windows in the image read in place, the first row and column gathered
        [InlineData(300, 300, 40, 1, 1, 2)]  // B3: 32 + 8 channels, two threads
        [InlineData(57, 43, 48, 1, 1, 1)]    // odd sizes: the last column's window reaches into the right padding
        [InlineData(64, 64, 56, 0, 0, 3)]    // TF SAME-style padding (none on top and left), 48 + 8 channels
        [InlineData(33, 29, 64, 1, 1, 1)]    // a whole 64-channel panel
        [InlineData(20, 20, 24, 1, 1, 1)]    // 16 + 8 channels
        [InlineData(16, 16, 20, 1, 1, 1)]    // 20 channels: the gathered path for every pixel
        [InlineData(2, 2, 32, 1, 1, 1)]      // an image smaller than the kernel
        public void Output_matches_a_direct_convolution(int height, int width, int outChannels, int padTop, int padLeft, int threads)
        {
            const int kernel = 3, stride = 2, inChannels = 3;
            int outHeight = (height + 2 * padTop - kernel) / stride + 1, outWidth = (width + 2 * padLeft - kernel) / stride + 1;
            float[] image = KernelTestData.Random(inChannels * height * width, 31);
            float[] weights = KernelTestData.Random(kernel * kernel * inChannels * outChannels, 32); // [taps, out]: one panel
            float[] bias = KernelTestData.Random(outChannels, 33);
            var output = new float[outHeight * outWidth * outChannels];
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            StemConvolution.Run(image, inChannels, height, width, weights, bias, kernel, stride, padTop, padLeft,
                                output, outHeight, outWidth, outChannels, Activation.SiLU, pool);

            double[] sums = KernelTestData.DirectConvolution(image, height, width, inChannels, weights, bias, kernel, stride, padTop, padLeft,
                                                             outHeight, outWidth, outChannels, channelsLast: false);
            for (int at = 0; at < output.Length; at++)
            {
                double expected = sums[at] / (1 + Math.Exp(-sums[at]));
                Assert.True(Math.Abs(output[at] - expected) <= 1e-5 * (1 + Math.Abs(expected)), $"element {at}: {output[at]} vs {expected}");
            }
        }
    }
}
