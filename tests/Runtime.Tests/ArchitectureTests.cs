using System;
using System.Linq;
using EffNet.Model;
using Xunit;

namespace EffNet.Runtime.Tests
{
    /// <summary>The shared block table and scaling rules against torchvision's published numbers.</summary>
    public sealed class ArchitectureTests
    {
        [Theory]
        [InlineData(0, 5_288_548, 360, 16, 1280)]
        [InlineData(1, 7_794_184, 508, 23, 1280)]
        [InlineData(2, 9_109_994, 508, 23, 1408)]
        [InlineData(3, 12_233_232, 574, 26, 1536)]
        [InlineData(4, 19_341_616, 706, 32, 1792)]
        [InlineData(5, 30_389_784, 854, 39, 2048)]
        [InlineData(6, 43_040_704, 986, 45, 2304)]
        [InlineData(7, 66_347_960, 1200, 55, 2560)]
        public void Official_variants_have_torchvisions_parameter_count_tensor_count_blocks_and_head(int phi, long parameters, int tensors, int blocks, int head)
        {
            NetworkLayout layout = NetworkLayout.Create(ModelConfig.ForPhi(phi));
            Assert.Equal(parameters, layout.ParameterCount);
            Assert.Equal(tensors, layout.ReferenceStateDict().Count());
            Assert.Equal(blocks, layout.Blocks.Count);
            Assert.Equal(head, layout.FeatureCount);
        }

        // torchvision's published GFLOPS (_ops) are multiply-adds at the weights' crop size (B2 at 288).
        [Theory]
        [InlineData(0, 224, 0.386)]
        [InlineData(1, 240, 0.687)]
        [InlineData(2, 288, 1.088)]
        [InlineData(3, 300, 1.827)]
        [InlineData(4, 380, 4.394)]
        [InlineData(5, 456, 10.266)]
        [InlineData(6, 528, 19.068)]
        [InlineData(7, 600, 37.746)]
        public void Multiply_adds_round_to_torchvisions_published_gflops(int phi, int resolution, double gflops)
        {
            long macs = NetworkLayout.Create(ModelConfig.ForPhi(phi, resolution)).MultiplyAdds;
            Assert.Equal(gflops, Math.Round(macs / 1e9, 3));
        }

        [Fact]
        public void B3_stage1_output_is_bumped_to_24_by_the_ninety_percent_rule()
        {
            Assert.Equal(24, Scaling.RoundFilters(16, 1.2));
            Assert.Equal(24, NetworkLayout.Create(ModelConfig.ForPhi(3)).Blocks[0].OutChannels);
        }

        [Fact]
        public void Squeeze_width_comes_from_the_block_input_channels_not_the_expanded_ones()
        {
            BlockLayout block = NetworkLayout.Create(ModelConfig.ForPhi(0)).Blocks[1]; // features.2.0: 16 -> 96 -> 24
            Assert.Equal((16, 96, 4), (block.InChannels, block.MidChannels, block.SqueezeChannels));
        }

        [Fact]
        public void Stage1_blocks_have_no_expansion_and_torchvision_submodule_numbers_shift()
        {
            NetworkLayout layout = NetworkLayout.Create(ModelConfig.ForPhi(1));
            BlockLayout first = layout.Blocks[0], second = layout.Blocks[1], third = layout.Blocks[2];
            Assert.Null(first.Expand);
            Assert.Equal("features.1.0.block.0.0", first.Depthwise!.Module);
            Assert.Equal("features.1.1.block.2.0", second.Project!.Module);
            Assert.True(second.HasResidual);
            Assert.Equal("features.2.0.block.0.0", third.Expand!.Module);
            Assert.Equal("features.2.0.block.3.0", third.Project!.Module);
        }

        [Theory]
        [InlineData(224, 3, 2, 0)]
        [InlineData(56, 5, 2, 1)]
        [InlineData(75, 5, 2, 2)]
        [InlineData(19, 3, 2, 1)]
        [InlineData(14, 5, 1, 2)]
        public void Same_padding_puts_the_extra_pixel_after(int input, int kernel, int stride, int before)
        {
            Assert.Equal(before, Scaling.PadBefore(input, kernel, stride, EfficientNetPadding.Same));
            Assert.Equal(kernel / 2, Scaling.PadBefore(input, kernel, stride, EfficientNetPadding.Symmetric));
        }

        [Fact]
        public void Fingerprint_identifies_the_architecture_not_the_way_it_was_written()
        {
            ulong b3 = NetworkLayout.Create(ModelConfig.ForPhi(3)).Fingerprint;
            Assert.Equal(b3, NetworkLayout.Create(new ModelConfig(1.2, 1.4, 300, 1000, EfficientNetPadding.Symmetric)).Fingerprint);
            Assert.NotEqual(b3, NetworkLayout.Create(ModelConfig.ForPhi(3, 320)).Fingerprint);
            Assert.NotEqual(b3, NetworkLayout.Create(ModelConfig.ForPhi(3, numClasses: 10)).Fingerprint);
            Assert.NotEqual(b3, NetworkLayout.Create(ModelConfig.ForPhi(3, padding: EfficientNetPadding.Same)).Fingerprint);
        }

        [Fact]
        public void Invalid_config_lists_every_problem_with_its_allowed_range()
        {
            var error = Assert.Throws<ArgumentException>(() => NetworkLayout.Create(new ModelConfig(0, 9, 16, 0, EfficientNetPadding.Symmetric)));
            Assert.Contains("Width 0", error.Message);
            Assert.Contains("Depth 9", error.Message);
            Assert.Contains("Resolution 16", error.Message);
            Assert.Contains("NumClasses 0", error.Message);
        }

        [Fact]
        public void Weight_tensors_are_64_byte_aligned_and_do_not_overlap()
        {
            NetworkLayout layout = NetworkLayout.Create(ModelConfig.ForPhi(2));
            long end = 0;
            foreach (ConvLayer layer in layout.Layers)
            {
                Assert.Equal(0, layer.WeightOffset % 16);
                Assert.Equal(0, layer.BiasOffset % 16);
                Assert.True(layer.WeightOffset >= end && layer.BiasOffset >= layer.WeightOffset + layer.WeightLength);
                end = layer.BiasOffset + layer.BiasLength;
            }
            Assert.True(layout.WeightFloats >= end);
        }
    }
}
