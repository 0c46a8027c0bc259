using System;
using EffNet.Kernels;
using EffNet.Threading;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>The fused expand + depthwise kernel against the two kernels it replaces, run one after the other.</summary>
    public sealed class ExpandDepthwiseTests
    {
        static float[] Random(int length, int seed) => KernelTestData.Random(length, seed);

        [Theory]
        // height, width, in, mid, kernel, stride, padTop, padLeft, threads, activation
        [InlineData(112, 112, 16, 96, 3, 1, 1, 1, 1, Activation.SiLU)]     // B0 features.2.0 shape, stride 1
        [InlineData(56, 56, 24, 144, 5, 2, 2, 2, 1, Activation.SiLU)]      // B0 features.3.0: 5x5 stride 2
        [InlineData(57, 41, 24, 144, 5, 2, 1, 2, 2, Activation.SiLU)]      // odd sizes, TF-style uneven padding, two threads
        [InlineData(30, 30, 8, 40, 3, 2, 0, 0, 3, Activation.SiLU)]        // no top padding (TF SAME on an even map), three threads
        [InlineData(20, 13, 12, 24, 3, 1, 1, 1, 2, Activation.SiLU)]       // a channel count with an 8-wide tail
        [InlineData(9, 9, 16, 32, 5, 1, 2, 2, 2, Activation.SiLU)]         // one weight panel of channels: one thread does it all
        [InlineData(28, 28, 40, 168, 5, 1, 2, 2, 3, Activation.SiLU)]      // three panels, the last 40 wide (an 8-wide tail), three threads
        [InlineData(112, 112, 16, 96, 3, 1, 0, 0, 2, Activation.ReLU6)]    // Lite: ReLU6 after both convs
        [InlineData(20, 13, 12, 24, 3, 1, 1, 1, 1, Activation.ReLU6)]      // Lite, with an 8-wide tail
        public void Fused_result_equals_expand_then_depthwise(int height, int width, int inChannels, int mid, int kernel, int stride,
                                                              int padTop, int padLeft, int threads, Activation activation)
        {
            int outHeight = (height + 2 * padTop - kernel) / stride + 1, outWidth = (width + 2 * padLeft - kernel) / stride + 1;
            float[] input = Random(height * width * inChannels, 1), expandBias = Random(mid, 3);
            var expandWeights = new float[inChannels * mid];
            PointwiseConvolution.PackPanels(Random(inChannels * mid, 2), expandWeights, inChannels, mid);
            float[] depthwiseWeights = Random(kernel * kernel * mid, 4), depthwiseBias = Random(mid, 5);

            var expanded = new float[height * width * mid];
            var expected = new float[outHeight * outWidth * mid];
            var expectedSums = new float[mid];
            PointwiseConvolution.Run(input, expandWeights, expandBias, expanded, height * width, inChannels, mid, activation);
            DepthwiseConvolution.Run(expanded, height, width, mid, depthwiseWeights, depthwiseBias, kernel, stride, padTop, padLeft,
                                     expected, outHeight, outWidth, activation, expectedSums);

            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            var actual = new float[expected.Length];
            var sums = new float[mid];
            var rings = new float[ExpandDepthwise.RowBufferLength(kernel, width, mid) * threads];
            for (int run = 0; run < 2; run++) // the second run reuses rings that hold the first run's rows
            {
                ExpandDepthwise.Run(input, height, width, inChannels, expandWeights, expandBias, mid,
                                    depthwiseWeights, depthwiseBias, kernel, stride, padTop, padLeft,
                                    actual, outHeight, outWidth, activation, sums, rings, pool);
                Assert.Equal(expected, actual); // the same code computes every value: bit for bit
                for (int c = 0; c < mid; c++)
                    Assert.Equal(expectedSums[c], sums[c], Math.Abs(expectedSums[c]) * 1e-5 + 1e-4); // summed in another order
            }
        }

        [Theory]
        // height, width, in, mid, kernel, stride
        [InlineData(56, 56, 24, 144, 3, 1)]  // B0 features.2.1: panels of 64, 64, 16
        [InlineData(56, 56, 24, 144, 5, 2)]  // B0 features.3.0
        [InlineData(28, 28, 40, 168, 5, 1)]  // a last panel of 40: two vectors and an 8-wide tail
        [InlineData(19, 23, 16, 200, 3, 2)]  // odd sizes, a last panel of 8
        public void Outputs_and_channel_sums_are_the_same_bits_at_every_thread_count(int height, int width, int inChannels, int mid, int kernel, int stride)
        {
            int pad = kernel / 2;
            int outHeight = (height + 2 * pad - kernel) / stride + 1, outWidth = (width + 2 * pad - kernel) / stride + 1;
            float[] input = Random(height * width * inChannels, 71), expandBias = Random(mid, 72);
            var expandWeights = new float[inChannels * mid];
            PointwiseConvolution.PackPanels(Random(inChannels * mid, 73), expandWeights, inChannels, mid);
            float[] depthwiseWeights = Random(kernel * kernel * mid, 74), depthwiseBias = Random(mid, 75);

            (float[] Output, float[] Sums) Run(int threads)
            {
                using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
                var output = new float[outHeight * outWidth * mid];
                var sums = new float[mid];
                var rings = new float[ExpandDepthwise.RowBufferLength(kernel, width, mid) * threads];
                ExpandDepthwise.Run(input, height, width, inChannels, expandWeights, expandBias, mid, depthwiseWeights, depthwiseBias,
                                    kernel, stride, pad, pad, output, outHeight, outWidth, Activation.SiLU, sums, rings, pool);
                return (output, sums);
            }

            var one = Run(1);
            foreach (int threads in new[] { 2, 3, 8 })
            {
                var many = Run(threads);
                Assert.Equal(one.Output, many.Output);
                Assert.Equal(Bits(one.Sums), Bits(many.Sums));
            }
        }

        static int[] Bits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);

        [Fact]
        public void Too_small_row_buffers_are_rejected_with_the_length_needed()
        {
            using var pool = new WorkerPool(2);
            long oneRing = ExpandDepthwise.RowBufferLength(3, 16, 32);
            var e = Assert.Throws<ArgumentException>(() => ExpandDepthwise.Run(
                new float[16 * 16 * 8], 16, 16, 8, new float[8 * 32], new float[32], 32, new float[9 * 32], new float[32], 3, 1, 1, 1,
                new float[16 * 16 * 32], 16, 16, Activation.SiLU, new float[32], new float[oneRing], pool));
            Assert.Contains("rowBuffers", e.Message);
            Assert.Contains((2 * oneRing).ToString(), e.Message);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        public void Without_channel_sums_the_fused_outputs_are_the_same_bits(int threads)
        {
            const int height = 56, width = 56, inChannels = 24, mid = 144, kernel = 3;
            float[] input = Random(height * width * inChannels, 61), expandBias = Random(mid, 62);
            var expandWeights = new float[inChannels * mid];
            PointwiseConvolution.PackPanels(Random(inChannels * mid, 63), expandWeights, inChannels, mid);
            float[] depthwiseWeights = Random(kernel * kernel * mid, 64), depthwiseBias = Random(mid, 65);
            var rings = new float[ExpandDepthwise.RowBufferLength(kernel, width, mid) * threads];
            var summed = new float[height * width * mid];
            var unsummed = new float[summed.Length];
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            ExpandDepthwise.Run(input, height, width, inChannels, expandWeights, expandBias, mid, depthwiseWeights, depthwiseBias,
                                kernel, 1, 1, 1, summed, height, width, Activation.ReLU6, new float[mid], rings, pool);
            ExpandDepthwise.Run(input, height, width, inChannels, expandWeights, expandBias, mid, depthwiseWeights, depthwiseBias,
                                kernel, 1, 1, 1, unsummed, height, width, Activation.ReLU6, Span<float>.Empty, rings, pool);
            Assert.Equal(summed, unsummed);
        }
    }
}