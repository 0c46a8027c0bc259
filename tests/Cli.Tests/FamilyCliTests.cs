using System;
using System.IO;
using System.Linq;
using EffNet.Import;
using EffNet.Model;
using Xunit;
using static EffNet.Cli.Tests.CliRunner;

namespace EffNet.Cli.Tests
{
    /// <summary>EfficientNet-Lite and EfficientNetV2 checkpoints through `effnet import`, `inspect` and `run`, without a flag.</summary>
    public sealed class FamilyCliTests : IDisposable
    {
        readonly string _folder = Directory.CreateTempSubdirectory("effnet-cli-family-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        [Theory]
        [InlineData(ModelFamily.EfficientNetLite, "EfficientNet-Lite0 @224x224, 7 classes, TF-SAME padding", "timm keys")]
        [InlineData(ModelFamily.EfficientNetV2S, "EfficientNetV2-S @384x384, 7 classes, symmetric padding", "torchvision keys")]
        public void A_checkpoint_of_another_family_imports_inspects_and_runs_as_that_family(ModelFamily family, string model, string keys)
        {
            ModelConfig config = ModelConfig.ForMember(family, 0, numClasses: 7,
                padding: family == ModelFamily.EfficientNetLite ? EfficientNetPadding.Same : EfficientNetPadding.Symmetric);
            NetworkLayout layout = NetworkLayout.Create(config);
            string checkpoint = Path.Combine(_folder, "model.safetensors"), blob = Path.Combine(_folder, "model.effw");
            SafeTensorsFile.Write(checkpoint, SyntheticWeights.CreateStateDict(layout));

            var import = Effnet("import", checkpoint, "-o", blob);
            Assert.True(import.Exit == 0, import.Error);
            Assert.Contains(keys, import.Output);

            var inspect = Effnet("inspect", blob);
            Assert.Equal(0, inspect.Exit);
            Assert.Contains(model, inspect.Output);

            string input = Path.Combine(_folder, "input.npy"), output = Path.Combine(_folder, "logits.npy");
            NpyFile.Write(input, SyntheticWeights.CreateInput(config.Resolution), new[] { 1, 3, config.Resolution, config.Resolution });
            var run = Effnet("run", "-w", blob, "-i", input, "-o", output);
            Assert.True(run.Exit == 0, run.Error);
            SourceTensor logits = NpyFile.Read(output);
            Assert.Equal(new[] { 1, 7 }, logits.Shape);

            // The same numbers as the runtime model on the blob written straight from the state dict.
            using var direct = new MemoryStream();
            WeightBlobWriter.Write(direct, layout, SyntheticWeights.CreateStateDict(layout), BatchNormFolding.TensorFlowEpsilon, "direct");
            direct.Position = 0;
            using EfficientNetModel reference = EfficientNetModel.Load(direct, new ModelOptions { Threads = 1 });
            var expected = new float[7];
            reference.Run(SyntheticWeights.CreateInput(config.Resolution), expected);
            Assert.Equal(expected, logits.Data);
        }
    }
}
