using System;
using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace EffNet.Kernels
{
    /// <summary>
    /// The stem: a k x k strided convolution that reads the CHW image the user passes and writes an HWC map,
    /// vectorised over output channels, with bias and activation fused.
    /// </summary>
    public static unsafe class StemConvolution
    {
        /// <param name="image">[inChannels, inHeight, inWidth] (CHW, as torchvision takes it)</param>
        /// <param name="weights">[kernel, kernel, inChannels, outChannels], BatchNorm folded in</param>
        /// <param name="bias">[outChannels]</param>
        /// <param name="output">[outHeight, outWidth, outChannels]</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> image, int inChannels, int inHeight, int inWidth,
                               ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int kernel, int stride, int padTop, int padLeft,
                               Span<float> output, int outHeight, int outWidth, int outChannels, Activation activation)
        {
            Check.Length(image.Length, (long)inChannels * inHeight * inWidth, nameof(image));
            Check.Length(weights.Length, (long)kernel * kernel * inChannels * outChannels, nameof(weights));
            Check.Length(bias.Length, outChannels, nameof(bias));
            Check.Length(output.Length, (long)outHeight * outWidth * outChannels, nameof(output));

            int taps = kernel * kernel * inChannels;
            // The receptive field of one output pixel, in weight order (row, column, channel), zeros where it is padding.
            Span<float> patchBuffer = taps <= 256 ? stackalloc float[taps] : new float[taps];
            fixed (float* x = image, w = weights, b = bias, y = output, patch = patchBuffer)
            {
                int wide = Vector512.IsHardwareAccelerated ? outChannels - outChannels % 16 : 0;
                int narrow = outChannels - (outChannels - wide) % Vector<float>.Count;
                int plane = inHeight * inWidth;
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int iy0 = oy * stride - padTop;
                    for (int ox = 0; ox < outWidth; ox++)
                    {
                        int ix0 = ox * stride - padLeft;
                        if (iy0 >= 0 && ix0 >= 0 && iy0 + kernel <= inHeight && ix0 + kernel <= inWidth)
                        {
                            // The whole window is inside: no bounds to check per tap.
                            for (int ky = 0, t = 0; ky < kernel; ky++)
                            {
                                float* row = x + (iy0 + ky) * inWidth + ix0;
                                for (int kx = 0; kx < kernel; kx++)
                                    for (int ci = 0; ci < inChannels; ci++, t++)
                                        patch[t] = row[ci * plane + kx];
                            }
                        }
                        else
                        {
                            for (int ky = 0, t = 0; ky < kernel; ky++)
                                for (int kx = 0; kx < kernel; kx++)
                                {
                                    int iy = iy0 + ky, ix = ix0 + kx;
                                    bool inside = (uint)iy < (uint)inHeight && (uint)ix < (uint)inWidth;
                                    for (int ci = 0; ci < inChannels; ci++, t++)
                                        patch[t] = inside ? x[ci * plane + iy * inWidth + ix] : 0f;
                                }
                        }

                        float* to = y + ((long)oy * outWidth + ox) * outChannels;
                        int c = 0;
                        for (; c + 32 <= wide; c += 32)
                        {
                            // Two vectors of output channels share each broadcast tap.
                            Vector512<float> acc0 = Vector512.Load(b + c), acc1 = Vector512.Load(b + c + 16);
                            float* tap = w + c;
                            for (int t = 0; t < taps; t++, tap += outChannels)
                            {
                                Vector512<float> v = Vector512.Create(patch[t]);
                                acc0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(tap), acc0);
                                acc1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(tap + 16), acc1);
                            }
                            Simd.Activate(acc0, activation).Store(to + c);
                            Simd.Activate(acc1, activation).Store(to + c + 16);
                        }
                        for (; c < wide; c += 16)
                        {
                            Vector512<float> acc = Vector512.Load(b + c);
                            for (int t = 0; t < taps; t++)
                                acc = Vector512.FusedMultiplyAdd(Vector512.Create(patch[t]), Vector512.Load(w + t * outChannels + c), acc);
                            Simd.Activate(acc, activation).Store(to + c);
                        }
                        for (c = wide; c < narrow; c += Vector<float>.Count)
                        {
                            Vector<float> acc = Vector.Load(b + c);
                            for (int t = 0; t < taps; t++)
                                acc = Simd.MultiplyAdd(new Vector<float>(patch[t]), Vector.Load(w + t * outChannels + c), acc);
                            Simd.Activate(acc, activation).Store(to + c);
                        }
                        for (c = narrow; c < outChannels; c++)
                        {
                            float acc = b[c];
                            for (int t = 0; t < taps; t++)
                                acc += patch[t] * w[t * outChannels + c];
                            to[c] = Simd.Activate(acc, activation);
                        }
                    }
                }
            }
        }
    }
}
