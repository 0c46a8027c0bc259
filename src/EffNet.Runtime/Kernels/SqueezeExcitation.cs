using System;
using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// Squeeze-excitation: channel means -> reduce (C -> S) + SiLU -> expand (S -> C) + sigmoid -> scale every pixel
    /// of the map in place. The channel sums come from the depthwise kernel's epilogue.
    /// </summary>
    public static class SqueezeExcitation
    {
        /// <param name="activations">[pixels, channels], scaled in place</param>
        /// <param name="channelSums">[channels] sums over all pixels; overwritten (used as scratch for the gate)</param>
        /// <param name="reduceWeights">[squeezeChannels, channels]</param>
        /// <param name="expandWeights">[squeezeChannels, channels] (transposed from torchvision's [C, S])</param>
        /// <param name="squeeze">[squeezeChannels] scratch</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(Span<float> activations, int pixels, int channels, Span<float> channelSums,
                               ReadOnlySpan<float> reduceWeights, ReadOnlySpan<float> reduceBias,
                               ReadOnlySpan<float> expandWeights, ReadOnlySpan<float> expandBias,
                               int squeezeChannels, Span<float> squeeze)
        {
            Check.Length(activations.Length, (long)pixels * channels, nameof(activations));
            Check.Length(channelSums.Length, channels, nameof(channelSums));
            Check.Length(reduceWeights.Length, (long)squeezeChannels * channels, nameof(reduceWeights));
            Check.Length(reduceBias.Length, squeezeChannels, nameof(reduceBias));
            Check.Length(expandWeights.Length, (long)squeezeChannels * channels, nameof(expandWeights));
            Check.Length(expandBias.Length, channels, nameof(expandBias));
            Check.Length(squeeze.Length, squeezeChannels, nameof(squeeze));

            Span<float> gate = channelSums.Slice(0, channels);
            TensorPrimitives.Divide(gate, pixels, gate); // sums -> means

            for (int s = 0; s < squeezeChannels; s++)
                squeeze[s] = Simd.SiLU(TensorPrimitives.Dot(reduceWeights.Slice(s * channels, channels), gate) + reduceBias[s]);

            expandBias.Slice(0, channels).CopyTo(gate); // the means are no longer needed
            for (int s = 0; s < squeezeChannels; s++)
                TensorPrimitives.MultiplyAdd(expandWeights.Slice(s * channels, channels), squeeze[s], gate, gate);
            TensorPrimitives.Sigmoid(gate, gate);

            Scale(activations, pixels, channels, gate);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        static void Scale(Span<float> activations, int pixels, int channels, ReadOnlySpan<float> gate)
        {
            ref float a = ref MemoryMarshal.GetReference(activations);
            ref float g = ref MemoryMarshal.GetReference(gate);
            int v = Simd.Width;
            int vectorChannels = channels - channels % v;
            for (int p = 0; p < pixels; p++)
            {
                int row = p * channels;
                int c = 0;
                for (; c < vectorChannels; c += v)
                    Simd.Store(Simd.Load(ref a, row + c) * Simd.Load(ref g, c), ref a, row + c);
                for (; c < channels; c++)
                    Simd.At(ref a, row + c) *= Simd.At(ref g, c);
            }
        }
    }
}
