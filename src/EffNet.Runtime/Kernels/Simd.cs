using System.Numerics;
using System.Runtime.CompilerServices;
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

        /// <summary>x * sigmoid(x), computed as x / (1 + e^-x) like PyTorch's float SiLU.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> SiLU(Vector<float> x) => x / (Vector<float>.One + Vector.Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Sigmoid(Vector<float> x) => Vector<float>.One / (Vector<float>.One + Vector.Exp(-x));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector<float> Activate(Vector<float> x, Activation activation)
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
