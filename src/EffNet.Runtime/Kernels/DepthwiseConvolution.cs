using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EffNet.Kernels
{
    /// <summary>
    /// k x k depthwise convolution on an HWC map, vectorised over channels, with bias, activation and a running
    /// per-channel sum of the output (the squeeze-excitation pool) fused into the store.
    /// </summary>
    public static unsafe class DepthwiseConvolution
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
            channelSums.Slice(0, channels).Clear();

            fixed (float* x = input, w = weights, b = bias, y = output, sums = channelSums)
            {
                int wide = Vector512.IsHardwareAccelerated ? channels - channels % 16 : 0;
                int narrow = channels - (channels - wide) % Vector<float>.Count;
                long rowPitch = (long)inWidth * channels;
                for (int oy = 0; oy < outHeight; oy++)
                {
                    // Taps that fall into the zero padding are skipped rather than read from a padded copy.
                    int iy0 = oy * stride - padTop;
                    int kyBegin = Math.Max(0, -iy0), kyEnd = Math.Min(kernel, inHeight - iy0);
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        int ix0 = ox * stride - padLeft;
                        int kxBegin = Math.Max(0, -ix0), kxEnd = Math.Min(kernel, inWidth - ix0);
                        float* corner = x + iy0 * rowPitch + (long)ix0 * channels; // tap (0, 0), possibly outside
                        float* to = y + ((long)oy * outWidth + ox) * channels;

                        for (int c = 0; c < wide; c += 16)
                        {
                            Vector512<float> acc = Vector512.Load(b + c);
                            for (int ky = kyBegin; ky < kyEnd; ky++)
                            {
                                float* from = corner + ky * rowPitch + c;
                                float* tap = w + (long)ky * kernel * channels + c;
                                for (int kx = kxBegin; kx < kxEnd; kx++)
                                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(from + (long)kx * channels), Vector512.Load(tap + (long)kx * channels), acc);
                            }
                            acc = Simd.Activate(acc, activation);
                            acc.Store(to + c);
                            (Vector512.Load(sums + c) + acc).Store(sums + c);
                        }
                        for (int c = wide; c < narrow; c += Vector<float>.Count)
                        {
                            Vector<float> acc = Vector.Load(b + c);
                            for (int ky = kyBegin; ky < kyEnd; ky++)
                                for (int kx = kxBegin; kx < kxEnd; kx++)
                                    acc = Simd.MultiplyAdd(Vector.Load(corner + ky * rowPitch + (long)kx * channels + c), Vector.Load(w + ((long)ky * kernel + kx) * channels + c), acc);
                            acc = Simd.Activate(acc, activation);
                            acc.Store(to + c);
                            (Vector.Load(sums + c) + acc).Store(sums + c);
                        }
                        for (int c = narrow; c < channels; c++)
                        {
                            float acc = b[c];
                            for (int ky = kyBegin; ky < kyEnd; ky++)
                                for (int kx = kxBegin; kx < kxEnd; kx++)
                                    acc += corner[ky * rowPitch + (long)kx * channels + c] * w[((long)ky * kernel + kx) * channels + c];
                            acc = Simd.Activate(acc, activation);
                            to[c] = acc;
                            sums[c] += acc;
                        }
                    }
                }
            }
        }
    }
}
