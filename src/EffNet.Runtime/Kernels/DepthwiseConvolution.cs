using System;
using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.InteropServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// k x k depthwise convolution on an HWC map, vectorised over channels, with bias, activation and a running
    /// per-channel sum of the output (the squeeze-excitation pool) fused into the store.
    /// </summary>
    public static class DepthwiseConvolution
    {
        /// <param name="input">[inHeight, inWidth, channels]</param>
        /// <param name="weights">[kernel, kernel, channels], BatchNorm folded in</param>
        /// <param name="bias">[channels]</param>
        /// <param name="output">[outHeight, outWidth, channels]; must not overlap the input</param>
        /// <param name="channelSums">[channels]; receives the sum of every output channel over all pixels</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, int inHeight, int inWidth, int channels,
                               ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int kernel, int stride, int padTop, int padLeft,
                               Span<float> output, int outHeight, int outWidth, Activation activation, Span<float> channelSums)
        {
            Check.Length(input.Length, (long)inHeight * inWidth * channels, nameof(input));
            Check.Length(weights.Length, (long)kernel * kernel * channels, nameof(weights));
            Check.Length(bias.Length, channels, nameof(bias));
            Check.Length(output.Length, (long)outHeight * outWidth * channels, nameof(output));
            Check.Length(channelSums.Length, channels, nameof(channelSums));

            ref float x = ref MemoryMarshal.GetReference(input);
            ref float w = ref MemoryMarshal.GetReference(weights);
            ref float b = ref MemoryMarshal.GetReference(bias);
            ref float y = ref MemoryMarshal.GetReference(output);
            ref float sums = ref MemoryMarshal.GetReference(channelSums);
            channelSums.Slice(0, channels).Clear();
            int v = Simd.Width;
            int vectorChannels = channels - channels % v;

            for (int oy = 0; oy < outHeight; oy++)
            {
                // Taps that fall into the zero padding are skipped rather than read from a padded copy.
                int iy0 = oy * stride - padTop;
                int kyBegin = Math.Max(0, -iy0), kyEnd = Math.Min(kernel, inHeight - iy0);
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int ix0 = ox * stride - padLeft;
                    int kxBegin = Math.Max(0, -ix0), kxEnd = Math.Min(kernel, inWidth - ix0);
                    int outAt = (oy * outWidth + ox) * channels;

                    for (int c = 0; c < vectorChannels; c += v)
                    {
                        Vector<float> acc = Simd.Load(ref b, c);
                        for (int ky = kyBegin; ky < kyEnd; ky++)
                        {
                            int inRow = ((iy0 + ky) * inWidth + ix0) * channels + c;
                            int tapRow = ky * kernel * channels + c;
                            for (int kx = kxBegin; kx < kxEnd; kx++)
                                acc = Simd.MultiplyAdd(Simd.Load(ref x, inRow + kx * channels), Simd.Load(ref w, tapRow + kx * channels), acc);
                        }
                        acc = Simd.Activate(acc, activation);
                        Simd.Store(acc, ref y, outAt + c);
                        Simd.Store(Simd.Load(ref sums, c) + acc, ref sums, c);
                    }
                    for (int c = vectorChannels; c < channels; c++)
                    {
                        float acc = Simd.At(ref b, c);
                        for (int ky = kyBegin; ky < kyEnd; ky++)
                            for (int kx = kxBegin; kx < kxEnd; kx++)
                                acc += Simd.At(ref x, ((iy0 + ky) * inWidth + ix0 + kx) * channels + c) * Simd.At(ref w, (ky * kernel + kx) * channels + c);
                        acc = Simd.Activate(acc, activation);
                        Simd.At(ref y, outAt + c) = acc;
                        Simd.At(ref sums, c) += acc;
                    }
                }
            }
        }
    }
}
