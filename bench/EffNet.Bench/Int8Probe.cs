using System;
using System.Linq;
using EffNet.Kernels;

namespace EffNet.Bench
{
    /// <summary>
    /// The int8 1x1 conv against the fp32 one on the shapes of real layers, one thread, best of several runs: the first
    /// measure of what int8 can buy before any network runs it.
    /// </summary>
    static class Int8Probe
    {
        public static int Run()
        {
            Peaks();
            Console.WriteLine($"int8 1x1 conv ({PointwiseConvolutionInt8.Widest} path) against fp32, one thread, best of 15");
            Console.WriteLine("| layer | pixels x K x N | fp32 ms | int8 ms | int8 / fp32 | fp32 GMAC/s | int8 GMAC/s |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            // Each layer with its own activation; int8 writes the u8 map the next int8 layer would read.
            foreach ((string name, int pixels, int k, int n, Activation activation) in new[]
            {
                ("B0 features.2.1 expand", 56 * 56, 24, 144, Activation.SiLU), ("B0 features.3.1 project", 28 * 28, 240, 40, Activation.None),
                ("B0 features.5.1 expand", 14 * 14, 112, 672, Activation.SiLU), ("B0 features.6.1 project", 7 * 7, 1152, 192, Activation.None),
                ("B0 head", 7 * 7, 320, 1280, Activation.SiLU), ("V2-S features.4.1 expand", 24 * 24, 128, 512, Activation.SiLU),
                ("Lite0 blocks.2.1 expand", 28 * 28, 40, 240, Activation.ReLU6),
            })
            {
                var random = new Random(n);
                float[] x = Enumerable.Range(0, pixels * k).Select(_ => (float)random.NextDouble()).ToArray();
                float[] w = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
                float[] bias = new float[n], y = new float[pixels * n];
                byte[] xq = x.Select(v => (byte)(v * 255)).ToArray();
                sbyte[] wq = w.Select(v => (sbyte)(v * 254)).ToArray();
                var packed = new sbyte[PointwiseConvolutionInt8.PackedLength(k, n)];
                PointwiseConvolutionInt8.PackWeights(wq, k, n, packed);
                float[] scales = Enumerable.Repeat(0.001f, n).ToArray();
                var q = new byte[pixels * n];

                double fp32 = Timing.BestOf(() => PointwiseConvolution.Run(x, w, bias, y, pixels, k, n, activation), runs: 15);
                double int8 = Timing.BestOf(() => PointwiseConvolutionInt8.Run(xq, pixels, k, 0.004f, packed, scales, bias, n,
                    activation, Span<float>.Empty, default, q, 0.05f, 10), runs: 15);
                double macs = (double)pixels * k * n;
                Console.WriteLine($"| {name} | {pixels} x {k} x {n} | {fp32:F3} | {int8:F3} | {int8 / fp32:F2} | {macs / fp32 / 1e6:F1} | {macs / int8 / 1e6:F1} |");
            }
            return 0;
        }

        /// <summary>
        /// Register-only loops of 12 independent chains: 256-bit vpdpbusd (32 u8 x s8 multiply-adds each) against 512-bit
        /// FMA (16 each). What the instructions deliver on this core bounds what int8 can gain over fp32 in the GEMM.
        /// </summary>
        static void Peaks()
        {
            const int iterations = 20_000_000;
            if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
            {
                double ms = Timing.BestOf(() => VnniChains(iterations), runs: 5);
                Console.WriteLine($"vpdpbusd ymm, 12 chains: {12.0 * 32 * iterations / ms / 1e6:F1} GMAC/s");
            }
            double fma = Timing.BestOf(() => FmaChains(iterations), runs: 5);
            Console.WriteLine($"vfmadd zmm, 12 chains: {12.0 * 16 * iterations / fma / 1e6:F1} GMAC/s");
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static int VnniChains(int iterations)
        {
            var b = System.Runtime.Intrinsics.Vector256.Create((byte)3);
            var w = System.Runtime.Intrinsics.Vector256.Create((sbyte)-2);
            System.Runtime.Intrinsics.Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
            System.Runtime.Intrinsics.Vector256<int> a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
            for (int i = 0; i < iterations; i++)
            {
                a0 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a0, b, w); a1 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a1, b, w);
                a2 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a2, b, w); a3 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a3, b, w);
                a4 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a4, b, w); a5 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a5, b, w);
                a6 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a6, b, w); a7 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a7, b, w);
                a8 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a8, b, w); a9 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a9, b, w);
                a10 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a10, b, w); a11 = System.Runtime.Intrinsics.X86.AvxVnni.MultiplyWideningAndAdd(a11, b, w);
            }
            var sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
            return System.Runtime.Intrinsics.Vector256.GetElement(sum, 0);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static float FmaChains(int iterations)
        {
            var b = System.Runtime.Intrinsics.Vector512.Create(1.0000001f);
            var w = System.Runtime.Intrinsics.Vector512.Create(0.9999999f);
            System.Runtime.Intrinsics.Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
            System.Runtime.Intrinsics.Vector512<float> a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
            for (int i = 0; i < iterations; i++)
            {
                a0 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a0); a1 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a1);
                a2 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a2); a3 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a3);
                a4 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a4); a5 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a5);
                a6 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a6); a7 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a7);
                a8 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a8); a9 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a9);
                a10 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a10); a11 = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(b, w, a11);
            }
            var sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
            return System.Runtime.Intrinsics.Vector512.GetElement(sum, 0);
        }
    }
}