using System;
using System.Numerics.Tensors;

namespace EffNet.Training.Kernels
{
    /// <summary>
    /// The end of the network for training: softmax cross-entropy on the logits, the classifier (Linear, [classes,
    /// features]) and the global average pool, backward.
    /// </summary>
    static class ClassifierBackward
    {
        /// <summary>The cross-entropy of <paramref name="logits"/> for class <paramref name="truth"/>; <paramref name="gradient"/> receives (softmax - one-hot) x <paramref name="weight"/>.</summary>
        public static float CrossEntropy(ReadOnlySpan<float> logits, int truth, float weight, Span<float> gradient)
        {
            TensorPrimitives.SoftMax(logits, gradient);
            float loss = -MathF.Log(Math.Max(gradient[truth], 1e-30f));
            gradient[truth] -= 1f;
            TensorPrimitives.Multiply(gradient, weight, gradient);
            return loss;
        }

        /// <summary>Adds dlogits ⊗ features to the weight gradient and dlogits to the bias's; writes the features' gradient.</summary>
        public static void Linear(ReadOnlySpan<float> features, ReadOnlySpan<float> weights, ReadOnlySpan<float> gradLogits,
                                  Span<float> gradWeights, Span<float> gradBias, Span<float> gradFeatures)
        {
            int d = features.Length;
            gradFeatures.Clear();
            for (int k = 0; k < gradLogits.Length; k++)
            {
                Span<float> row = gradWeights.Slice(k * d, d);
                TensorPrimitives.MultiplyAdd(features, gradLogits[k], row, row);
                TensorPrimitives.MultiplyAdd(weights.Slice(k * d, d), gradLogits[k], gradFeatures, gradFeatures);
            }
            TensorPrimitives.Add(gradBias, gradLogits, gradBias);
        }

        /// <summary>The global average pool backward: every pixel gets the pooled gradient over the pixel count.</summary>
        public static void Pool(ReadOnlySpan<float> gradPooled, int pixels, Span<float> gradMap)
        {
            int c = gradPooled.Length;
            TensorPrimitives.Multiply(gradPooled, 1f / pixels, gradMap.Slice(0, c));
            for (int p = 1; p < pixels; p++)
                gradMap.Slice(0, c).CopyTo(gradMap.Slice(p * c, c));
        }
    }
}
