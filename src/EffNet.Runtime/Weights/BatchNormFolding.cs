using System;

namespace EffNet
{
    /// <summary>BatchNorm epsilon conventions, and the fold of a BatchNorm into the conv before it.</summary>
    public static class BatchNormFolding
    {
        /// <summary>PyTorch's default, used by torchvision B0..B4 and timm <c>efficientnet_b*</c>.</summary>
        public const float PyTorchEpsilon = 1e-5f;

        /// <summary>TensorFlow's default, used by torchvision B5..B7 (ported TF weights) and timm <c>tf_efficientnet_b*</c>.</summary>
        public const float TensorFlowEpsilon = 1e-3f;

        /// <summary>The epsilon torchvision's <c>efficientnet_b{phi}</c> builds its BatchNorms with (1e-5 for B0..B4, 1e-3 for B5..B7).</summary>
        public static float TorchvisionEpsilon(int phi) => phi >= 5 ? TensorFlowEpsilon : PyTorchEpsilon;

        /// <summary>
        /// Per output channel: scale = gamma / sqrt(var + eps), shift = beta - mean * scale, so that
        /// BN(conv(x)) = (scale * W) x + shift. Computed in double and rounded once.
        /// </summary>
        public static void Fold(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance,
                                float epsilon, Span<double> scale, Span<float> shift)
        {
            for (int c = 0; c < gamma.Length; c++)
            {
                double s = gamma[c] / Math.Sqrt((double)variance[c] + epsilon);
                scale[c] = s;
                shift[c] = (float)(beta[c] - mean[c] * s);
            }
        }
    }
}
