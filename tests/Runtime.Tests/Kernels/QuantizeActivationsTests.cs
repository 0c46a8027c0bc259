using System;
using EffNet.Kernels;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>fp32 maps to u8 levels, against a double-precision reference (CI runs this with and without AVX-512 and AVX2).</summary>
    public sealed class QuantizeActivationsTests
    {
        static byte Reference(double value, double scale, int zeroPoint)
            => (byte)Math.Clamp(Math.Round(value / scale, MidpointRounding.ToEven) + zeroPoint, 0, 255);

        [Theory]
        [InlineData(1, 7)]    // shorter than any vector
        [InlineData(13, 24)]  // an 8-channel rest after each 16
        [InlineData(49, 1152)]
        public void Levels_round_to_nearest_and_clamp_to_0_255_with_and_without_a_gate(int pixels, int channels)
        {
            float[] x = KernelTestData.Random(pixels * channels, pixels + channels);
            for (int i = 0; i < x.Length; i++) x[i] *= 9; // past both ends of the range below
            float[] gate = KernelTestData.Random(channels, 3);
            const float scale = 0.021f;
            const byte zeroPoint = 37;
            foreach (bool gated in new[] { false, true })
            {
                var q = new byte[x.Length];
                QuantizeActivations.Run(x, pixels, channels, gated ? gate : default, scale, zeroPoint, q);
                for (int i = 0; i < x.Length; i++)
                {
                    // The kernel multiplies by 1 / scale in fp32; the reference divides in double. They may differ by one
                    // level only where the value sits on a rounding boundary.
                    float v = x[i] * (1f / scale) * (gated ? gate[i % channels] : 1f);
                    byte expected = (byte)Math.Clamp(MathF.Round(v) + zeroPoint, 0, 255);
                    Assert.True(q[i] == expected, $"{pixels}x{channels}, value {i} ({x[i]}, gated {gated}): {q[i]} vs {expected}");
                    Assert.True(Math.Abs(q[i] - Reference(x[i] * (gated ? gate[i % channels] : 1.0), scale, zeroPoint)) <= 1);
                }
            }
        }

        [Fact]
        public void Split_over_threads_the_levels_are_the_same()
        {
            const int pixels = 3136, channels = 24;
            float[] x = KernelTestData.Random(pixels * channels, 5);
            float[] gate = KernelTestData.Random(channels, 6);
            foreach (bool gated in new[] { false, true })
            {
                var alone = new byte[x.Length];
                var split = new byte[x.Length];
                QuantizeActivations.Run(x, pixels, channels, gated ? gate : default, 0.01f, 128, alone);
                using var pool = new EffNet.Threading.WorkerPool(2);
                QuantizeActivations.Run(x, pixels, channels, gated ? gate : default, 0.01f, 128, split, pool);
                Assert.Equal(alone, split);
            }
        }

        [Fact]
        public void Zero_is_exactly_the_zero_point_and_ties_round_to_even()
        {
            var q = new byte[4];
            QuantizeActivations.Run(new[] { 0f, 0.5f, 1.5f, -2.5f }, 1, 4, default, 1f, 100, q);
            Assert.Equal(new byte[] { 100, 100, 102, 98 }, q);
        }

        [Fact]
        public void Values_far_past_either_end_clamp_to_0_and_255()
        {
            // 32 values, so the vector paths see them too; +1e12 and +infinity leave int's range before any clamp.
            float[] far = { 1e12f, float.PositiveInfinity, -1e12f, float.NegativeInfinity, 3e9f, -3e9f, 256f, -256f };
            var x = new float[32];
            for (int i = 0; i < x.Length; i++) x[i] = far[i % far.Length];
            var q = new byte[x.Length];
            QuantizeActivations.Run(x, 1, x.Length, default, 0.5f, 7, q);
            for (int i = 0; i < x.Length; i++)
                Assert.True(q[i] == (x[i] > 0 ? 255 : 0), $"value {i} ({x[i]}): {q[i]}");
        }

        [Fact]
        public void A_scale_that_is_not_a_positive_number_is_refused()
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => QuantizeActivations.Run(new float[4], 1, 4, default, 0f, 0, new byte[4]));
            Assert.Contains("positive number", e.Message);
        }
    }
}
