using System;
using EffNet.Model;

namespace EffNet
{
    /// <summary>
    /// s8 weight levels with one symmetric scale per output channel (the channel's largest magnitude is level 127,
    /// weight = scale x level): how an int8 blob stores every weight but the classifier's. The quantiser makes them; the
    /// loader widens those of float32 layers back to floats, and the int8 GEMM reads the rest as they are.
    /// </summary>
    static class WeightLevels
    {
        /// <summary>
        /// <paramref name="layer"/>'s weights (in <see cref="ConvLayer.PackedWeightShape"/> order) to levels and one scale
        /// per output channel. Returns the largest scale, for the report.
        /// </summary>
        public static float Quantize(ReadOnlySpan<float> weights, ConvLayer layer, Span<sbyte> levels, Span<float> scales)
        {
            int outChannels = layer.OutChannels;
            Span<float> largest = scales.Slice(0, outChannels);
            largest.Clear();
            for (int i = 0; i < weights.Length; i++)
            {
                int c = OutputChannel(layer, i);
                largest[c] = Math.Max(largest[c], Math.Abs(weights[i]));
            }
            float worst = 0;
            for (int c = 0; c < outChannels; c++)
            {
                scales[c] = largest[c] > 0 ? largest[c] / 127f : 1f; // an all-zero channel: any scale gives zeros
                worst = Math.Max(worst, scales[c]);
            }
            for (int i = 0; i < weights.Length; i++)
                levels[i] = (sbyte)Math.Clamp((int)MathF.Round(weights[i] / scales[OutputChannel(layer, i)]), -127, 127);
            return worst;
        }

        /// <summary>Levels back to floats: <paramref name="weights"/>[i] = scale of i's output channel x level i.</summary>
        public static void Widen(ReadOnlySpan<sbyte> levels, ReadOnlySpan<float> scales, ConvLayer layer, Span<float> weights)
        {
            for (int i = 0; i < levels.Length; i++)
                weights[i] = scales[OutputChannel(layer, i)] * levels[i];
        }

        static int OutputChannel(ConvLayer layer, long element)
            => (int)(layer.OutputChannelLast ? element % layer.OutChannels : element / (layer.WeightLength / layer.OutChannels));
    }
}
