using System;
using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace EffNet.Kernels
{
    /// <summary>The classifier: output[o] = dot(weights[o, :], input) + bias[o].</summary>
    public static class FullyConnected
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
            ReadOnlySpan<float> x = input.Slice(0, inFeatures);
            for (int o = 0; o < outFeatures; o++)
                output[o] = TensorPrimitives.Dot(weights.Slice(o * inFeatures, inFeatures), x) + bias[o];
        }
    }
}
