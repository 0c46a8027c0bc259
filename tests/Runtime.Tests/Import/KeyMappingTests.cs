using System;
using System.Collections.Generic;
using System.Linq;
using EffNet.Import;
using EffNet.Model;
using Xunit;

namespace EffNet.Runtime.Tests.Import
{
    /// <summary>Key layout detection, wrapper prefixes and the timm -> torchvision renaming (architecture reference 5.2).</summary>
    public sealed class KeyMappingTests
    {
        static readonly SourceTensor Scalar = new SourceTensor(new[] { 1 }, new[] { 0f });

        static Dictionary<string, SourceTensor> Keys(params string[] keys) => keys.Distinct().ToDictionary(k => k, _ => Scalar);

        [Theory]
        // stem, head, classifier
        [InlineData("conv_stem.weight", "features.0.0.weight")]
        [InlineData("bn1.running_var", "features.0.1.running_var")]
        [InlineData("conv_head.weight", "features.8.0.weight")]
        [InlineData("bn2.num_batches_tracked", "features.8.1.num_batches_tracked")]
        [InlineData("classifier.weight", "classifier.1.weight")]
        [InlineData("classifier.bias", "classifier.1.bias")]
        // stage 0: DepthwiseSeparableConv, conv_pw is the projection
        [InlineData("blocks.0.0.conv_dw.weight", "features.1.0.block.0.0.weight")]
        [InlineData("blocks.0.0.bn1.weight", "features.1.0.block.0.1.weight")]
        [InlineData("blocks.0.0.se.conv_reduce.bias", "features.1.0.block.1.fc1.bias")]
        [InlineData("blocks.0.0.se.conv_expand.weight", "features.1.0.block.1.fc2.weight")]
        [InlineData("blocks.0.0.conv_pw.weight", "features.1.0.block.2.0.weight")]
        [InlineData("blocks.0.0.bn2.running_mean", "features.1.0.block.2.1.running_mean")]
        // stages 1..6: InvertedResidual, conv_pw is the expansion
        [InlineData("blocks.1.0.conv_pw.weight", "features.2.0.block.0.0.weight")]
        [InlineData("blocks.1.0.bn1.bias", "features.2.0.block.0.1.bias")]
        [InlineData("blocks.1.0.conv_dw.weight", "features.2.0.block.1.0.weight")]
        [InlineData("blocks.1.0.bn2.weight", "features.2.0.block.1.1.weight")]
        [InlineData("blocks.1.0.se.conv_reduce.weight", "features.2.0.block.2.fc1.weight")]
        [InlineData("blocks.1.0.se.conv_expand.bias", "features.2.0.block.2.fc2.bias")]
        [InlineData("blocks.1.0.conv_pwl.weight", "features.2.0.block.3.0.weight")]
        [InlineData("blocks.6.0.bn3.running_var", "features.7.0.block.3.1.running_var")]
        public void Timm_key_maps_to_its_torchvision_name(string timm, string torchvision)
        {
            // The block's kind comes from its own keys: stages 1..6 have a conv_pwl.
            var tensors = Keys(timm, "blocks.1.0.conv_pwl.weight", "blocks.6.0.conv_pwl.weight");
            Dictionary<string, SourceTensor> mapped = KeyMapping.ToTorchvision(tensors, KeyLayout.Timm);
            Assert.True(mapped.ContainsKey(torchvision), string.Join(", ", mapped.Keys));
        }

        [Theory]
        [InlineData(0)]
        [InlineData(3)]
        [InlineData(7)]
        public void Every_timm_key_of_a_variant_maps_onto_its_torchvision_state_dict(int phi)
        {
            NetworkLayout layout = NetworkLayout.Create(ModelConfig.ForPhi(phi));
            string[] torchvision = layout.ReferenceStateDict().Select(e => e.Key).ToArray();
            string[] timm = torchvision.Select(k => TimmNames.Of(k, layout)).ToArray();
            Assert.Equal(torchvision.Length, timm.Distinct().Count());
            Assert.Equal(KeyLayout.Timm, KeyMapping.Detect(timm));
            Dictionary<string, SourceTensor> mapped = KeyMapping.ToTorchvision(Keys(timm), KeyLayout.Timm);
            Assert.Equal(torchvision.OrderBy(k => k, StringComparer.Ordinal), mapped.Keys.OrderBy(k => k, StringComparer.Ordinal));
        }

        [Fact]
        public void Unknown_timm_keys_keep_their_name_to_be_reported_as_unexpected()
        {
            Dictionary<string, SourceTensor> mapped = KeyMapping.ToTorchvision(Keys("conv_stem.weight", "head.fc.weight", "blocks.x.0.conv_dw.weight", "blocks.0.0.odd.weight"), KeyLayout.Timm);
            Assert.Equal(new[] { "features.0.0.weight", "head.fc.weight", "blocks.x.0.conv_dw.weight", "blocks.0.0.odd.weight" }, mapped.Keys);
        }

        [Fact]
        public void Detects_torchvision_and_timm_and_refuses_mixed_or_unknown_keys()
        {
            Assert.Equal(KeyLayout.Torchvision, KeyMapping.Detect(new[] { "features.0.0.weight", "classifier.1.bias" }));
            Assert.Equal(KeyLayout.Timm, KeyMapping.Detect(new[] { "conv_stem.weight", "classifier.bias" }));
            Assert.Contains("mixes torchvision names", Assert.Throws<WeightFormatException>(() => KeyMapping.Detect(new[] { "features.0.0.weight", "blocks.0.0.conv_dw.weight" })).Message);
            var error = Assert.Throws<WeightFormatException>(() => KeyMapping.Detect(new[] { "fc.weight", "layer1.0.conv1.weight" }, "resnet.pt"));
            Assert.Contains("resnet.pt", error.Message);
            Assert.Contains("fc.weight, layer1.0.conv1.weight", error.Message);
        }

        [Fact]
        public void Wrapper_prefixes_shared_by_every_key_are_removed()
        {
            var (tensors, prefix) = KeyMapping.StripWrapperPrefix(Keys("module.features.0.0.weight", "module.classifier.1.bias"));
            Assert.Equal("module.", prefix);
            Assert.Equal(new[] { "features.0.0.weight", "classifier.1.bias" }, tensors.Keys);

            (tensors, prefix) = KeyMapping.StripWrapperPrefix(Keys("module.model.conv_stem.weight", "module.model.bn1.bias"));
            Assert.Equal("module.model.", prefix);
            Assert.Equal(new[] { "conv_stem.weight", "bn1.bias" }, tensors.Keys);

            (tensors, prefix) = KeyMapping.StripWrapperPrefix(Keys("module.features.0.0.weight", "classifier.1.bias"));
            Assert.Equal("", prefix); // not every key has it: left alone
            Assert.Equal(2, tensors.Count);
        }
    }
}
