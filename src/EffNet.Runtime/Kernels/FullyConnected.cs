using System;
using System.Runtime.CompilerServices;

namespace EffNet.Kernels
{
    /// <summary>The classifier: output[o] = dot(weights[o, :], input) + bias[o].</summary>
    public static unsafe class FullyConnected
    {
        /// <param name="weights">[outFeatures, inFeatures] (torchvision's Linear layout)</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output,
                               int inFeatures, int outFeatures)
        {
            Check.Length(input.Length, inFeatures, nameof(input));
            Check.Length(weights.Length, (long)inFeatures * outFeatures, nameof(weights));
            Check.Length(bias.Length, outFeatures, nameof(bias));
            Check.Length(output.Length, outFeatures, nameof(output));
            fixed (float* x = input, w = weights)
            {
                for (int o = 0; o < outFeatures; o++)
                    output[o] = Simd.Dot(w + (long)o * inFeatures, x, inFeatures) + bias[o];
            }
        }
    }
}
