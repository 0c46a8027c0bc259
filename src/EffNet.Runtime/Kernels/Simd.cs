using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EffNet.Kernels
{
    /// <summary>Vector helpers shared by the kernels. <see cref="Vector{T}"/> is 8 floats on AVX2 and AVX-512 machines.</summary>
    static class Simd
    {
        public static int Width => Vector<float>.Count;

        /// <summary>a * b + c, fused where the CPU has FMA (the software fallback of a fused op is ~30x slower).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> MultiplyAdd(Vector<float> a, Vector<float> b, Vector<float> c)
            => Fma.IsSupported ? Vector.FusedMultiplyAdd(a, b, c) : a * b + c;

        // SiLU needs e^-x. With n = round(-x log2 e) and s = x + n ln2 (one FMA; ln 2 rounded to float is off by 1.9e-9,
        // times |n| <= 128 wherever e^-x is a finite float), e^-x = 2^n e^-s with |s| <= ln2/2. e^-s is a degree-5 polynomial in s: the minimax fit of e^r on
        // [-ln2/2, ln2/2] (relative error 7.5e-8, 2.1e-7 as evaluated in float) with its odd coefficients negated, which
        // saves negating x. Every op counts: at small K the SiLU of the expand convs costs as much as their products.
        const float Log2E = 1.44269504f, Ln2 = 0.693147182f, Ln2High = 0.693145751953125f, Ln2Low = 1.42860677e-06f;
        const float P0 = 1.00000012f, P1 = -0.999999702f, P2 = 0.499988943f, P3 = -0.166675746f, P4 = 0.0419153832f, P5 = -0.00829765480f;

        // Above 88, e^-x is below float's normal range and 1 + e^-x is 1: clamping keeps 2^n finite and exact results.
        // Below -88, e^-x is infinite in float.
        const float ExpInputMax = 88f, ExpInputMin = -88f;

        /// <summary>e^-s for |s| &lt;= ln2/2.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector512<float> ExpNegReduced(Vector512<float> s)
        {
            Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(P5), s, Vector512.Create(P4));
            p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P3));
            p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P2));
            p = Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P1));
            return Vector512.FusedMultiplyAdd(p, s, Vector512.Create(P0));
        }

        /// <summary>e^-x, exact to about 3e-7 relative; +0 for x above 88.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> ExpNeg(Vector512<float> x)
        {
            x = Vector512.Min(x, Vector512.Create(ExpInputMax));
            if (Avx512F.IsSupported)
            {
                // vrndscaleps and vscalefps: no clamp below (2^n overflows to infinity, as e^-x does) and no exponent bits.
                Vector512<float> n = Avx512F.RoundScale(x * Vector512.Create(-Log2E), 0);
                Vector512<float> s = Vector512.FusedMultiplyAdd(n, Vector512.Create(Ln2), x);
                return Avx512F.Scale(ExpNegReduced(s), n);
            }
            else
            {
                Vector512<float> overflows = Vector512.LessThan(x, Vector512.Create(ExpInputMin));
                Vector512<float> n = Vector512.Round(x * Vector512.Create(-Log2E));
                Vector512<float> s = Vector512.FusedMultiplyAdd(n, Vector512.Create(Ln2), x);
                Vector512<int> exponent = Vector512.ShiftLeft(Vector512.ConvertToInt32(n), 23);
                return Vector512.ConditionalSelect(overflows, Vector512.Create(float.PositiveInfinity), (ExpNegReduced(s).AsInt32() + exponent).AsSingle());
            }
        }

        /// <summary>e^-x on <see cref="Vector{T}"/> (the AVX2 and portable path): the same polynomial, 2^n added to the exponent bits.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> ExpNeg(Vector<float> x)
        {
            // Clamped above only: below -88, e^-x is infinite in float, and those lanes' results (from an exponent that
            // overflowed its bits) are replaced by +infinity at the end.
            Vector<int> overflows = Vector.LessThan(x, new Vector<float>(ExpInputMin));
            x = Vector.Min(x, new Vector<float>(ExpInputMax));
            Vector<float> n = Vector.Round(x * new Vector<float>(-Log2E));
            // Without FMA the product n ln2 is rounded on its own; ln 2 in two parts keeps n ln2High exact then.
            Vector<float> s = Fma.IsSupported
                ? MultiplyAdd(n, new Vector<float>(Ln2), x)
                : n * new Vector<float>(Ln2Low) + (n * new Vector<float>(Ln2High) + x);
            Vector<float> p = MultiplyAdd(new Vector<float>(P5), s, new Vector<float>(P4));
            p = MultiplyAdd(p, s, new Vector<float>(P3));
            p = MultiplyAdd(p, s, new Vector<float>(P2));
            p = MultiplyAdd(p, s, new Vector<float>(P1));
            p = MultiplyAdd(p, s, new Vector<float>(P0));
            Vector<int> exponent = Vector.ShiftLeft(Vector.ConvertToInt32(n), 23);
            return Vector.ConditionalSelect(overflows, new Vector<float>(float.PositiveInfinity), Vector.AsVectorSingle(Vector.AsVectorInt32(p) + exponent));
        }

        /// <summary>x * sigmoid(x), computed as x / (1 + e^-x) like PyTorch's float SiLU.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> SiLU(Vector<float> x) => x / (Vector<float>.One + ExpNeg(x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> SiLU(Vector512<float> x) => x / (Vector512<float>.One + ExpNeg(x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Activate(Vector<float> x, Activation activation) => activation switch
        {
            Activation.SiLU => SiLU(x),
            Activation.ReLU6 => Vector.Min(Vector.Max(x, Vector<float>.Zero), new Vector<float>(6f)),
            _ => x,
        };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Activate(Vector512<float> x, Activation activation) => activation switch
        {
            Activation.SiLU => SiLU(x),
            Activation.ReLU6 => Vector512.Min(Vector512.Max(x, Vector512<float>.Zero), Vector512.Create(6f)),
            _ => x,
        };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float SiLU(float x) => x / (1f + System.MathF.Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Activate(float x, Activation activation) => activation switch
        {
            Activation.SiLU => SiLU(x),
            Activation.ReLU6 => System.Math.Clamp(x, 0f, 6f),
            _ => x,
        };

        /// <summary>1 / (1 + e^-x).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Sigmoid(Vector<float> x) => Vector<float>.One / (Vector<float>.One + ExpNeg(x));

        // The small vector loops of the squeeze-excitation, pooling and classifier kernels. They are ours rather than
        // TensorPrimitives' so they are compiled fully optimised at once like the kernels: the first inferences of a
        // JIT-compiled process otherwise run them as tier-0 code, three times slower overall.

        /// <summary>sum of a[i] * b[i] for i &lt; n.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe float Dot(float* a, float* b, int n)
        {
            Vector<float> s0 = Vector<float>.Zero, s1 = Vector<float>.Zero;
            int w = Vector<float>.Count, i = 0;
            for (; i + 2 * w <= n; i += 2 * w)
            {
                s0 = MultiplyAdd(Vector.Load(a + i), Vector.Load(b + i), s0);
                s1 = MultiplyAdd(Vector.Load(a + i + w), Vector.Load(b + i + w), s1);
            }
            for (; i + w <= n; i += w)
                s0 = MultiplyAdd(Vector.Load(a + i), Vector.Load(b + i), s0);
            float sum = Vector.Sum(s0 + s1);
            for (; i < n; i++)
                sum += a[i] * b[i];
            return sum;
        }

        /// <summary>acc[i] += a[i] * scale for i &lt; n.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe void MultiplyAdd(float* a, float scale, float* acc, int n)
        {
            int i = 0;
            for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
                MultiplyAdd(Vector.Load(a + i), new Vector<float>(scale), Vector.Load(acc + i)).Store(acc + i);
            for (; i < n; i++)
                acc[i] += a[i] * scale;
        }

        /// <summary>acc[i] += a[i] for i &lt; n.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe void Add(float* a, float* acc, int n)
        {
            int i = 0;
            for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
                (Vector.Load(acc + i) + Vector.Load(a + i)).Store(acc + i);
            for (; i < n; i++)
                acc[i] += a[i];
        }

        /// <summary>x[i] = x[i] * factors[i] for i &lt; n.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe void Multiply(float* x, float* factors, int n)
        {
            int i = 0;
            for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
                (Vector.Load(x + i) * Vector.Load(factors + i)).Store(x + i);
            for (; i < n; i++)
                x[i] *= factors[i];
        }

        /// <summary>x[i] = x[i] * scale for i &lt; n.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe void Scale(float* x, float scale, int n)
        {
            int i = 0;
            for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
                (Vector.Load(x + i) * scale).Store(x + i);
            for (; i < n; i++)
                x[i] *= scale;
        }

        /// <summary>x[i] = sigmoid(x[i]) for i &lt; n.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static unsafe void Sigmoid(float* x, int n)
        {
            int i = 0;
            for (; i + Vector<float>.Count <= n; i += Vector<float>.Count)
                Sigmoid(Vector.Load(x + i)).Store(x + i);
            for (; i < n; i++)
                x[i] = 1f / (1f + System.MathF.Exp(-x[i]));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Load(ref float origin, int index) => Vector.LoadUnsafe(ref origin, (nuint)index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector<float> value, ref float origin, int index) => value.StoreUnsafe(ref origin, (nuint)index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ref float At(ref float origin, int index) => ref Unsafe.Add(ref origin, index);
    }
}
