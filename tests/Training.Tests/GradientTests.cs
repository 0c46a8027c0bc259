using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using EffNet.Import;
using EffNet.Model;
using EffNet.Training.Kernels;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Training.Tests
{
    /// <summary>
    /// Fine-tuning's backward pass against torch autograd: B0 (10 classes, 64 px) with the seeded synthetic weights,
    /// BatchNorm folded, two seeded images, mean cross-entropy. The golden gradients come from
    /// tools/make_gradient_golden.py (Fixtures/gradients); each trained tensor must be within 1e-3 relative error
    /// (the norm of the difference over the norm of torch's gradient).
    /// </summary>
    public sealed class GradientTests(ITestOutputHelper output)
    {
        const double Tolerance = 1e-3;
        static readonly string GoldenPath = Path.Combine(AppContext.BaseDirectory, "Fixtures", "gradients", "b0_r64_c10.safetensors");

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(16)] // every block of B0
        public void Gradients_of_the_last_blocks_head_and_classifier_equal_torch_autograds(int unfrozen)
        {
            Dictionary<string, string> metadata = SafeTensorsFile.ReadMetadata(GoldenPath);
            Dictionary<string, SourceTensor> golden = SafeTensorsFile.Read(GoldenPath);
            Dictionary<string, double> scales = JsonSerializer.Deserialize<Dictionary<string, double>>(metadata["scales"])!;
            int resolution = int.Parse(metadata["resolution"]), classes = int.Parse(metadata["num_classes"]);
            string[] inputs = metadata["inputs"].Split(',');
            int[] labels = metadata["labels"].Split(',').Select(int.Parse).ToArray();
            float[] torchLogits = JsonSerializer.Deserialize<float[]>(metadata["logits"])!;

            NetworkLayout layout = NetworkLayout.Create(ModelConfig.ForPhi(0, resolution, classes));
            Dictionary<string, SourceTensor> state = SyntheticWeights.CreateStateDict(layout);
            string blob = Path.Combine(Path.GetTempPath(), $"effnet-gradients-{Environment.ProcessId}-{unfrozen}.effw");
            WeightBlobWriter.Write(blob, layout, state, float.Parse(metadata["bn_eps"], System.Globalization.CultureInfo.InvariantCulture), "synthetic B0");
            try
            {
                using var baseModel = EfficientNetModel.Load(blob);
                var network = new TrainableNetwork(layout, unfrozen, WeightBlobWriter.Pack(layout, state, 1e-5f));
                var tape = network.CreateTape();
                var gradients = new float[network.Parameters.Length];
                var input = new float[network.InputLength];
                var logits = new float[classes];
                var gradLogits = new float[classes];
                for (int i = 0; i < inputs.Length; i++)
                {
                    network.InputFrom(baseModel, SyntheticWeights.CreateInput(resolution, name: inputs[i]), input);
                    network.Forward(tape, input, logits);
                    for (int k = 0; k < classes; k++)
                        Assert.True(Math.Abs(logits[k] - torchLogits[i * classes + k]) <= 1e-4 + 1e-4 * Math.Abs(torchLogits[i * classes + k]),
                            $"image {i} logit {k}: {logits[k]} here, {torchLogits[i * classes + k]} in torch");
                    ClassifierBackward.CrossEntropy(logits, labels[i], 1f / inputs.Length, gradLogits);
                    network.Backward(tape, gradLogits, gradients);
                }

                var errors = new List<(string Name, double Error)>();
                foreach (ConvLayer layer in network.TrainedLayers)
                {
                    errors.Add((layer.WeightName, RelativeError(gradients.AsSpan((int)layer.WeightOffset, (int)layer.WeightLength), golden[layer.WeightName], scales[layer.WeightName])));
                    errors.Add((layer.BiasName, RelativeError(gradients.AsSpan((int)layer.BiasOffset, (int)layer.BiasLength), golden[layer.BiasName], scales[layer.BiasName])));
                }
                var worst = errors.MaxBy(e => e.Error);
                output.WriteLine($"--unfreeze {unfrozen}: {errors.Count} tensors, {network.TrainedParameterCount:N0} parameters; relative error " +
                                 $"median {errors.Select(e => e.Error).Order().ElementAt(errors.Count / 2):E2}, largest {worst.Error:E2} ({worst.Name})");
                Assert.All(errors, e => Assert.True(e.Error <= Tolerance, $"{e.Name}: relative error {e.Error:E2} against torch autograd"));
                Assert.Equal(unfrozen == 16 ? 162 : errors.Count, errors.Count); // all blocks: every golden tensor was checked
            }
            finally
            {
                File.Delete(blob);
            }
        }

        static double RelativeError(ReadOnlySpan<float> ours, SourceTensor golden, double scale)
        {
            Assert.Equal(golden.Data.Length, ours.Length);
            double difference = 0, norm = 0;
            for (int i = 0; i < ours.Length; i++)
            {
                double reference = golden.Data[i] * scale;
                difference += (ours[i] - reference) * (ours[i] - reference);
                norm += reference * reference;
            }
            return Math.Sqrt(difference) / Math.Max(Math.Sqrt(norm), 1e-30);
        }
    }
}
