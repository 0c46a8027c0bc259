using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EffNet.Kernels
{
    /// <summary>
    /// An fp32 HWC map to the u8 levels an int8 layer reads: q = clamp(round(x * g[c] / scale) + zeroPoint, 0, 255), with
    /// g the squeeze-excitation gate of each channel when one is given (so the gate costs one multiply here instead of a
    /// pass of its own). Rounds half to even, as the scalar reference does.
    /// </summary>
    public static unsafe class QuantizeActivations
    {
        /// <param name="workers">threads to split the pixels over (maps of 32K values or more), or null for the calling thread only</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, int pixels, int channels, ReadOnlySpan<float> channelScale,
                               float scale, byte zeroPoint, Span<byte> output, Threading.WorkerPool? workers = null)
        {
            long values = (long)pixels * channels;
            Check.Length(input.Length, values, nameof(input));
            Check.Length(output.Length, values, nameof(output));
            if (!channelScale.IsEmpty) Check.Length(channelScale.Length, channels, nameof(channelScale));
            if (!(scale > 0 && float.IsFinite(scale)))
                throw new ArgumentOutOfRangeException(nameof(scale), scale, "The quantisation scale must be a positive number.");
            float inverse = 1f / scale;
            fixed (float* x = input, g = channelScale)
            fixed (byte* q = output)
            {
                var map = new Map(x, g, channels, inverse, zeroPoint, q);
                if (workers is null || values < MinValuesPerThread * workers.Threads)
                {
                    map.Pixels(0, pixels);
                    return;
                }
                var job = (PixelsJob)(workers.QuantizeJob ??= new PixelsJob());
                job.Map = map;
                workers.Run(job, pixels, grain: Math.Max(1, 4096 / channels));
            }
        }

        // Fewer values than this per thread are quantised by the caller alone: a region costs more than they take.
        const long MinValuesPerThread = 16 * 1024;

        sealed class PixelsJob : Threading.IParallelJob
        {
            public Map Map;

            public void Execute(int start, int end, int worker) => Map.Pixels(start, end);
        }

        readonly struct Map(float* x, float* g, int channels, float inverse, byte zeroPoint, byte* q)
        {
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Pixels(int first, int end)
            {
                if (g == null)
                    Levels(x + (long)first * channels, null, (long)(end - first) * channels, inverse, zeroPoint, q + (long)first * channels);
                else
                    for (int p = first; p < end; p++) // the gate repeats every pixel: one row of channels at a time
                        Levels(x + (long)p * channels, g, channels, inverse, zeroPoint, q + (long)p * channels);
            }
        }

        // n values of x (times g[i] when g is given) to levels; 16 at a time, then one at a time.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        static void Levels(float* x, float* g, long n, float inverse, byte zeroPoint, byte* q)
        {
            long i = 0;
            if (Avx512F.IsSupported)
            {
                // vpmovusdb saturates above 255 and the max below 0. The generic Round and two Narrows took twice the time.
                var scale = Vector512.Create(inverse);
                var zero = Vector512.Create((int)zeroPoint);
                for (; i + 16 <= n; i += 16)
                {
                    Vector512<float> v = Vector512.Load(x + i) * scale;
                    if (g != null) v *= Vector512.Load(g + i);
                    Vector512<int> level = Vector512.Max(Round(v) + zero, Vector512<int>.Zero);
                    Avx512F.ConvertToVector128ByteWithSaturation(level.AsUInt32()).Store(q + i);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var scale = Vector256.Create(inverse);
                var zero = Vector256.Create((int)zeroPoint);
                var high = Vector256.Create(255);
                for (; i + 8 <= n; i += 8)
                {
                    Vector256<float> v = Vector256.Load(x + i) * scale;
                    if (g != null) v *= Vector256.Load(g + i);
                    Vector256<int> level = Vector256.Min(Vector256.Max(Round(v) + zero, Vector256<int>.Zero), high);
                    Vector256<ushort> words = Vector256.Narrow(level.AsUInt32(), level.AsUInt32());
                    Vector256.Narrow(words, words).GetLower().GetLower().Store(q + i);
                }
            }
            for (; i < n; i++)
            {
                float v = x[i] * inverse;
                if (g != null) v *= g[i];
                q[i] = (byte)Math.Clamp(Round(v) + zeroPoint, 0, 255);
            }
        }

        // Values in units of levels (x / scale, the zero point not yet added) to integers, rounded half to even as
        // MathF.Round does (vcvtps2dq under the default rounding mode). Past int's range the conversions give
        // int.MinValue (vcvtps2dq) or int.MaxValue, which an added zero point would wrap, so larger values are first
        // brought down to LargestLevel, past 255 whatever the zero point. The int8 GEMM's u8 output rounds here too.
        const float LargestLevel = 512f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector512<int> Round(Vector512<float> levels) => Avx512F.ConvertToVector512Int32(Avx512F.Min(levels, Vector512.Create(LargestLevel)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<int> Round(Vector256<float> levels) => Vector256.ConvertToInt32(Vector256.Round(Vector256.Min(levels, Vector256.Create(LargestLevel))));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static int Round(float levels) => (int)MathF.Round(MathF.Min(levels, LargestLevel));
    }
}
