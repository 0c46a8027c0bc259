using System;

namespace EffNet.Runtime.Tests.Kernels
{
    /// <summary>Seeded inputs for the kernel tests.</summary>
    static class KernelTestData
    {
        /// <summary><paramref name="length"/> values in [-1, 1), the same for the same seed.</summary>
        public static float[] Random(int length, int seed)
        {
            var random = new Random(seed);
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }

        /// <summary>
        /// A dense k x k convolution in double precision, before any activation, to an HWC map: the reference of the
        /// convolution kernels. The input is an HWC map, or with <paramref name="channelsLast"/> false a CHW image (the
        /// stem's). <paramref name="weights"/> are [k x k x in, out], taps in row, column, channel order.
        /// </summary>
        public static double[] DirectConvolution(float[] input, int height, int width, int inChannels, float[] weights, float[] bias,
                                                 int kernel, int stride, int padTop, int padLeft, int outHeight, int outWidth, int outChannels,
                                                 bool channelsLast = true)
        {
            var output = new double[outHeight * outWidth * outChannels];
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                    for (int co = 0; co < outChannels; co++)
                    {
                        double acc = bias[co];
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int iy = oy * stride - padTop + ky, ix = ox * stride - padLeft + kx;
                                if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                                for (int ci = 0; ci < inChannels; ci++)
                                    acc += (double)input[channelsLast ? (iy * width + ix) * inChannels + ci : (ci * height + iy) * width + ix] * weights[((ky * kernel + kx) * inChannels + ci) * outChannels + co];
                            }
                        output[(oy * outWidth + ox) * outChannels + co] = acc;
                    }
            return output;
        }
    }
}
