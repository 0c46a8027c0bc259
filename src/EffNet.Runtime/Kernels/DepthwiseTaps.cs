using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EffNet.Kernels
{
    /// <summary>
    /// One kernel row of a depthwise conv for four neighbouring outputs and one 16-channel vector, with the taps unrolled
    /// for a fixed kernel size and stride. Each input column is loaded once and used by every output whose window covers
    /// it (a sliding window), so a 5x5 stride-1 row is 8 input loads and 5 weight loads for 20 FMAs instead of 25 loads.
    /// </summary>
    /// <remarks>
    /// Every accumulator adds its taps in kernel-column order, as the per-pixel path does, so both give the same bits.
    /// The mode says whether columns outside [0, inWidth) must read as zero (the conv's zero padding) and whether the
    /// vector is the 8 channels left past the last whole 16 (loaded into the low half, the high half zero).
    /// </remarks>
    unsafe interface IDepthwiseTaps
    {
        static abstract int Kernel { get; }
        static abstract int Stride { get; }

        /// <param name="from">input row at column <paramref name="column"/>, at the channel vector</param>
        /// <param name="taps">the kernel row's first weight, at the channel vector</param>
        /// <param name="step">floats from one column (or tap) to the next: the channel count</param>
        static abstract void Accumulate<TMode>(float* from, float* taps, long step, int column, int inWidth,
                                               ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
            where TMode : struct, ITapMode;
    }

    /// <summary>
    /// Whether the input columns of a four-output group need bounds checks, and whether the channel vector is an 8-wide
    /// rest; types, so the JIT drops what a group does not need.
    /// </summary>
    interface ITapMode
    {
        static abstract bool Checked { get; }
        static abstract bool Half { get; }
    }
    struct Interior : ITapMode { public static bool Checked => false; public static bool Half => false; }
    struct Edge : ITapMode { public static bool Checked => true; public static bool Half => false; }
    struct InteriorHalf : ITapMode { public static bool Checked => false; public static bool Half => true; }
    struct EdgeHalf : ITapMode { public static bool Checked => true; public static bool Half => true; }

    static unsafe class DepthwiseTaps
    {
        /// <summary>Input column <paramref name="column"/> + <paramref name="j"/>, or zero in the padding.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Input<TMode>(float* from, long step, int j, int column, int inWidth) where TMode : struct, ITapMode
            => TMode.Checked && (uint)(column + j) >= (uint)inWidth ? Vector512<float>.Zero : Load<TMode>(from + j * step);

        /// <summary>16 floats, or 8 and zeros (a 256-bit load zeroes the upper half, so this costs nothing).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load<TMode>(float* at) where TMode : struct, ITapMode
            => TMode.Half ? Vector512.Create(Vector256.Load(at), Vector256<float>.Zero) : Vector512.Load(at);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> a) => Vector512.FusedMultiplyAdd(x, w, a);
    }

    /// <summary>5 taps, stride 1: outputs 0-3 read input columns 0-7.</summary>
    unsafe struct Taps5Stride1 : IDepthwiseTaps
    {
        public static int Kernel => 5;
        public static int Stride => 1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Accumulate<TMode>(float* from, float* taps, long step, int column, int inWidth,
                                             ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
            where TMode : struct, ITapMode
        {
            Vector512<float> w0 = DepthwiseTaps.Load<TMode>(taps), w1 = DepthwiseTaps.Load<TMode>(taps + step), w2 = DepthwiseTaps.Load<TMode>(taps + 2 * step);
            Vector512<float> w3 = DepthwiseTaps.Load<TMode>(taps + 3 * step), w4 = DepthwiseTaps.Load<TMode>(taps + 4 * step);
            Vector512<float> x0 = DepthwiseTaps.Input<TMode>(from, step, 0, column, inWidth);
            Vector512<float> x1 = DepthwiseTaps.Input<TMode>(from, step, 1, column, inWidth);
            Vector512<float> x2 = DepthwiseTaps.Input<TMode>(from, step, 2, column, inWidth);
            Vector512<float> x3 = DepthwiseTaps.Input<TMode>(from, step, 3, column, inWidth);
            a0 = DepthwiseTaps.Fma(x0, w0, a0); a0 = DepthwiseTaps.Fma(x1, w1, a0); a0 = DepthwiseTaps.Fma(x2, w2, a0); a0 = DepthwiseTaps.Fma(x3, w3, a0);
            a1 = DepthwiseTaps.Fma(x1, w0, a1); a1 = DepthwiseTaps.Fma(x2, w1, a1); a1 = DepthwiseTaps.Fma(x3, w2, a1);
            a2 = DepthwiseTaps.Fma(x2, w0, a2); a2 = DepthwiseTaps.Fma(x3, w1, a2);
            a3 = DepthwiseTaps.Fma(x3, w0, a3);
            Vector512<float> x4 = DepthwiseTaps.Input<TMode>(from, step, 4, column, inWidth);
            a0 = DepthwiseTaps.Fma(x4, w4, a0); a1 = DepthwiseTaps.Fma(x4, w3, a1); a2 = DepthwiseTaps.Fma(x4, w2, a2); a3 = DepthwiseTaps.Fma(x4, w1, a3);
            Vector512<float> x5 = DepthwiseTaps.Input<TMode>(from, step, 5, column, inWidth);
            a1 = DepthwiseTaps.Fma(x5, w4, a1); a2 = DepthwiseTaps.Fma(x5, w3, a2); a3 = DepthwiseTaps.Fma(x5, w2, a3);
            Vector512<float> x6 = DepthwiseTaps.Input<TMode>(from, step, 6, column, inWidth);
            a2 = DepthwiseTaps.Fma(x6, w4, a2); a3 = DepthwiseTaps.Fma(x6, w3, a3);
            Vector512<float> x7 = DepthwiseTaps.Input<TMode>(from, step, 7, column, inWidth);
            a3 = DepthwiseTaps.Fma(x7, w4, a3);
        }
    }

    /// <summary>5 taps, stride 2: output q reads input columns 2q to 2q + 4 (0-10 in all).</summary>
    unsafe struct Taps5Stride2 : IDepthwiseTaps
    {
        public static int Kernel => 5;
        public static int Stride => 2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Accumulate<TMode>(float* from, float* taps, long step, int column, int inWidth,
                                             ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
            where TMode : struct, ITapMode
        {
            Vector512<float> w0 = DepthwiseTaps.Load<TMode>(taps), w1 = DepthwiseTaps.Load<TMode>(taps + step), w2 = DepthwiseTaps.Load<TMode>(taps + 2 * step);
            Vector512<float> w3 = DepthwiseTaps.Load<TMode>(taps + 3 * step), w4 = DepthwiseTaps.Load<TMode>(taps + 4 * step);
            Vector512<float> x0 = DepthwiseTaps.Input<TMode>(from, step, 0, column, inWidth);
            Vector512<float> x1 = DepthwiseTaps.Input<TMode>(from, step, 1, column, inWidth);
            Vector512<float> x2 = DepthwiseTaps.Input<TMode>(from, step, 2, column, inWidth);
            Vector512<float> x3 = DepthwiseTaps.Input<TMode>(from, step, 3, column, inWidth);
            a0 = DepthwiseTaps.Fma(x0, w0, a0); a0 = DepthwiseTaps.Fma(x1, w1, a0); a0 = DepthwiseTaps.Fma(x2, w2, a0); a0 = DepthwiseTaps.Fma(x3, w3, a0);
            a1 = DepthwiseTaps.Fma(x2, w0, a1); a1 = DepthwiseTaps.Fma(x3, w1, a1);
            Vector512<float> x4 = DepthwiseTaps.Input<TMode>(from, step, 4, column, inWidth);
            a0 = DepthwiseTaps.Fma(x4, w4, a0); a1 = DepthwiseTaps.Fma(x4, w2, a1); a2 = DepthwiseTaps.Fma(x4, w0, a2);
            Vector512<float> x5 = DepthwiseTaps.Input<TMode>(from, step, 5, column, inWidth);
            a1 = DepthwiseTaps.Fma(x5, w3, a1); a2 = DepthwiseTaps.Fma(x5, w1, a2);
            Vector512<float> x6 = DepthwiseTaps.Input<TMode>(from, step, 6, column, inWidth);
            a1 = DepthwiseTaps.Fma(x6, w4, a1); a2 = DepthwiseTaps.Fma(x6, w2, a2); a3 = DepthwiseTaps.Fma(x6, w0, a3);
            Vector512<float> x7 = DepthwiseTaps.Input<TMode>(from, step, 7, column, inWidth);
            a2 = DepthwiseTaps.Fma(x7, w3, a2); a3 = DepthwiseTaps.Fma(x7, w1, a3);
            Vector512<float> x8 = DepthwiseTaps.Input<TMode>(from, step, 8, column, inWidth);
            a2 = DepthwiseTaps.Fma(x8, w4, a2); a3 = DepthwiseTaps.Fma(x8, w2, a3);
            Vector512<float> x9 = DepthwiseTaps.Input<TMode>(from, step, 9, column, inWidth);
            a3 = DepthwiseTaps.Fma(x9, w3, a3);
            Vector512<float> x10 = DepthwiseTaps.Input<TMode>(from, step, 10, column, inWidth);
            a3 = DepthwiseTaps.Fma(x10, w4, a3);
        }
    }
}
