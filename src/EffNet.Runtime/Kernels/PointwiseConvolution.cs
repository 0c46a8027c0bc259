using System;
using System.Numerics;
using System.Runtime.InteropServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// 1x1 convolution on an HWC map, i.e. the GEMM output[P, N] = input[P, K] x weights[K, N] + bias, with the activation
    /// and an optional residual add fused into the store. Used for the expand, project and head convs.
    /// </summary>
    public static class PointwiseConvolution
    {
        const int Rows = 4; // pixels per micro-tile: 4 rows x 2 vectors = 8 independent accumulators

        /// <param name="input">[pixels, inChannels]</param>
        /// <param name="weights">[inChannels, outChannels], BatchNorm folded in</param>
        /// <param name="bias">[outChannels]</param>
        /// <param name="output">[pixels, outChannels]; must not overlap the input</param>
        /// <param name="residual">[pixels, outChannels] added after the activation, or empty</param>
        public static void Run(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output,
                               int pixels, int inChannels, int outChannels, Activation activation, ReadOnlySpan<float> residual = default)
        {
            Check.Length(input.Length, (long)pixels * inChannels, nameof(input));
            Check.Length(weights.Length, (long)inChannels * outChannels, nameof(weights));
            Check.Length(bias.Length, outChannels, nameof(bias));
            Check.Length(output.Length, (long)pixels * outChannels, nameof(output));
            bool hasResidual = !residual.IsEmpty;
            if (hasResidual)
                Check.Length(residual.Length, (long)pixels * outChannels, nameof(residual));

            ref float x = ref MemoryMarshal.GetReference(input);
            ref float w = ref MemoryMarshal.GetReference(weights);
            ref float b = ref MemoryMarshal.GetReference(bias);
            ref float y = ref MemoryMarshal.GetReference(output);
            ref float r = ref MemoryMarshal.GetReference(residual);
            int v = Simd.Width;

            int n = 0;
            for (; n + 2 * v <= outChannels; n += 2 * v)
                PanelOfTwoVectors(ref x, ref w, ref b, ref y, ref r, hasResidual, pixels, inChannels, outChannels, n, activation);
            for (; n + v <= outChannels; n += v)
                PanelOfOneVector(ref x, ref w, ref b, ref y, ref r, hasResidual, pixels, inChannels, outChannels, n, activation);
            for (; n < outChannels; n++)
                ScalarColumn(ref x, ref w, ref b, ref y, ref r, hasResidual, pixels, inChannels, outChannels, n, activation);
        }

        // Output columns [n, n + 2v) for every pixel; the weight panel (K x 2v) stays in cache across pixels.
        static void PanelOfTwoVectors(ref float x, ref float w, ref float b, ref float y, ref float r, bool hasResidual,
                                      int pixels, int k, int n, int col, Activation activation)
        {
            int v = Simd.Width;
            Vector<float> bias0 = Simd.Load(ref b, col), bias1 = Simd.Load(ref b, col + v);
            int p = 0;
            for (; p + Rows <= pixels; p += Rows)
            {
                Vector<float> a00 = bias0, a01 = bias1, a10 = bias0, a11 = bias1;
                Vector<float> a20 = bias0, a21 = bias1, a30 = bias0, a31 = bias1;
                int row0 = p * k, row1 = row0 + k, row2 = row1 + k, row3 = row2 + k;
                for (int i = 0; i < k; i++)
                {
                    Vector<float> w0 = Simd.Load(ref w, i * n + col), w1 = Simd.Load(ref w, i * n + col + v);
                    var x0 = new Vector<float>(Simd.At(ref x, row0 + i));
                    var x1 = new Vector<float>(Simd.At(ref x, row1 + i));
                    var x2 = new Vector<float>(Simd.At(ref x, row2 + i));
                    var x3 = new Vector<float>(Simd.At(ref x, row3 + i));
                    a00 = Simd.MultiplyAdd(x0, w0, a00); a01 = Simd.MultiplyAdd(x0, w1, a01);
                    a10 = Simd.MultiplyAdd(x1, w0, a10); a11 = Simd.MultiplyAdd(x1, w1, a11);
                    a20 = Simd.MultiplyAdd(x2, w0, a20); a21 = Simd.MultiplyAdd(x2, w1, a21);
                    a30 = Simd.MultiplyAdd(x3, w0, a30); a31 = Simd.MultiplyAdd(x3, w1, a31);
                }
                StorePair(a00, a01, ref y, ref r, hasResidual, p * n + col, activation);
                StorePair(a10, a11, ref y, ref r, hasResidual, (p + 1) * n + col, activation);
                StorePair(a20, a21, ref y, ref r, hasResidual, (p + 2) * n + col, activation);
                StorePair(a30, a31, ref y, ref r, hasResidual, (p + 3) * n + col, activation);
            }
            for (; p < pixels; p++)
            {
                Vector<float> a0 = bias0, a1 = bias1;
                int row = p * k;
                for (int i = 0; i < k; i++)
                {
                    var xi = new Vector<float>(Simd.At(ref x, row + i));
                    a0 = Simd.MultiplyAdd(xi, Simd.Load(ref w, i * n + col), a0);
                    a1 = Simd.MultiplyAdd(xi, Simd.Load(ref w, i * n + col + v), a1);
                }
                StorePair(a0, a1, ref y, ref r, hasResidual, p * n + col, activation);
            }
        }

        static void PanelOfOneVector(ref float x, ref float w, ref float b, ref float y, ref float r, bool hasResidual,
                                     int pixels, int k, int n, int col, Activation activation)
        {
            Vector<float> bias0 = Simd.Load(ref b, col);
            int p = 0;
            for (; p + Rows <= pixels; p += Rows)
            {
                Vector<float> a0 = bias0, a1 = bias0, a2 = bias0, a3 = bias0;
                int row0 = p * k, row1 = row0 + k, row2 = row1 + k, row3 = row2 + k;
                for (int i = 0; i < k; i++)
                {
                    Vector<float> wi = Simd.Load(ref w, i * n + col);
                    a0 = Simd.MultiplyAdd(new Vector<float>(Simd.At(ref x, row0 + i)), wi, a0);
                    a1 = Simd.MultiplyAdd(new Vector<float>(Simd.At(ref x, row1 + i)), wi, a1);
                    a2 = Simd.MultiplyAdd(new Vector<float>(Simd.At(ref x, row2 + i)), wi, a2);
                    a3 = Simd.MultiplyAdd(new Vector<float>(Simd.At(ref x, row3 + i)), wi, a3);
                }
                StoreOne(a0, ref y, ref r, hasResidual, p * n + col, activation);
                StoreOne(a1, ref y, ref r, hasResidual, (p + 1) * n + col, activation);
                StoreOne(a2, ref y, ref r, hasResidual, (p + 2) * n + col, activation);
                StoreOne(a3, ref y, ref r, hasResidual, (p + 3) * n + col, activation);
            }
            for (; p < pixels; p++)
            {
                Vector<float> a = bias0;
                int row = p * k;
                for (int i = 0; i < k; i++)
                    a = Simd.MultiplyAdd(new Vector<float>(Simd.At(ref x, row + i)), Simd.Load(ref w, i * n + col), a);
                StoreOne(a, ref y, ref r, hasResidual, p * n + col, activation);
            }
        }

        // Only reached when the channel count is not a multiple of the vector width (e.g. 24 channels with 16-float vectors).
        static void ScalarColumn(ref float x, ref float w, ref float b, ref float y, ref float r, bool hasResidual,
                                 int pixels, int k, int n, int col, Activation activation)
        {
            for (int p = 0; p < pixels; p++)
            {
                float a = Simd.At(ref b, col);
                for (int i = 0; i < k; i++)
                    a += Simd.At(ref x, p * k + i) * Simd.At(ref w, i * n + col);
                a = Simd.Activate(a, activation);
                if (hasResidual) a += Simd.At(ref r, p * n + col);
                Simd.At(ref y, p * n + col) = a;
            }
        }

        static void StorePair(Vector<float> a0, Vector<float> a1, ref float y, ref float r, bool hasResidual, int at, Activation activation)
        {
            StoreOne(a0, ref y, ref r, hasResidual, at, activation);
            StoreOne(a1, ref y, ref r, hasResidual, at + Simd.Width, activation);
        }

        static void StoreOne(Vector<float> a, ref float y, ref float r, bool hasResidual, int at, Activation activation)
        {
            a = Simd.Activate(a, activation);
            if (hasResidual) a += Simd.Load(ref r, at);
            Simd.Store(a, ref y, at);
        }
    }
}
