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

        // e^x = 2^n * e^r with n = round(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 split in two for accuracy),
        // e^r by its Taylor polynomial to degree 6 (relative error below 2e-7), 2^n added to the exponent bits.
        // Inputs are clamped to [-87, 88] so 2^n stays a normal float; SiLU and sigmoid saturate long before that.
        const float ExpMin = -87f, ExpMax = 88f, Log2E = 1.44269504f, Ln2High = 0.693145751953125f, Ln2Low = 1.42860677e-06f;
        const float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Exp(Vector512<float> x)
        {
            x = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpMin)), Vector512.Create(ExpMax));
            Vector512<float> n = Vector512.Round(x * Vector512.Create(Log2E));
            Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2High), x);
            r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Low), r);
            Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(C6), r, Vector512.Create(C5));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C4));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C3));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C2));
            p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
            p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
            Vector512<int> scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n), 23);
            return (p.AsInt32() + scale).AsSingle();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Exp(Vector<float> x)
        {
            x = Vector.Min(Vector.Max(x, new Vector<float>(ExpMin)), new Vector<float>(ExpMax));
            Vector<float> n = Vector.Round(x * new Vector<float>(Log2E));
            Vector<float> r = MultiplyAdd(n, new Vector<float>(-Ln2High), x);
            r = MultiplyAdd(n, new Vector<float>(-Ln2Low), r);
            Vector<float> p = MultiplyAdd(new Vector<float>(C6), r, new Vector<float>(C5));
            p = MultiplyAdd(p, r, new Vector<float>(C4));
            p = MultiplyAdd(p, r, new Vector<float>(C3));
            p = MultiplyAdd(p, r, new Vector<float>(C2));
            p = MultiplyAdd(p, r, Vector<float>.One);
            p = MultiplyAdd(p, r, Vector<float>.One);
            Vector<int> scale = Vector.ShiftLeft(Vector.ConvertToInt32(n), 23);
            return Vector.AsVectorSingle(Vector.AsVectorInt32(p) + scale);
        }

        /// <summary>x * sigmoid(x), computed as x / (1 + e^-x) like PyTorch's float SiLU.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> SiLU(Vector<float> x) => x / (Vector<float>.One + Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> SiLU(Vector512<float> x) => x / (Vector512<float>.One + Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Activate(Vector<float> x, Activation activation)
            => activation == Activation.SiLU ? SiLU(x) : x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Activate(Vector512<float> x, Activation activation)
            => activation == Activation.SiLU ? SiLU(x) : x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float SiLU(float x) => x / (1f + System.MathF.Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Activate(float x, Activation activation) => activation == Activation.SiLU ? SiLU(x) : x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Load(ref float origin, int index) => Vector.LoadUnsafe(ref origin, (nuint)index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Vector<float> value, ref float origin, int index) => value.StoreUnsafe(ref origin, (nuint)index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ref float At(ref float origin, int index) => ref Unsafe.Add(ref origin, index);
    }
}
