using System;
using System.Diagnostics;
using EffNet.Kernels;

namespace EffNet.Bench
{
    /// <summary>Times single kernels on B0-sized shapes (GFLOP/s), to see which one falls short.</summary>
    static class KernelProbe
    {
        public static int Run()
        {
            Pointwise(12544, 16, 96, Activation.SiLU);
            Pointwise(12544, 16, 96, Activation.None);
            Pointwise(3136, 144, 24, Activation.None);
            Pointwise(196, 480, 80, Activation.None);
            Pointwise(49, 1152, 192, Activation.None);
            Pointwise(49, 320, 1280, Activation.SiLU);
            Pointwise(784, 40, 240, Activation.SiLU);
            Stem(224, 32);
            Depthwise(112, 96, 3, 2);
            Depthwise(56, 144, 3, 1);
            Depthwise(14, 672, 5, 1);
            // Without the activation: how much of a depthwise conv is its SiLU.
            Depthwise(56, 144, 3, 1, Activation.None);
            Depthwise(14, 672, 5, 1, Activation.None);
            // The finite-input check every Run and Features makes, at B0's and B7's input sizes.
            InputCheck(224);
            InputCheck(600);
            return 0;
        }

        static void InputCheck(int size)
        {
            var image = Random(3 * size * size);
            double ms = Time(() => ModelSession.CheckImage(image, size, size));
            Console.WriteLine($"input check 3x{size}x{size}: {ms * 1000:F1} us, {3.0 * size * size * sizeof(float) / ms / 1e6:F1} GB/s");
        }

        static void Pointwise(int p, int k, int n, Activation activation)
        {
            var x = Random(p * k); var w = Random(k * n); var b = Random(n); var y = new float[p * n];
            double ms = Time(() => PointwiseConvolution.Run(x, w, b, y, p, k, n, activation));
            Console.WriteLine($"pointwise P={p} K={k} N={n} {activation}: {ms:F3} ms, {2.0 * p * k * n / ms / 1e6:F1} GFLOP/s");
        }

        static void Depthwise(int size, int c, int kernel, int stride, Activation activation = Activation.SiLU)
        {
            int o = (size + stride - 1) / stride;
            var x = Random(size * size * c); var w = Random(kernel * kernel * c); var b = Random(c); var y = new float[o * o * c]; var sums = new float[c];
            double ms = Time(() => DepthwiseConvolution.Run(x, size, size, c, w, b, kernel, stride, kernel / 2, kernel / 2, y, o, o, activation, sums));
            Console.WriteLine($"depthwise {size}x{size}x{c} k{kernel} s{stride} {activation}: {ms:F3} ms, {2.0 * o * o * c * kernel * kernel / ms / 1e6:F1} GFLOP/s");
        }

        static void Stem(int size, int channels)
        {
            int o = size / 2;
            var x = Random(3 * size * size); var w = Random(27 * channels); var b = Random(channels); var y = new float[o * o * channels];
            double ms = Time(() => StemConvolution.Run(x, 3, size, size, w, b, 3, 2, 1, 1, y, o, o, channels, Activation.SiLU));
            Console.WriteLine($"stem {size}x{size} -> {channels}: {ms:F3} ms, {2.0 * o * o * channels * 27 / ms / 1e6:F1} GFLOP/s");
        }

        static float[] Random(int n)
        {
            var r = new Random(1);
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() - 0.5);
            return a;
        }

        static double Time(Action action) => Timing.BestOf(action, runs: 20, warmups: 5);
    }
}
