using System;
using System.Runtime.CompilerServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// A dense k x k strided convolution on an HWC map (a Fused-MBConv's expand conv), with bias, activation and an optional
    /// residual fused: the stem's implicit GEMM (<see cref="StemConvolution"/>) reading channels-last windows.
    /// </summary>
    public static unsafe class Convolution
    {
        /// <param name="input">[inHeight, inWidth, inChannels]</param>
        /// <param name="weights">[kernel x kernel x inChannels, outChannels] (taps in row, column, channel order) in the panel
        /// order of <see cref="PointwiseConvolution.PackPanels"/>, BatchNorm folded in</param>
        /// <param name="bias">[outChannels]</param>
        /// <param name="output">[outHeight, outWidth, outChannels]; must not overlap the input</param>
        /// <param name="residual">[outHeight, outWidth, outChannels] added after the activation, or empty</param>
        /// <param name="workers">threads to split the output rows over, or null for the calling thread only</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, int inHeight, int inWidth, int inChannels,
                               ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int kernel, int stride, int padTop, int padLeft,
                               Span<float> output, int outHeight, int outWidth, int outChannels, Activation activation,
                               ReadOnlySpan<float> residual = default, Threading.WorkerPool? workers = null)
        {
            Check.Length(input.Length, (long)inHeight * inWidth * inChannels, nameof(input));
            Check.Length(weights.Length, (long)kernel * kernel * inChannels * outChannels, nameof(weights));
            Check.Length(bias.Length, outChannels, nameof(bias));
            Check.Length(output.Length, (long)outHeight * outWidth * outChannels, nameof(output));
            if (!residual.IsEmpty)
                Check.Length(residual.Length, (long)outHeight * outWidth * outChannels, nameof(residual));

            fixed (float* x = input, w = weights, b = bias, y = output, r = residual)
                new StemConvolution.Windows(x, channelsLast: true, inChannels, inHeight, inWidth, w, b, kernel, stride, padTop, padLeft,
                                            y, outWidth, outChannels, activation, residual.IsEmpty ? null : r).Run(outHeight, workers);
        }
    }
}
