using System;
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
        public static void Run(ReadOnlySpan<float> image, int inChannels, int inHeight, int inWidth,
                               ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int kernel, int stride, int padTop, int padLeft,
                               Span<float> output, int outHeight, int outWidth, int outChannels, Activation activation)
        {
            Check.Length(image.Length, (long)inChannels * inHeight * inWidth, nameof(image));
            Check.Length(weights.Length, (long)kernel * kernel * inChannels * outChannels, nameof(weights));
            Check.Length(bias.Length, outChannels, nameof(bias));
            Check.Length(output.Length, (long)outHeight * outWidth * outChannels, nameof(output));

            ref float x = ref MemoryMarshal.GetReference(image);
            ref float w = ref MemoryMarshal.GetReference(weights);
            ref float b = ref MemoryMarshal.GetReference(bias);
            ref float y = ref MemoryMarshal.GetReference(output);
            int v = Simd.Width;
            int vectorChannels = outChannels - outChannels % v;
            int plane = inHeight * inWidth;

            for (int oy = 0; oy < outHeight; oy++)
            {
                int iy0 = oy * stride - padTop;
                int kyBegin = Math.Max(0, -iy0), kyEnd = Math.Min(kernel, inHeight - iy0);
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int ix0 = ox * stride - padLeft;
                    int kxBegin = Math.Max(0, -ix0), kxEnd = Math.Min(kernel, inWidth - ix0);
                    int outAt = (oy * outWidth + ox) * outChannels;

                    for (int c = 0; c < vectorChannels; c += v)
                    {
                        Vector<float> acc = Simd.Load(ref b, c);
                        for (int ky = kyBegin; ky < kyEnd; ky++)
                            for (int kx = kxBegin; kx < kxEnd; kx++)
                                for (int ci = 0; ci < inChannels; ci++)
                                {
                                    var pixel = new Vector<float>(Simd.At(ref x, ci * plane + (iy0 + ky) * inWidth + ix0 + kx));
                                    acc = Simd.MultiplyAdd(pixel, Simd.Load(ref w, ((ky * kernel + kx) * inChannels + ci) * outChannels + c), acc);
                                }
                        Simd.Store(Simd.Activate(acc, activation), ref y, outAt + c);
                    }
                    for (int c = vectorChannels; c < outChannels; c++)
                    {
                        float acc = Simd.At(ref b, c);
                        for (int ky = kyBegin; ky < kyEnd; ky++)
                            for (int kx = kxBegin; kx < kxEnd; kx++)
                                for (int ci = 0; ci < inChannels; ci++)
                                    acc += Simd.At(ref x, ci * plane + (iy0 + ky) * inWidth + ix0 + kx) * Simd.At(ref w, ((ky * kernel + kx) * inChannels + ci) * outChannels + c);
                        Simd.At(ref y, outAt + c) = Simd.Activate(acc, activation);
                    }
                }
            }
        }
    }
}
