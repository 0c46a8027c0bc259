using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// Squeeze-excitation gate: channel means -> reduce (C -> S) + SiLU -> expand (S -> C) + sigmoid. The depthwise kernel
    /// supplies the channel sums; the projection conv applies the gate to its input channels (folded into its weights),
    /// so the gated map is never written.
    /// </summary>
    public static class SqueezeExcitation
    {
        /// <param name="gate">[channels]: in, the sums over all pixels; out, the gate for each channel</param>
        /// <param name="reduceWeights">[squeezeChannels, channels]</param>
        /// <param name="expandWeights">[squeezeChannels, channels] (transposed from torchvision's [C, S])</param>
        /// <param name="squeeze">[squeezeChannels] scratch</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(Span<float> gate, int pixels, int channels,
                               ReadOnlySpan<float> reduceWeights, ReadOnlySpan<float> reduceBias,
                               ReadOnlySpan<float> expandWeights, ReadOnlySpan<float> expandBias,
                               int squeezeChannels, Span<float> squeeze)
        {
            Check.Length(gate.Length, channels, nameof(gate));
            Check.Length(reduceWeights.Length, (long)squeezeChannels * channels, nameof(reduceWeights));
            Check.Length(reduceBias.Length, squeezeChannels, nameof(reduceBias));
            Check.Length(expandWeights.Length, (long)squeezeChannels * channels, nameof(expandWeights));
            Check.Length(expandBias.Length, channels, nameof(expandBias));
            Check.Length(squeeze.Length, squeezeChannels, nameof(squeeze));

            Span<float> g = gate.Slice(0, channels);
            TensorPrimitives.Divide(g, pixels, g); // sums -> means

            for (int s = 0; s < squeezeChannels; s++)
                squeeze[s] = Simd.SiLU(TensorPrimitives.Dot(reduceWeights.Slice(s * channels, channels), g) + reduceBias[s]);

            expandBias.Slice(0, channels).CopyTo(g); // the means are no longer needed
            for (int s = 0; s < squeezeChannels; s++)
                TensorPrimitives.MultiplyAdd(expandWeights.Slice(s * channels, channels), squeeze[s], g, g);
            TensorPrimitives.Sigmoid(g, g);
        }
    }
}
