using System;
using System.Runtime.CompilerServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// Squeeze-excitation gate: channel means -> reduce (C -> S) + SiLU -> expand (S -> C) + sigmoid. The depthwise kernel
    /// supplies the channel sums; the projection conv applies the gate to its input channels (folded into its weights),
    /// so the gated map is never written.
    /// </summary>
    public static unsafe class SqueezeExcitation
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

            fixed (float* g = gate, reduce = reduceWeights, expand = expandWeights, s = squeeze)
            {
                Simd.Scale(g, 1f / pixels, channels); // sums -> means
                for (int i = 0; i < squeezeChannels; i++)
                    s[i] = Simd.SiLU(Simd.Dot(reduce + (long)i * channels, g, channels) + reduceBias[i]);

                expandBias.Slice(0, channels).CopyTo(gate); // the means are no longer needed
                for (int i = 0; i < squeezeChannels; i++)
                    Simd.MultiplyAdd(expand + (long)i * channels, s[i], g, channels);
                Simd.Sigmoid(g, channels);
            }
        }

        /// <summary>Multiplies every pixel's channels by the gate, in place: the gated map for the projection.</summary>
        /// <param name="map">[pixels, channels]</param>
        /// <param name="gate">[channels]</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void ScaleChannels(Span<float> map, ReadOnlySpan<float> gate, int pixels, int channels)
        {
            Check.Length(map.Length, (long)pixels * channels, nameof(map));
            Check.Length(gate.Length, channels, nameof(gate));
            fixed (float* x = map, g = gate)
            {
                for (int p = 0; p < pixels; p++)
                    Simd.Multiply(x + (long)p * channels, g, channels);
            }
        }
    }
}
