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
    }
}
