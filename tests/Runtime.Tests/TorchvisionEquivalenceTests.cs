using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics.Tensors;
using EffNet.Model;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Runtime.Tests
{
    /// <summary>The generated models against logits the real torchvision computed for the same weights and input.</summary>
    public sealed class TorchvisionEquivalenceTests
    {
        readonly ITestOutputHelper _output;

        public TorchvisionEquivalenceTests(ITestOutputHelper output) => _output = output;

        public static IEnumerable<object[]> GoldenModels => Golden.Models.Keys.Select(name => new object[] { name });

        [Theory]
        [MemberData(nameof(GoldenModels))]
        public void Logits_match_torchvision_within_tolerance_with_the_same_top5(string name)
        {
            Golden golden = Golden.Load(name);
            Assert.Equal(golden.Parameters, NetworkLayout.Create(golden.Config).ParameterCount);

            using IEfficientNetModel model = SyntheticModel.Create(golden);
            float[] image = SyntheticWeights.CreateInput(golden.Resolution, golden.Seed);
            var logits = new float[model.NumClasses];
            var stages = new List<(string Name, double Sum, double AbsSum, double MaxAbs)>();
            model.RunTraced(image, logits, (stage, activations, h, w, c) => stages.Add(Checksum(stage, activations)));

            // Stage checksums first: a failure names the first stage that diverges.
            Assert.Equal(golden.Stages.Select(s => s.Name), stages.Select(s => s.Name));
            for (int i = 0; i < stages.Count; i++)
            {
                StageStats expected = golden.Stages[i];
                var actual = stages[i];
                double bound = 1e-4 * expected.AbsSum;
                Assert.True(Math.Abs(actual.AbsSum - expected.AbsSum) <= bound && Math.Abs(actual.Sum - expected.Sum) <= bound,
                    $"{name} {expected.Name}: sum {actual.Sum} vs torchvision {expected.Sum}, abs sum {actual.AbsSum} vs {expected.AbsSum}");
            }

            LogitCheck.AssertMatches(_output, name, golden, logits, $"; arena {model.ArenaBytes:N0} bytes");
        }

        static (string, double, double, double) Checksum(string stage, ReadOnlySpan<float> activations)
        {
            double sum = 0, absSum = 0, maxAbs = 0;
            foreach (float v in activations)
            {
                sum += v;
                absSum += Math.Abs(v);
                maxAbs = Math.Max(maxAbs, Math.Abs(v));
            }
            return (stage, sum, absSum, maxAbs);
        }
    }
}
