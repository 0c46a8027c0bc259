using System;
using System.Runtime.CompilerServices;

namespace EffNet.Kernels
{
    /// <summary>Mean over all pixels of an HWC map: [pixels, channels] -> [channels].</summary>
    public static unsafe class GlobalAveragePool
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, int pixels, int channels, Span<float> output)
        {
            Check.Length(input.Length, (long)pixels * channels, nameof(input));
            Check.Length(output.Length, channels, nameof(output));
            input.Slice(0, channels).CopyTo(output);
            fixed (float* x = input, mean = output)
            {
                for (int p = 1; p < pixels; p++)
                    Simd.Add(x + (long)p * channels, mean, channels);
                Simd.Scale(mean, 1f / pixels, channels);
            }
        }
    }
}
