using System;
using System.Numerics;
using System.Runtime.Intrinsics;
using EffNet.Kernels;
using Xunit;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>The vector SiLU against x / (1 + e^-x) in double precision, on both the AVX-512 and the Vector&lt;T&gt; path.</summary>
    public sealed class SiLUTests
    {
        // Float rounding of x alone is 6e-8; the polynomial and the division add a few units in the last place.
        const double RelativeTolerance = 5e-7;

        static double Reference(double x) => x / (1 + Math.Exp(-x));

        static float[] Inputs()
        {
            var random = new Random(7);
            var xs = new float[4096];
            for (int i = 0; i < xs.Length; i++)
                xs[i] = (float)(random.NextDouble() * 60 - 30);
            // The edges: both ends of the exponent's range, zero, and far outside it.
            float[] edges = { 0f, -0f, 1e-30f, -1e-30f, 87.9f, 88f, 88.1f, 120f, 1e30f, -87f, -88f, -89f, -100f, -1e30f, 0.34657f, -0.34657f };
            edges.CopyTo(xs, 0);
            return xs;
        }

        static void AssertClose(float x, float actual)
        {
            double expected = Reference(x);
            double error = Math.Abs(actual - expected);
            // Below x = -88.7, e^-x overflows float and x / (1 + e^-x) is -0 in PyTorch as well: there, only a tiny absolute
            // error can be asked for.
            Assert.True(error <= RelativeTolerance * Math.Abs(expected) || error < 1e-35,
                $"SiLU({x:R}) = {actual:R}, expected {expected:R}");
        }

        [Fact]
        public void Vector512_SiLU_is_within_5e7_relative_of_double_precision()
        {
            foreach (float x in Inputs())
                AssertClose(x, Simd.SiLU(Vector512.Create(x)).GetElement(0));
        }

        [Fact]
        public void Portable_vector_SiLU_is_within_5e7_relative_of_double_precision()
        {
            foreach (float x in Inputs())
                AssertClose(x, Simd.SiLU(new Vector<float>(x))[0]);
        }

        [Fact]
        public void SiLU_of_infinities_follows_the_float_formula()
        {
            Assert.Equal(float.PositiveInfinity, Simd.SiLU(Vector512.Create(float.PositiveInfinity)).GetElement(0));
            Assert.True(float.IsNaN(Simd.SiLU(Vector512.Create(float.NaN)).GetElement(0)));
            Assert.Equal(float.PositiveInfinity, Simd.SiLU(new Vector<float>(float.PositiveInfinity))[0]);
            Assert.True(float.IsNaN(Simd.SiLU(new Vector<float>(float.NaN))[0]));
            // -inf / (1 + inf): NaN, as x * sigmoid(x) is in PyTorch.
            Assert.True(float.IsNaN(Simd.SiLU(Vector512.Create(float.NegativeInfinity)).GetElement(0)));
            Assert.True(float.IsNaN(Simd.SiLU(new Vector<float>(float.NegativeInfinity))[0]));
        }
    }
}
