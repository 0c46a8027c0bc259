using System;
using EffNet.Kernels;
using EffNet.Threading;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>The 1x1 conv kernel on panel-packed weights against the plain matrix product in double precision.</summary>
    public sealed class PointwiseConvolutionTests
    {
        static float[] Random(int length, int seed) => KernelTestData.Random(length, seed);

        [Theory]
        // pixels, in, out, SiLU, residual, gate, threads
        [InlineData(50, 16, 96, true, false, false, 1)]    // two panels, the second 32 wide; a 2-pixel tail after the 6-pixel tiles
        [InlineData(49, 192, 40, false, true, false, 2)]   // one narrow panel (40 = 32 + an 8-wide vector)
        [InlineData(37, 24, 200, false, true, true, 3)]    // three whole panels and an 8-wide one, gated
        [InlineData(7, 12, 20, true, false, true, 1)]      // a 4-wide scalar tail
        [InlineData(3136, 144, 24, false, true, false, 2)] // B0 features.2.1's project: 16 + 8 in one tile, with the residual
        [InlineData(29, 40, 56, true, true, false, 1)]     // 48 + 8 in one tile, SiLU on the 8 too; a 5-pixel tail
        [InlineData(20, 33, 136, true, false, true, 2)]    // two whole panels and an 8-wide one alone (B3's 136 channels)
        public void Packed_weights_give_the_plain_matrix_product(int pixels, int k, int n, bool silu, bool withResidual, bool gated, int threads)
        {
            float[] x = Random(pixels * k, 1), w = Random(k * n, 2), bias = Random(n, 3);
            float[] residual = withResidual ? Random(pixels * n, 4) : Array.Empty<float>();
            float[] gate = gated ? Random(k, 5) : Array.Empty<float>();
            var packed = new float[k * n];
            PointwiseConvolution.PackPanels(w, packed, k, n);

            var y = new float[pixels * n];
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            PointwiseConvolution.Run(x, packed, bias, y, pixels, k, n, silu ? Activation.SiLU : Activation.None,
                                     residual, gate, gated ? new float[PointwiseConvolution.PanelScratchLength(k, n)] : default, pool);

            for (int p = 0; p < pixels; p++)
                for (int j = 0; j < n; j++)
                {
                    double sum = bias[j];
                    for (int i = 0; i < k; i++)
                        sum += (double)x[p * k + i] * (gated ? gate[i] : 1) * w[i * n + j];
                    if (silu) sum /= 1 + Math.Exp(-sum);
                    if (withResidual) sum += residual[p * n + j];
                    Assert.True(Math.Abs(y[p * n + j] - sum) <= 1e-5 * (1 + Math.Abs(sum)), $"pixel {p}, channel {j}: {y[p * n + j]} vs {sum}");
                }
        }

        [Fact]
        public void Packing_puts_each_panel_of_64_columns_in_one_contiguous_run()
        {
            // 2 x 70: panel 0 is columns 0..63 of both rows, then panel 1 is columns 64..69 of both rows.
            var w = new float[2 * 70];
            for (int i = 0; i < w.Length; i++) w[i] = i;
            var packed = new float[w.Length];
            PointwiseConvolution.PackPanels(w, packed, 2, 70);
            Assert.Equal(0f, packed[0]);
            Assert.Equal(63f, packed[63]);
            Assert.Equal(70f, packed[64]);   // row 1, column 0
            Assert.Equal(133f, packed[127]); // row 1, column 63
            Assert.Equal(64f, packed[128]);  // panel 1: row 0, column 64
            Assert.Equal(69f, packed[133]);
            Assert.Equal(134f, packed[134]); // row 1, column 64
        }
    }
}
