using System;
using System.Collections.Generic;
using System.Text;
using EffNet.Model;

namespace EffNet
{
    /// <summary>
    /// Seeded pseudo-random weights and inputs, NOT trained weights: for samples, tests and benchmarks. The same numbers
    /// come out of tools/make_golden.py, so torchvision can run the same network for reference outputs.
    /// </summary>
    /// <remarks>
    /// Each tensor has its own stream: SplitMix64 seeded with FNV-1a-64(name) XOR seed; element i uses the output at
    /// counter i + 1. A uniform float in [0, 1) is (output &gt;&gt; 40) * 2^-24, and U(lo, hi) = lo + (hi - lo) * u in
    /// float32. Conv and linear weights are U(-a, a) with a = sqrt(3 / fan_in) (unit gain); BatchNorm gamma and running
    /// variance are U(0.75, 1.25); biases, beta and running mean are U(-0.1, 0.1).
    /// </remarks>
    public static class SyntheticWeights
    {
        public const ulong DefaultSeed = 2019;

        /// <summary>A full torchvision state dict for <paramref name="layout"/> (num_batches_tracked left out).</summary>
        public static Dictionary<string, SourceTensor> CreateStateDict(NetworkLayout layout, ulong seed = DefaultSeed)
        {
            var tensors = new Dictionary<string, SourceTensor>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, int[]> entry in layout.ReferenceStateDict())
            {
                if (entry.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
                    continue;
                (float lo, float hi) = RangeFor(entry.Key, entry.Value);
                tensors.Add(entry.Key, new SourceTensor(entry.Value, Uniform(entry.Key, seed, Elements(entry.Value), lo, hi)));
            }
            return tensors;
        }

        /// <summary>A CHW input of <paramref name="resolution"/>², values U(-2, 2) (the range of a normalised image).</summary>
        public static float[] CreateInput(int resolution, ulong seed = DefaultSeed, string name = "input")
            => Uniform(name, seed, 3 * resolution * resolution, -2f, 2f);

        static (float Lo, float Hi) RangeFor(string key, int[] shape)
        {
            if (key.EndsWith(".running_var", StringComparison.Ordinal) || (key.EndsWith(".weight", StringComparison.Ordinal) && shape.Length == 1))
                return (0.75f, 1.25f);
            if (key.EndsWith(".weight", StringComparison.Ordinal))
            {
                float a = (float)Math.Sqrt(3.0 / (Elements(shape) / shape[0]));
                return (-a, a);
            }
            return (-0.1f, 0.1f); // bias, BatchNorm beta, running_mean
        }

        /// <summary>The stream of <paramref name="count"/> floats named <paramref name="name"/>, uniform in [lo, hi).</summary>
        public static float[] Uniform(string name, ulong seed, int count, float lo, float hi)
        {
            ulong state = Fnv1a64(name) ^ seed;
            float range = hi - lo;
            var values = new float[count];
            for (int i = 0; i < count; i++)
            {
                float unit = (SplitMix64(state + (ulong)(i + 1) * 0x9E3779B97F4A7C15UL) >> 40) * (1f / (1 << 24));
                values[i] = lo + range * unit;
            }
            return values;
        }

        static ulong SplitMix64(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        static ulong Fnv1a64(string text) => NetworkLayout.Fnv1a64(text);

        static int Elements(int[] shape)
        {
            int n = 1;
            foreach (int d in shape) n *= d;
            return n;
        }
    }
}
