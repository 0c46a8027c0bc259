using System;
using System.Linq;
using Xunit;

namespace EffNet.Imaging.Tests
{
    public sealed class SoftmaxTests
    {
        [Fact]
        public void Probabilities_match_torch_softmax()
        {
            // torch.softmax(torch.tensor([1., 2., 3.]), 0)
            float[] expected = [0.09003057f, 0.24472848f, 0.66524094f];
            var probabilities = new float[3];
            Softmax.Compute([1f, 2f, 3f], probabilities);
            for (int i = 0; i < 3; i++)
                Assert.Equal(expected[i], probabilities[i], 6);
        }

        [Fact]
        public void Large_logits_do_not_overflow()
        {
            ClassProbability[] top = Softmax.TopK([1000f, 1001f, -1000f, 999f], 4);
            Assert.Equal([1, 0, 3, 2], top.Select(p => p.Index));
            Assert.Equal(0.66524094f, top[0].Probability, 6);
            Assert.Equal(0f, top[3].Probability);
            Assert.Equal(1.0, top.Sum(p => (double)p.Probability), 6);
        }

        [Fact]
        public void TopK_orders_by_probability_then_lower_index()
        {
            ClassProbability[] top = Softmax.TopK([0.5f, 2f, 0.5f, 2f, -1f, 2f], 4);
            Assert.Equal([1, 3, 5, 0], top.Select(p => p.Index));
            Assert.Equal(top[0].Probability, top[2].Probability);
        }

        [Fact]
        public void TopK_agrees_with_a_full_sort()
        {
            var random = new Random(7);
            float[] logits = Enumerable.Range(0, 1000).Select(_ => (float)Math.Round(random.NextDouble() * 20 - 10, 1)).ToArray();
            var probabilities = new float[logits.Length];
            Softmax.Compute(logits, probabilities);
            int[] sorted = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(10).ToArray();

            ClassProbability[] top = Softmax.TopK(logits, 10);
            Assert.Equal(sorted, top.Select(p => p.Index));
            Assert.All(top, p => Assert.Equal(probabilities[p.Index], p.Probability));
        }

        [Fact]
        public void K_above_the_class_count_returns_every_class() => Assert.Equal(3, Softmax.TopK([1f, 2f, 3f], 5).Length);

        [Fact]
        public void Bad_arguments_are_refused()
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => Softmax.TopK([1f], 0));
            Assert.Throws<ArgumentException>(() => Softmax.TopK([], 1));
            ArgumentException nan = Assert.Throws<ArgumentException>(() => Softmax.TopK([1f, float.NaN], 1));
            Assert.Contains("Logit 1", nan.Message);
            Assert.Throws<ArgumentException>(() => Softmax.TopK([float.PositiveInfinity], 1));
            Assert.Throws<ArgumentException>(() => Softmax.Compute([1f, 2f], new float[1]));
        }
    }
}
