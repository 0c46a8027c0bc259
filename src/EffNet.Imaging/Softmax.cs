using System;

namespace EffNet.Imaging
{
    /// <summary>A class index and its softmax probability.</summary>
    public readonly record struct ClassProbability(int Index, float Probability);

    /// <summary>Softmax over a model's logits, and the k most probable classes.</summary>
    public static class Softmax
    {
        /// <summary>
        /// Writes softmax(<paramref name="logits"/>) to <paramref name="probabilities"/>, computed stably in double:
        /// exp(x - max) / sum.
        /// </summary>
        /// <exception cref="ArgumentException">The logits are empty or not all finite, or the destination is too short.</exception>
        public static void Compute(ReadOnlySpan<float> logits, Span<float> probabilities)
        {
            if (probabilities.Length < logits.Length)
                throw new ArgumentException($"The destination holds {probabilities.Length} floats but there are {logits.Length} logits.", nameof(probabilities));
            double max = Max(logits);
            double sum = 0.0;
            for (int i = 0; i < logits.Length; i++)
                sum += Math.Exp(logits[i] - max);
            for (int i = 0; i < logits.Length; i++)
                probabilities[i] = (float)(Math.Exp(logits[i] - max) / sum);
        }

        /// <summary>
        /// The <paramref name="k"/> classes with the largest logits (fewer when there are fewer logits), most probable
        /// first, equal logits in ascending index order, each with its softmax probability.
        /// </summary>
        /// <exception cref="ArgumentException">The logits are empty or not all finite.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not positive.</exception>
        public static ClassProbability[] TopK(ReadOnlySpan<float> logits, int k)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
            double max = Max(logits);
            k = Math.Min(k, logits.Length);

            // Insertion into a sorted run of the best k: a later index only displaces strictly smaller logits.
            var best = new int[k];
            int filled = 0;
            double sum = 0.0;
            for (int i = 0; i < logits.Length; i++)
            {
                float value = logits[i];
                sum += Math.Exp(value - max);
                if (filled == k && value <= logits[best[k - 1]])
                    continue;
                int at = filled < k ? filled++ : k - 1;
                while (at > 0 && logits[best[at - 1]] < value)
                {
                    best[at] = best[at - 1];
                    at--;
                }
                best[at] = i;
            }

            var result = new ClassProbability[k];
            for (int j = 0; j < k; j++)
                result[j] = new ClassProbability(best[j], (float)(Math.Exp(logits[best[j]] - max) / sum));
            return result;
        }

        static double Max(ReadOnlySpan<float> logits)
        {
            if (logits.IsEmpty)
                throw new ArgumentException("There are no logits.", nameof(logits));
            float max = float.NegativeInfinity;
            for (int i = 0; i < logits.Length; i++)
            {
                if (!float.IsFinite(logits[i]))
                    throw new ArgumentException($"Logit {i} is {logits[i]}; softmax needs finite logits.", nameof(logits));
                max = Math.Max(max, logits[i]);
            }
            return max;
        }
    }
}
