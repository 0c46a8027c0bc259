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
                // vcvtps2dq rounds half to even (the default rounding mode); vpmovusdb saturates above 255 and the max
                // below 0. The generic Round and two Narrows took twice the time. vcvtps2dq turns values past int's range
                // into int.MinValue, so large ones are first brought down to 512 (a level past 255 whatever the zero point).
                var scale = Vector512.Create(inverse);
                var zero = Vector512.Create((int)zeroPoint);
                var large = Vector512.Create(512f);
                for (; i + 16 <= n; i += 16)
                {
                    Vector512<float> v = Vector512.Load(x + i) * scale;
                    if (g != null) v *= Vector512.Load(g + i);
                    Vector512<int> level = Vector512.Max(Avx512F.ConvertToVector512Int32(Avx512F.Min(v, large)) + zero, Vector512<int>.Zero);
                    Avx512F.ConvertToVector128ByteWithSaturation(level.AsUInt32()).Store(q + i);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var scale = Vector256.Create(inverse);
                var zero = Vector256.Create((int)zeroPoint);
                var high = Vector256.Create(255);
                var large = Vector256.Create(512f);
                for (; i + 8 <= n; i += 8)
                {
                    Vector256<float> v = Vector256.Load(x + i) * scale;
                    if (g != null) v *= Vector256.Load(g + i);
                    // Brought down to 512 first: the conversion saturates at int.MaxValue, which the zero point would wrap.
                    Vector256<int> level = Vector256.Min(Vector256.Max(Vector256.ConvertToInt32(Vector256.Round(Vector256.Min(v, large))) + zero, Vector256<int>.Zero), high);
                    Vector256<ushort> words = Vector256.Narrow(level.AsUInt32(), level.AsUInt32());
                    Vector256.Narrow(words, words).GetLower().GetLower().Store(q + i);
                }
            }
            for (; i < n; i++)
            {
                float v = x[i] * inverse;
                if (g != null) v *= g[i];
                q[i] = (byte)Math.Clamp((int)MathF.Round(MathF.Min(v, 512f)) + zeroPoint, 0, 255);
            }
        }
    }
}
