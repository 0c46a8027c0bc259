using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using EffNet.Import;
using EffNet.Model;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Runtime.Tests.Import
{
    /// <summary>
    /// timm EfficientNet-Lite and torchvision EfficientNetV2 checkpoints: told apart by their keys and shapes, imported
    /// without flags, run against the reference's goldens.
    /// </summary>
    public sealed class FamilyImportTests : IDisposable
    {
        readonly ITestOutputHelper _output;
        readonly string _folder = Path.Combine(Path.GetTempPath(), "effnet-lite-import-" + Guid.NewGuid().ToString("N"));

        public FamilyImportTests(ITestOutputHelper output)
        {
            _output = output;
            Directory.CreateDirectory(_folder);
        }

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        /// <summary>A safetensors file of the golden's model, in its reference's names, filled with the golden's seeded weights.</summary>
        string Checkpoint(Golden golden, string name)
        {
            NetworkLayout layout = NetworkLayout.Create(golden.Config);
            string path = Path.Combine(_folder, name);
            SafeTensorsFile.Write(path, SyntheticWeights.CreateStateDict(layout, golden.Seed));
            return path;
        }

        [Fact]
        public void A_timm_Lite0_checkpoint_imports_without_flags_as_tf_efficientnet_lite0_and_matches_the_torch_reference()
        {
            Golden golden = Golden.Load("lite0");
            string checkpoint = Checkpoint(golden, "tf_efficientnet_lite0.safetensors");

            CheckpointInfo info = CheckpointImporter.Inspect(checkpoint);
            Assert.Equal((ModelFamily.EfficientNetLite, 0, 1000), (info.Family, info.Phi, info.NumClasses));
            Assert.Equal("EfficientNet-Lite0 with 1000 classes", info.ModelName);
            Assert.Equal(WeightSource.TimmTensorFlow, info.Source); // assumed: nearly every published Lite is a TF port

            string blob = checkpoint + ".effw";
            ImportResult result = CheckpointImporter.Import(checkpoint, blob);
            _output.WriteLine(result.Summary);
            Assert.Equal(ModelConfig.ForMember(ModelFamily.EfficientNetLite, 0, padding: EfficientNetPadding.Same), result.Config);
            Assert.Contains("BatchNorm eps 0.001", result.Summary);

            using Lite0 model = Lite0.Load(blob);
            var logits = new float[Lite0.NumClasses];
            model.Run(SyntheticWeights.CreateInput(golden.Resolution, golden.Seed), logits);
            LogitCheck.AssertMatches(_output, "imported lite0", golden, logits);
            Assert.Equal(PreprocessingInfo.ForTimmLite(0), model.WeightInfo.Metadata.Preprocessing);
        }

        [Fact]
        public void A_Lite_checkpoint_refuses_the_B_series_width_and_depth_flags_and_names_the_command_that_imports_it()
        {
            string checkpoint = Checkpoint(Golden.Load("lite0"), "tf_efficientnet_lite0.safetensors");
            var error = Assert.Throws<CheckpointMismatchException>(() =>
                CheckpointImporter.Import(checkpoint, checkpoint + ".effw", new ImportOptions { Width = 1.0, Phi = null }));
            Assert.Contains("--width and --depth scale the B-series; it holds EfficientNet-Lite0 with 1000 classes", error.Message);
            Assert.Contains("effnet import tf_efficientnet_lite0.safetensors -o tf_efficientnet_lite0.safetensors.effw", error.Message);
            Assert.False(File.Exists(checkpoint + ".effw"));
        }

        [Fact]
        public void A_torchvision_V2_S_checkpoint_imports_without_flags_with_eps_1e_3_and_matches_torchvision()
        {
            Golden golden = Golden.Load("v2_s");
            string checkpoint = Checkpoint(golden, "efficientnet_v2_s.safetensors");

            CheckpointInfo info = CheckpointImporter.Inspect(checkpoint);
            Assert.Equal((ModelFamily.EfficientNetV2S, "EfficientNetV2-S with 1000 classes"), (info.Family, info.ModelName));

            ImportResult result = CheckpointImporter.Import(checkpoint, checkpoint + ".effw");
            _output.WriteLine(result.Summary);
            Assert.Contains("BatchNorm eps 0.001", result.Summary);
            Assert.Equal(ModelConfig.ForMember(ModelFamily.EfficientNetV2S, 0), result.Config);

            using V2S model = V2S.Load(checkpoint + ".effw");
            var logits = new float[V2S.NumClasses];
            model.Run(SyntheticWeights.CreateInput(golden.Resolution, golden.Seed), logits);
            LogitCheck.AssertMatches(_output, "imported v2_s", golden, logits);
            Assert.Equal(PreprocessingInfo.ForTorchvisionV2(ModelFamily.EfficientNetV2S), model.WeightInfo.Metadata.Preprocessing);
        }

        [Fact]
        public void The_symmetric_padding_flag_takes_a_Lite_checkpoint_as_timms_efficientnet_lite0()
        {
            Golden golden = Golden.Load("lite0_symmetric");
            string checkpoint = Checkpoint(golden, "efficientnet_lite0.safetensors");
            ImportResult result = CheckpointImporter.Import(checkpoint, checkpoint + ".effw", new ImportOptions { Padding = EfficientNetPadding.Symmetric });
            Assert.Contains("BatchNorm eps 0.00001", result.Summary);

            using Lite0Symmetric model = Lite0Symmetric.Load(checkpoint + ".effw");
            var logits = new float[Lite0Symmetric.NumClasses];
            model.Run(SyntheticWeights.CreateInput(golden.Resolution, golden.Seed), logits);
            LogitCheck.AssertMatches(_output, "imported lite0_symmetric", golden, logits);
        }
    }
}
