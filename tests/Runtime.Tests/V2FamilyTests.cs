using System.Linq;
using EffNet.Kernels;
using EffNet.Model;
using Xunit;

namespace EffNet.Runtime.Tests
{
    /// <summary>EfficientNetV2 from its size tables, against torchvision 0.14's numbers and names.</summary>
    public sealed class V2FamilyTests
    {
        static NetworkLayout V2(ModelFamily size) => NetworkLayout.Create(ModelConfig.ForMember(size, 0));

        [Theory]
        [InlineData(ModelFamily.EfficientNetV2S, 21_458_488, 40, 24, 384)]
        [InlineData(ModelFamily.EfficientNetV2M, 54_139_356, 57, 24, 480)]
        [InlineData(ModelFamily.EfficientNetV2L, 118_515_272, 79, 32, 480)]
        public void Each_size_has_torchvisions_parameter_count_blocks_stem_and_evaluation_size(ModelFamily size, long parameters, int blocks, int stem, int resolution)
        {
            NetworkLayout layout = V2(size);
            Assert.Equal(parameters, layout.ParameterCount);
            Assert.Equal(blocks, layout.Blocks.Count);
            Assert.Equal(stem, layout.Stem.OutChannels);
            Assert.Equal(1280, layout.FeatureCount);
            Assert.Equal(resolution, layout.Config.Resolution);
        }

        [Fact]
        public void V2_S_starts_with_fused_stages_then_MBConv_stages_with_squeeze_excitation_of_a_quarter_of_the_input()
        {
            NetworkLayout layout = V2(ModelFamily.EfficientNetV2S);
            Assert.Equal(new[] { BlockKind.FusedMBConv, BlockKind.FusedMBConv, BlockKind.FusedMBConv, BlockKind.MBConv, BlockKind.MBConv, BlockKind.MBConv },
                         Enumerable.Range(0, 6).Select(s => layout.Blocks.First(b => b.Stage == s).Kind));
            Assert.All(layout.Blocks.Where(b => b.Kind == BlockKind.FusedMBConv), b => Assert.False(b.HasSqueezeExcitation));
            BlockLayout firstMBConv = layout.Blocks.First(b => b.Kind == BlockKind.MBConv); // features.4.0: 64 -> 256 -> 128
            Assert.Equal((64, 256, 16), (firstMBConv.InChannels, firstMBConv.MidChannels, firstMBConv.SqueezeChannels));
            Assert.All(layout.Blocks, b => Assert.Equal((3, Activation.SiLU), (b.Kernel, b.Activation)));
        }

        [Fact]
        public void V2_weights_carry_torchvisions_names_and_shapes()
        {
            var state = V2(ModelFamily.EfficientNetV2S).ReferenceStateDict().ToDictionary(t => t.Key, t => t.Value);
            Assert.Equal(new[] { 24, 24, 3, 3 }, state["features.1.0.block.0.0.weight"]);     // Fused-MBConv1: one 3x3 conv
            Assert.Equal(new[] { 96, 24, 3, 3 }, state["features.2.0.block.0.0.weight"]);     // Fused-MBConv4: 3x3 expand ...
            Assert.Equal(new[] { 48, 96, 1, 1 }, state["features.2.0.block.1.0.weight"]);     // ... and 1x1 project
            Assert.Equal(new[] { 16, 256, 1, 1 }, state["features.4.0.block.2.fc1.weight"]);  // MBConv squeeze-excitation
            Assert.Equal(new[] { 1280, 256, 1, 1 }, state["features.7.0.weight"]);            // the head after six stages
            Assert.Equal(new[] { 1000, 1280 }, state["classifier.1.weight"]);
            Assert.False(state.ContainsKey("features.1.0.block.1.0.weight"));
        }

        [Fact]
        public void The_sizes_never_share_a_fingerprint_with_each_other_or_the_B_series()
        {
            ulong[] prints = { V2(ModelFamily.EfficientNetV2S).Fingerprint, V2(ModelFamily.EfficientNetV2M).Fingerprint,
                               V2(ModelFamily.EfficientNetV2L).Fingerprint, NetworkLayout.Create(ModelConfig.ForPhi(0, 384)).Fingerprint };
            Assert.Equal(prints.Length, prints.Distinct().Count());
        }

        [Fact]
        public void A_V2_config_with_other_coefficients_is_refused_naming_the_family()
        {
            var config = new ModelConfig(0.5, 1.0, 384, 1000, EfficientNetPadding.Symmetric, ModelFamily.EfficientNetV2S);
            Assert.Contains("Width 0.5 and depth 1 are not a member of EfficientNetV2-S", Assert.Single(config.Validate()));
        }
    }
}
