using System;
using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.InteropServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// The stem: a k x k strided convolution that reads the CHW image the user passes and writes an HWC map,
    /// vectorised over output channels, with bias and activation fused.
    /// </summary>
    public static class StemConvolution
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

            ref float w = ref MemoryMarshal.GetReference(weights);
            ref float b = ref MemoryMarshal.GetReference(bias);
            ref float y = ref MemoryMarshal.GetReference(output);
            int v = Simd.Width;
            int vectorChannels = outChannels - outChannels % v;
            int plane = inHeight * inWidth;
            int taps = kernel * kernel * inChannels;

            // The receptive field of one output pixel, in weight order (row, column, channel), zeros where it is padding.
            Span<float> patch = taps <= 256 ? stackalloc float[taps] : new float[taps];
            ref float p = ref MemoryMarshal.GetReference(patch);

            for (int oy = 0; oy < outHeight; oy++)
            {
                int iy0 = oy * stride - padTop;
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int ix0 = ox * stride - padLeft;
                    for (int ky = 0, t = 0; ky < kernel; ky++)
                        for (int kx = 0; kx < kernel; kx++)
                        {
                            int iy = iy0 + ky, ix = ix0 + kx;
                            bool inside = (uint)iy < (uint)inHeight && (uint)ix < (uint)inWidth;
                            for (int ci = 0; ci < inChannels; ci++, t++)
                                patch[t] = inside ? image[ci * plane + iy * inWidth + ix] : 0f;
                        }

                    int outAt = (oy * outWidth + ox) * outChannels;
                    for (int c = 0; c < vectorChannels; c += v)
                    {
                        Vector<float> acc = Simd.Load(ref b, c);
                        for (int t = 0; t < taps; t++)
                            acc = Simd.MultiplyAdd(new Vector<float>(Simd.At(ref p, t)), Simd.Load(ref w, t * outChannels + c), acc);
                        Simd.Store(Simd.Activate(acc, activation), ref y, outAt + c);
                    }
                    for (int c = vectorChannels; c < outChannels; c++)
                    {
                        float acc = Simd.At(ref b, c);
                        for (int t = 0; t < taps; t++)
                            acc += Simd.At(ref p, t) * Simd.At(ref w, t * outChannels + c);
                        Simd.At(ref y, outAt + c) = Simd.Activate(acc, activation);
                    }
                }
            }
        }
    }
}
