using System;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace EffNet.Kernels
{
    /// <summary>Mean over all pixels of an HWC map: [pixels, channels] -> [channels].</summary>
    public static class GlobalAveragePool
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, int pixels, int channels, Span<float> output)
        {
            Check.Length(input.Length, (long)pixels * channels, nameof(input));
            Check.Length(output.Length, channels, nameof(output));
            Span<float> mean = output.Slice(0, channels);
            input.Slice(0, channels).CopyTo(mean);
            for (int p = 1; p < pixels; p++)
                TensorPrimitives.Add(mean, input.Slice(p * channels, channels), mean);
            TensorPrimitives.Divide(mean, pixels, mean);
        }
    }
}
