using System;
using System.Numerics;
using System.Runtime.InteropServices;
using EffNet.Model;

namespace EffNet
{
    /// <summary>
    /// Weight levels with one symmetric scale per output channel (the channel's largest magnitude is the top level, 127
    /// for s8 and 32767 for s16; weight = scale x level): how an int8 blob stores every weight but the stem's. The
    /// quantiser makes them; the loader widens those of float32 layers back to floats, and the int8 GEMM reads the s8
    /// levels of the int8 layers as they are.
    /// </summary>
    static class WeightLevels
    {
        /// <summary>
        /// <paramref name="layer"/>'s weights (in <see cref="ConvLayer.PackedWeightShape"/> order) to levels of
        /// <see cref="ConvLayer.LevelBytes"/> each, written into <paramref name="storage"/> (the weight tensor's floats in
        /// the blob), and one scale per output channel. Returns the largest scale, for the report.
        /// </summary>
        public static float Quantize(ReadOnlySpan<float> weights, ConvLayer layer, Span<float> storage, Span<float> scales)
            => layer.LevelBytes == 2
                ? Quantize(weights, layer, Levels<short>(storage, layer), scales)
                : Quantize(weights, layer, Levels<sbyte>(storage, layer), scales);

        /// <summary>Levels back to floats: <paramref name="weights"/>[i] = scale of i's output channel x level i.</summary>
        public static void Widen(ReadOnlySpan<float> storage, ReadOnlySpan<float> scales, ConvLayer layer, Span<float> weights)
        {
            if (layer.LevelBytes == 2) Widen(Levels<short>(storage, layer), scales, layer, weights);
            else Widen(Levels<sbyte>(storage, layer), scales, layer, weights);
        }

        static float Quantize<T>(ReadOnlySpan<float> weights, ConvLayer layer, Span<T> levels, Span<float> scales) where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
        {
            int outChannels = layer.OutChannels;
            float top = float.CreateTruncating(T.MaxValue);
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
                scales[c] = largest[c] > 0 ? largest[c] / top : 1f; // an all-zero channel: any scale gives zeros
                worst = Math.Max(worst, scales[c]);
            }
            for (int i = 0; i < weights.Length; i++)
                levels[i] = T.CreateTruncating(Math.Clamp(MathF.Round(weights[i] / scales[OutputChannel(layer, i)]), -top, top));
            return worst;
        }

        static void Widen<T>(ReadOnlySpan<T> levels, ReadOnlySpan<float> scales, ConvLayer layer, Span<float> weights) where T : struct, IBinaryInteger<T>
        {
            for (int i = 0; i < levels.Length; i++)
                weights[i] = scales[OutputChannel(layer, i)] * float.CreateTruncating(levels[i]);
        }

        static Span<T> Levels<T>(Span<float> storage, ConvLayer layer) where T : struct => MemoryMarshal.Cast<float, T>(storage).Slice(0, (int)layer.WeightLength);

        static ReadOnlySpan<T> Levels<T>(ReadOnlySpan<float> storage, ConvLayer layer) where T : struct => MemoryMarshal.Cast<float, T>(storage).Slice(0, (int)layer.WeightLength);

        static int OutputChannel(ConvLayer layer, long element)
            => (int)(layer.OutputChannelLast ? element % layer.OutChannels : element / (layer.WeightLength / layer.OutChannels));
    }
}
