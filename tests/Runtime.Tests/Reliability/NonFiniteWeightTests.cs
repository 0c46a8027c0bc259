using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using EffNet.Import;
using EffNet.Model;
using EffNet.Runtime.Tests.Import;
using Xunit;

namespace EffNet.Runtime.Tests.Reliability
{
    /// <summary>NaN and infinite weights: refused when a blob is written, imported or read, unless allowed explicitly.</summary>
    public sealed class NonFiniteWeightTests : IDisposable
    {
        readonly TempDirectory _temp = new TempDirectory();

        public void Dispose() => _temp.Dispose();

        static NetworkLayout Tiny => BlobBytes.Tiny;

        static Dictionary<string, SourceTensor> StateDictWith(string key, int index, float value)
        {
            Dictionary<string, SourceTensor> state = SyntheticWeights.CreateStateDict(Tiny);
            state[key].Data[index] = value;
            return state;
        }

        [Theory]
        [InlineData("features.0.0.weight", 17, float.NaN, "holds NaN at index 17 ([0, 1, 2, 2] of [8, 3, 3, 3])")]
        [InlineData("features.0.1.bias", 3, float.PositiveInfinity, "holds +Infinity at index 3")]
        [InlineData("classifier.1.weight", 0, float.NegativeInfinity, "holds -Infinity at index 0 ([0, 0] of")]
        public void Writer_refuses_a_non_finite_weight_naming_the_tensor_and_the_first_bad_index(string key, int index, float value, string expected)
        {
            var error = Assert.Throws<WeightFormatException>(() => WeightBlobWriter.Pack(Tiny, StateDictWith(key, index, value), 1e-5f));
            Assert.Contains($"tensor '{key}' {expected}", error.Message);
            Assert.Contains("allowNonFinite", error.Message);
        }

        [Fact]
        public void A_negative_running_variance_that_folds_into_NaN_is_refused_naming_the_BatchNorm()
        {
            var error = Assert.Throws<WeightFormatException>(() =>
                WeightBlobWriter.Pack(Tiny, StateDictWith("features.0.1.running_var", 2, -1f), 1e-5f));
            Assert.Contains("folding BatchNorm 'features.0.1'", error.Message);
            Assert.Contains("gives NaN at index 2 ([0, 0, 0, 2] of [3, 3, 3, 8]) of the packed 'features.0.0.weight'", error.Message);
            Assert.Contains("'features.0.1.running_var' + eps must be positive", error.Message);
        }

        [Fact]
        public void Allowed_non_finite_weights_are_written_flagged_and_read_back_as_they_are()
        {
            byte[] blob = BlobBytes.Write(Tiny, StateDictWith("classifier.1.bias", 1, float.NaN), allowNonFinite: true);
            Assert.Equal(WeightBlobFormat.FlagNonFiniteAllowed, BinaryPrimitives.ReadUInt64LittleEndian(blob.AsSpan(56)));
            using WeightBlob read = WeightBlob.Read(new MemoryStream(blob), Tiny);
            Assert.True(read.Info.NonFiniteAllowed);
            Assert.True(float.IsNaN(read.Weights[(int)Tiny.Layers[^1].BiasOffset + 1]));

            Assert.False(WeightBlob.Read(new MemoryStream(BlobBytes.TinyBlob()), Tiny).Info.NonFiniteAllowed);
        }

        [Fact]
        public void Reader_refuses_NaN_in_a_blob_not_written_to_allow_it_even_with_a_valid_checksum()
        {
            byte[] blob = BlobBytes.TinyBlob();
            ConvLayer classifier = Tiny.Layers[^1];
            long at = BlobBytes.DataOffset(blob) + classifier.WeightOffset * 4 + 5 * 4;
            BinaryPrimitives.WriteSingleLittleEndian(blob.AsSpan((int)at), float.NaN);
            var error = Assert.Throws<WeightFormatException>(() => WeightBlob.Read(new MemoryStream(BlobBytes.Resign(blob)), Tiny, "nan.effw"));
            Assert.StartsWith("nan.effw: ", error.Message);
            Assert.Contains($"tensor 'classifier.1.weight' index 5 ([0, 5] of [2, {classifier.InChannels}]) (file offset {at}) holds NaN", error.Message);
            Assert.Contains("not written to allow non-finite values", error.Message);
        }

        [Fact]
        public void Reader_refuses_flags_it_does_not_know()
        {
            byte[] blob = BlobBytes.TinyBlob();
            blob[56] = 0x02;
            var error = Assert.Throws<WeightFormatException>(() => WeightBlob.Read(new MemoryStream(BlobBytes.Resign(blob)), Tiny, "flags.effw"));
            Assert.Contains("the flags at offset 56 are 0x0000000000000002", error.Message);
        }

        /// <summary>The custom net's bf16 safetensors under timm names with one NaN: refused naming the key as the file spells it.</summary>
        [Fact]
        public void Importer_refuses_a_NaN_under_the_checkpoints_own_key_and_writes_nothing_unless_allowed()
        {
            Dictionary<string, SourceTensor> tensors = SafeTensorsFile.Read(Fixtures.PathOf("custom_c10_timm_bf16.safetensors"));
            string key = tensors.Keys.First(k => k.StartsWith("blocks.1.0.conv_dw", StringComparison.Ordinal));
            tensors[key].Data[4] = float.NaN;
            string checkpoint = _temp.File("nan.safetensors"), output = _temp.File("nan.effw");
            SafeTensorsFile.Write(checkpoint, tensors);
            ModelConfig config = new ModelConfig(0.5, 0.6, 128, 10, EfficientNetPadding.Symmetric);

            var error = Assert.Throws<WeightFormatException>(() => CheckpointImporter.Import(checkpoint, config, output));
            Assert.StartsWith(checkpoint + ": ", error.Message);
            Assert.Contains($"tensor '{key}' holds NaN at index 4", error.Message);
            Assert.False(File.Exists(output));
            Assert.Single(Directory.GetFiles(_temp.Path)); // the checkpoint: no blob, no temporary file

            CheckpointImporter.Import(checkpoint, config, output, allowNonFinite: true);
            using IEfficientNetModel model = CustomSmall10.Load(output);
            Assert.True(model.WeightInfo.NonFiniteAllowed);
        }

        [Fact]
        public void Importer_names_the_checkpoint_when_folding_fails()
        {
            Dictionary<string, SourceTensor> tensors = SafeTensorsFile.Read(Fixtures.PathOf("custom_c10_torchvision_bf16.safetensors"));
            tensors["features.8.1.running_var"].Data[0] = -5f;
            string checkpoint = _temp.File("negative_var.safetensors");
            SafeTensorsFile.Write(checkpoint, tensors);
            var error = Assert.Throws<WeightFormatException>(() =>
                CheckpointImporter.Import(checkpoint, new ModelConfig(0.5, 0.6, 128, 10, EfficientNetPadding.Symmetric), _temp.File("x.effw")));
            Assert.StartsWith(checkpoint + ": folding BatchNorm 'features.8.1'", error.Message);
        }
    }
}
