using System;
using System.Numerics.Tensors;
using EffNet.Kernels;

namespace EffNet.Training.Kernels
{
    /// <summary>
    /// Squeeze-excitation for training: the forward pass keeping what its backward pass reads, and that backward pass.
    /// m = mean over pixels of the map x; r = SiLU(Wr m + br) (reduce, [S, C]); g = sigmoid(Weᵀ r + be) (expand,
    /// [S, C]); output = x * g per channel.
    /// </summary>
    static class SqueezeExcitationBackward
    {
        /// <summary>What the forward pass keeps: the channel means, the reduced vector before and after SiLU, and the gate.</summary>
        public sealed class Saved(int channels, int squeeze)
        {
            public float[] Means { get; } = new float[channels];
            public float[] ReducedInput { get; } = new float[squeeze];
            public float[] Reduced { get; } = new float[squeeze];
            public float[] Gate { get; } = new float[channels];
        }

        /// <summary>gated = map * gate; <paramref name="saved"/> receives the intermediates.</summary>
        public static void Forward(ReadOnlySpan<float> map, int pixels, int channels,
                                   ReadOnlySpan<float> reduceWeights, ReadOnlySpan<float> reduceBias,
                                   ReadOnlySpan<float> expandWeights, ReadOnlySpan<float> expandBias, int squeeze,
                                   Saved saved, Span<float> gated)
        {
            Span<float> means = saved.Means;
            means.Clear();
            for (int p = 0; p < pixels; p++)
                TensorPrimitives.Add(means, map.Slice(p * channels, channels), means);
            TensorPrimitives.Multiply(means, 1f / pixels, means);
            for (int s = 0; s < squeeze; s++)
                saved.ReducedInput[s] = TensorPrimitives.Dot(reduceWeights.Slice(s * channels, channels), means) + reduceBias[s];
            ActivationBackward.Forward(saved.ReducedInput, saved.Reduced, Activation.SiLU);
            Span<float> gate = saved.Gate;
            expandBias.CopyTo(gate);
            for (int s = 0; s < squeeze; s++)
                TensorPrimitives.MultiplyAdd(expandWeights.Slice(s * channels, channels), saved.Reduced[s], gate, gate);
            TensorPrimitives.Sigmoid(gate, gate);
            for (int p = 0; p < pixels; p++)
                TensorPrimitives.Multiply(map.Slice(p * channels, channels), gate, gated.Slice(p * channels, channels));
        }

        /// <summary>
        /// Turns <paramref name="gradient"/> from the gradient of the gated map into that of <paramref name="map"/> (in
        /// place), and adds the gradients of the reduce and expand weights and biases.
        /// </summary>
        /// <param name="scratch">at least channels + squeeze floats</param>
        public static void Run(ReadOnlySpan<float> map, int pixels, int channels, int squeeze, Saved saved,
                               ReadOnlySpan<float> reduceWeights, ReadOnlySpan<float> expandWeights,
                               Span<float> gradient, Span<float> gradReduceWeights, Span<float> gradReduceBias,
                               Span<float> gradExpandWeights, Span<float> gradExpandBias, Span<float> scratch)
        {
            ReadOnlySpan<float> gate = saved.Gate;
            Span<float> gradGate = scratch.Slice(0, channels);
            Span<float> gradReduced = scratch.Slice(channels, squeeze);

            // Through the gate: d gate[c] = sum over pixels of d gated * map; then through its sigmoid.
            gradGate.Clear();
            for (int p = 0; p < pixels; p++)
                TensorPrimitives.FusedMultiplyAdd(gradient.Slice(p * channels, channels), map.Slice(p * channels, channels), gradGate, gradGate);
            for (int c = 0; c < channels; c++)
                gradGate[c] *= gate[c] * (1f - gate[c]);

            // Expand: gate input = Weᵀ r + be.
            TensorPrimitives.Add(gradExpandBias, gradGate, gradExpandBias);
            for (int s = 0; s < squeeze; s++)
            {
                Span<float> row = gradExpandWeights.Slice(s * channels, channels);
                TensorPrimitives.MultiplyAdd(gradGate, saved.Reduced[s], row, row);
                gradReduced[s] = TensorPrimitives.Dot(expandWeights.Slice(s * channels, channels), gradGate)
                                 * ActivationBackward.Derivative(saved.ReducedInput[s], Activation.SiLU);
            }

            // Reduce: r input = Wr m + br; then the mean spreads its gradient evenly over the pixels.
            TensorPrimitives.Add(gradReduceBias, gradReduced, gradReduceBias);
            Span<float> gradMeans = gradGate; // the gate's gradient is no longer needed
            gradMeans.Clear();
            for (int s = 0; s < squeeze; s++)
            {
                Span<float> row = gradReduceWeights.Slice(s * channels, channels);
                TensorPrimitives.MultiplyAdd(saved.Means, gradReduced[s], row, row);
                TensorPrimitives.MultiplyAdd(reduceWeights.Slice(s * channels, channels), gradReduced[s], gradMeans, gradMeans);
            }
            TensorPrimitives.Multiply(gradMeans, 1f / pixels, gradMeans);
            for (int p = 0; p < pixels; p++)
            {
                Span<float> pixel = gradient.Slice(p * channels, channels);
                TensorPrimitives.Multiply(pixel, gate, pixel);
                TensorPrimitives.Add(pixel, gradMeans, pixel);
            }
        }
    }
}
