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
    /// Fine-tuning's backward pass against torch autograd, from tools/make_gradient_golden.py (Fixtures/gradients): B0
    /// (SiLU, squeeze-excitation; every block) and Lite0 with TF-SAME padding (ReLU6, asymmetric stride-2 padding; its
    /// last 5 blocks), 10 classes at 64 px, with the seeded synthetic weights, BatchNorm folded, two seeded images and the mean
    /// cross-entropy. Each trained tensor must be within 1e-3 relative error (the norm of the difference over the norm
    /// of torch's gradient); the goldens are stored as scaled float16, whose own error is about 2.3e-4.
    /// </summary>
    public sealed class GradientTests(ITestOutputHelper output)
    {
        const double Tolerance = 1e-3;
        const int AllBlocks = -1;

        [Theory]
        [InlineData("b0_r64_c10", 1)]
        [InlineData("b0_r64_c10", 2)]
        [InlineData("b0_r64_c10", AllBlocks)]
        [InlineData("lite0_r64_c10", 1)]
        [InlineData("lite0_r64_c10", 5)] // from the stride-2 block 5.0, the last the golden holds
        public void Gradients_of_the_last_blocks_head_and_classifier_equal_torch_autograds(string golden, int unfrozen)
        {
            // EFFNET_GRADIENT_GOLDENS: float32 goldens (make_gradient_golden.py --float32 DIR), to measure EffNet's own error.
            string folder = Environment.GetEnvironmentVariable("EFFNET_GRADIENT_GOLDENS") is { Length: > 0 } other
                ? other : Path.Combine(AppContext.BaseDirectory, "Fixtures", "gradients");
            string path = Path.Combine(folder, golden + ".safetensors");
            Dictionary<string, string> metadata = SafeTensorsFile.ReadMetadata(path);
            Dictionary<string, SourceTensor> reference = SafeTensorsFile.Read(path);
            Dictionary<string, double> scales = JsonSerializer.Deserialize<Dictionary<string, double>>(metadata["scales"])!;
            int resolution = int.Parse(metadata["resolution"]), classes = int.Parse(metadata["num_classes"]);
            string[] inputs = metadata["inputs"].Split(',');
            int[] labels = metadata["labels"].Split(',').Select(int.Parse).ToArray();
            float[] torchLogits = JsonSerializer.Deserialize<float[]>(metadata["logits"])!;
            float epsilon = float.Parse(metadata["bn_eps"], System.Globalization.CultureInfo.InvariantCulture);

            ModelConfig config = golden.StartsWith("lite", StringComparison.Ordinal)
                ? ModelConfig.ForMember(ModelFamily.EfficientNetLite, 0, resolution, classes, EfficientNetPadding.Same)
                : ModelConfig.ForPhi(0, resolution, classes);
            NetworkLayout layout = NetworkLayout.Create(config);
            if (unfrozen == AllBlocks) unfrozen = layout.Blocks.Count;
            Dictionary<string, SourceTensor> state = SyntheticWeights.CreateStateDict(layout);
            string blob = Path.Combine(Path.GetTempPath(), $"effnet-gradients-{Environment.ProcessId}-{golden}-{unfrozen}.effw");
            WeightBlobWriter.Write(blob, layout, state, epsilon, "synthetic " + golden);
            try
            {
                using var baseModel = EfficientNetModel.Load(blob);
                var network = new TrainableNetwork(layout, unfrozen, WeightBlobWriter.Pack(layout, state, epsilon));
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
                    errors.Add((layer.WeightName, RelativeError(gradients.AsSpan((int)layer.WeightOffset, (int)layer.WeightLength), reference[layer.WeightName], scales[layer.WeightName])));
                    errors.Add((layer.BiasName, RelativeError(gradients.AsSpan((int)layer.BiasOffset, (int)layer.BiasLength), reference[layer.BiasName], scales[layer.BiasName])));
                }
                var worst = errors.MaxBy(e => e.Error);
                output.WriteLine($"{golden} --unfreeze {unfrozen}: {errors.Count} tensors, {network.TrainedParameterCount:N0} parameters; relative error " +
                                 $"median {errors.Select(e => e.Error).Order().ElementAt(errors.Count / 2):E2}, largest {worst.Error:E2} ({worst.Name})");
                Assert.All(errors, e => Assert.True(e.Error <= Tolerance, $"{e.Name}: relative error {e.Error:E2} against torch autograd"));
                if (unfrozen == layout.Blocks.Count || golden.StartsWith("lite", StringComparison.Ordinal) && unfrozen == 5)
                    Assert.Equal(reference.Count, errors.Count); // every golden tensor was checked
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
