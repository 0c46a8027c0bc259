using System;
using System.IO;
using System.Linq;
using EffNet.Kernels;
using EffNet.Model;
using EffNet.Runtime.Tests.Reliability;
using Xunit;

namespace EffNet.Runtime.Tests
{
    /// <summary>EfficientNet-Lite from the family table, against timm's numbers and names, and through a weight blob.</summary>
    public sealed class LiteFamilyTests
    {
        static NetworkLayout Lite(int phi, EfficientNetPadding padding = EfficientNetPadding.Same)
            => NetworkLayout.Create(ModelConfig.ForMember(ModelFamily.EfficientNetLite, phi, padding: padding));

        [Theory]
        [InlineData(0, 4_652_008, 296, 16)]
        [InlineData(1, 5_416_680, 386, 21)]
        [InlineData(2, 6_092_072, 386, 21)]
        [InlineData(3, 8_197_096, 440, 24)]
        [InlineData(4, 13_006_568, 548, 30)]
        public void Lite_members_have_timms_parameter_count_tensor_count_and_blocks(int phi, long parameters, int tensors, int blocks)
        {
            NetworkLayout layout = Lite(phi);
            Assert.Equal(parameters, layout.ParameterCount);
            Assert.Equal(tensors, layout.ReferenceStateDict().Count());
            Assert.Equal(blocks, layout.Blocks.Count);
        }

        [Theory]
        [InlineData(0)]
        [InlineData(4)]
        public void Lite_keeps_a_32_channel_stem_a_1280_channel_head_and_single_first_and_last_blocks_at_every_width(int phi)
        {
            NetworkLayout layout = Lite(phi);
            Assert.Equal(32, layout.Stem.OutChannels);
            Assert.Equal(1280, layout.Head.OutChannels);
            Assert.Single(layout.Blocks, b => b.Stage == 0);
            Assert.Single(layout.Blocks, b => b.Stage == 6);
        }

        [Fact]
        public void Lite_blocks_have_ReLU6_and_no_squeeze_excitation()
        {
            NetworkLayout layout = Lite(2);
            Assert.All(layout.Blocks, b =>
            {
                Assert.Equal(Activation.ReLU6, b.Activation);
                Assert.False(b.HasSqueezeExcitation);
                Assert.Null(b.SqueezeReduce);
            });
            Assert.Equal(Activation.ReLU6, layout.Stem.Activation);
            Assert.Equal(Activation.ReLU6, layout.Head.Activation);
            Assert.DoesNotContain(layout.Layers, l => l.Kind is LayerKind.SqueezeReduce or LayerKind.SqueezeExpand);
        }

        [Fact]
        public void Lite_weights_carry_timms_key_names_in_timms_order()
        {
            string[] keys = Lite(0).ReferenceStateDict().Select(k => k.Key).ToArray();
            Assert.Equal(new[] { "conv_stem.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                                 "blocks.0.0.conv_dw.weight" }, keys.Take(7));
            // Stage 0 is depthwise-separable (conv_dw, bn1, conv_pw, bn2); later blocks are inverted residuals.
            Assert.Equal(new[] { "blocks.0.0.conv_dw.weight", "blocks.0.0.conv_pw.weight" }, keys.Where(k => k.StartsWith("blocks.0.0.conv")));
            Assert.Equal(new[] { "blocks.1.0.conv_pw.weight", "blocks.1.0.conv_dw.weight", "blocks.1.0.conv_pwl.weight" },
                         keys.Where(k => k.StartsWith("blocks.1.0.conv")));
            Assert.Equal(new[] { "conv_head.weight", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked",
                                 "classifier.weight", "classifier.bias" }, keys.TakeLast(8));
            Assert.DoesNotContain(keys, k => k.Contains(".se."));
        }

        [Fact]
        public void Lite0_and_B0_never_share_a_fingerprint_even_where_their_numbers_would_agree()
        {
            var b0 = NetworkLayout.Create(ModelConfig.ForPhi(0, padding: EfficientNetPadding.Same));
            Assert.NotEqual(b0.Fingerprint, Lite(0).Fingerprint);
            Assert.NotEqual(Lite(0, EfficientNetPadding.Symmetric).Fingerprint, Lite(0).Fingerprint);
            Assert.StartsWith("effnet-lite-v1 ", Lite(0).CanonicalArchitecture);
        }

        [Fact]
        public void Lite_member_names_and_reference_names_follow_timm()
        {
            ModelConfig config = Lite(3).Config;
            Assert.Equal("EfficientNet-Lite3", config.VariantName);
            Assert.Equal(300, config.Resolution);
            Assert.Equal("timm tf_efficientnet_lite3", config.FamilySpec.ReferenceName(3, EfficientNetPadding.Same));
            Assert.Equal("timm efficientnet_lite0", config.FamilySpec.ReferenceName(0, EfficientNetPadding.Symmetric));
        }

        [Fact]
        public void A_Lite_blob_carries_its_family_and_loads_as_Lite_in_the_runtime_model()
        {
            NetworkLayout layout = Lite(0);
            var blob = new MemoryStream();
            WeightBlobWriter.Write(blob, layout, SyntheticWeights.CreateStateDict(layout, 7), 1e-3f, "synthetic Lite0");

            blob.Position = 0;
            WeightBlobInfo info = WeightBlob.ReadInfo(blob, "lite0.effw");
            Assert.Equal(ModelFamily.EfficientNetLite, info.Config.Family);
            Assert.Equal(layout.Fingerprint, info.Fingerprint);

            blob.Position = 0;
            using EfficientNetModel model = EfficientNetModel.Load(blob, new ModelOptions { Threads = 1 });
            Assert.Equal("EfficientNet-Lite0", model.Config.VariantName);
            Assert.Equal(layout.Fingerprint, model.Layout.Fingerprint);
        }

        [Fact]
        public void A_blob_naming_an_unknown_family_is_refused_as_coming_from_a_newer_EffNet()
        {
            NetworkLayout layout = Lite(0);
            var blob = new MemoryStream();
            WeightBlobWriter.Write(blob, layout, SyntheticWeights.CreateStateDict(layout, 7), 1e-3f, "synthetic Lite0");
            byte[] bytes = blob.ToArray();
            // The family field is the directory's last: tag 0x8004, length 1, the family byte.
            int at = IndexOf(bytes, new byte[] { 0x04, 0x80, 1, 0, 0, 0, (byte)ModelFamily.EfficientNetLite });
            Assert.True(at > 0, "no family field in a Lite blob");
            bytes[at + 6] = 9;
            var error = Assert.Throws<WeightFormatException>(() => WeightBlob.ReadInfo(new MemoryStream(BlobBytes.Resign(bytes)), "future.effw"));
            Assert.Contains("model family", error.Message);
            Assert.Contains("newer EffNet", error.Message);
        }

        static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
                if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
            return -1;
        }
    }
}
