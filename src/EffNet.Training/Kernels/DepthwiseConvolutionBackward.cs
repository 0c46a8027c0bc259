using System;
using System.Numerics.Tensors;

namespace EffNet.Training.Kernels
{
    /// <summary>
    /// The depthwise k x k convolution's backward pass on HWC maps. Each output pixel's gradient flows to the input pixels
    /// under its window (times the tap's weights) and to the tap's weights (times those input pixels), all channels at once.
    /// </summary>
    static class DepthwiseConvolutionBackward
    {
        /// <param name="input">[inHeight, inWidth, channels], as the forward pass read it</param>
        /// <param name="weights">[kernel, kernel, channels]</param>
        /// <param name="gradOutput">[outHeight, outWidth, channels]</param>
        /// <param name="gradInput">receives the input's gradient, [inHeight, inWidth, channels]; empty when nothing needs it</param>
        /// <param name="gradWeights">[kernel, kernel, channels], added to</param>
        /// <param name="gradBias">[channels], added to</param>
        public static void Run(ReadOnlySpan<float> input, int inHeight, int inWidth, int channels,
                               ReadOnlySpan<float> weights, int kernel, int stride, int padTop, int padLeft,
                               ReadOnlySpan<float> gradOutput, int outHeight, int outWidth,
                               Span<float> gradInput, Span<float> gradWeights, Span<float> gradBias)
        {
            bool wantsInput = !gradInput.IsEmpty;
            if (wantsInput) gradInput.Clear();
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                {
                    ReadOnlySpan<float> g = gradOutput.Slice((oy * outWidth + ox) * channels, channels);
                    TensorPrimitives.Add(gradBias, g, gradBias);
                    for (int ky = 0; ky < kernel; ky++)
                    {
                        int iy = oy * stride - padTop + ky;
                        if ((uint)iy >= (uint)inHeight) continue;
                        for (int kx = 0; kx < kernel; kx++)
                        {
                            int ix = ox * stride - padLeft + kx;
                            if ((uint)ix >= (uint)inWidth) continue;
                            int at = (iy * inWidth + ix) * channels, tap = (ky * kernel + kx) * channels;
                            Span<float> tapGradient = gradWeights.Slice(tap, channels);
                            TensorPrimitives.FusedMultiplyAdd(g, input.Slice(at, channels), tapGradient, tapGradient);
                            if (wantsInput)
                            {
                                Span<float> pixel = gradInput.Slice(at, channels);
                                TensorPrimitives.FusedMultiplyAdd(g, weights.Slice(tap, channels), pixel, pixel);
                            }
                        }
                    }
                }
        }
    }
}
