using System;
using System.Collections.Generic;
using System.IO;
using EffNet.Model;
using EffNet.Runtime.Tests.Reliability;
using Xunit;

namespace EffNet.Runtime.Tests
{
    /// <summary>Weight blob v1: round trip, and a clear error for every way a file can be wrong.</summary>
    public sealed class WeightBlobTests
    {
        static readonly NetworkLayout Small = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 128, 1000, EfficientNetPadding.Symmetric));

        static byte[] SmallBlob()
        {
            var stream = new MemoryStream();
            WeightBlobWriter.Write(stream, Small, SyntheticWeights.CreateStateDict(Small), BatchNormFolding.PyTorchEpsilon, "unit test");
            return stream.ToArray();
        }

        static WeightFormatException ReadFails(byte[] bytes, NetworkLayout? layout = null)
            => Assert.Throws<WeightFormatException>(() => WeightBlob.Read(new MemoryStream(bytes), layout ?? Small, "test.effw").Dispose());

        [Fact]
        public void Written_blob_reads_back_with_the_same_packed_weights_and_description()
        {
            byte[] bytes = SmallBlob();
            float[] packed = WeightBlobWriter.Pack(Small, SyntheticWeights.CreateStateDict(Small), BatchNormFolding.PyTorchEpsilon);
            using WeightBlob blob = WeightBlob.Read(new MemoryStream(bytes), Small);
            Assert.Equal(packed, blob.Weights.ToArray());
            Assert.Equal(Small.Config.DisplayName, blob.Info.ModelDescription);
            Assert.Equal("unit test", blob.Info.SourceDescription);
            Assert.Equal(Small.Fingerprint, blob.Info.Fingerprint);
            Assert.Equal(Small.Config, blob.Info.Config);
        }

        [Fact]
        public void Blob_for_another_model_is_refused_naming_both_models()
        {
            NetworkLayout other = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 160, 1000, EfficientNetPadding.Symmetric));
            WeightFormatException error = ReadFails(SmallBlob(), other);
            Assert.Contains("@128x128", error.Message);
            Assert.Contains("@160x160", error.Message);
            Assert.Contains("test.effw", error.Message);
        }

        [Fact]
        public void Generated_class_refuses_weights_of_another_variant()
        {
            var stream = new MemoryStream(SmallBlob());
            var error = Assert.Throws<WeightFormatException>(() => B0.Load(stream));
            Assert.Contains("EfficientNet (width 0.5, depth 0.6)", error.Message);
            Assert.Contains("EfficientNet-B0 @224x224", error.Message);
        }

        [Fact]
        public void Wrong_magic_says_it_is_not_a_weight_blob()
        {
            byte[] bytes = SmallBlob();
            bytes[0] = (byte)'X';
            Assert.Contains("not an EffNet weight blob", ReadFails(bytes).Message);
        }

        [Fact]
        public void Unknown_version_is_refused_with_both_versions()
        {
            byte[] bytes = SmallBlob();
            bytes[8] = 7;
            Assert.Contains("version 7", ReadFails(bytes).Message);
        }

        [Fact]
        public void A_flipped_data_bit_fails_the_checksum()
        {
            byte[] bytes = SmallBlob();
            bytes[bytes.Length / 2] ^= 0x10;
            Assert.Contains("checksum mismatch", ReadFails(bytes).Message);
        }

        [Theory]
        [InlineData(0)]
        [InlineData(10)]
        [InlineData(64)]
        [InlineData(300)]
        [InlineData(100_000)]
        [InlineData(-16)]
        [InlineData(-1)]
        public void Truncated_file_is_refused_with_an_offset(int keep)
        {
            byte[] bytes = SmallBlob();
            int length = keep >= 0 ? keep : bytes.Length + keep;
            WeightFormatException error = ReadFails(bytes.AsSpan(0, length).ToArray());
            Assert.Matches("offset|truncated", error.Message);
        }

        [Fact]
        public void Truncation_is_detected_even_on_a_stream_that_cannot_seek()
        {
            byte[] bytes = SmallBlob();
            var stream = new NonSeekableStream(bytes.AsSpan(0, bytes.Length - 100).ToArray());
            var error = Assert.Throws<WeightFormatException>(() => WeightBlob.Read(stream, Small).Dispose());
            Assert.Contains("truncated", error.Message);
        }

        [Fact]
        public void Missing_unexpected_and_misshaped_tensors_are_listed_by_name_in_one_error()
        {
            Dictionary<string, SourceTensor> state = SyntheticWeights.CreateStateDict(Small);
            state.Remove("features.0.1.running_var");
            state["classifier.1.weight"] = new SourceTensor(new[] { 10, 640 }, new float[6400]);
            state["extra.weight"] = new SourceTensor(new[] { 1 }, new float[1]);
            var error = Assert.Throws<WeightFormatException>(() => WeightBlobWriter.Pack(Small, state, 1e-5f));
            Assert.Contains("features.0.1.running_var", error.Message);
            Assert.Contains("classifier.1.weight is [10, 640], expected [1000, 640]", error.Message);
            Assert.Contains("extra.weight", error.Message);
        }

        [Fact]
        public void File_writer_replaces_the_target_only_when_the_blob_is_complete()
        {
            string path = Path.Combine(Path.GetTempPath(), "effnet-test-" + Guid.NewGuid().ToString("N") + ".effw");
            try
            {
                File.WriteAllText(path, "old");
                Dictionary<string, SourceTensor> state = SyntheticWeights.CreateStateDict(Small);
                state.Remove("classifier.1.bias");
                Assert.Throws<WeightFormatException>(() => WeightBlobWriter.Write(path, Small, state, 1e-5f, "bad"));
                Assert.Equal("old", File.ReadAllText(path));
                Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, Path.GetFileName(path) + ".partial-*"));

                WeightBlobWriter.Write(path, Small, SyntheticWeights.CreateStateDict(Small), 1e-5f, "good");
                using WeightBlob blob = WeightBlob.Read(path, Small);
                Assert.Equal("good", blob.Info.SourceDescription);
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Fact]
        public void A_blob_after_other_bytes_of_a_stream_loads_from_the_stream_position_to_its_end()
        {
            byte[] blob = SmallBlob();
            MemoryStream After(int skipped, int trailing)
            {
                var stream = new MemoryStream();
                stream.Write(new byte[skipped]);
                stream.Write(blob);
                stream.Write(new byte[trailing]);
                stream.Position = skipped;
                return stream;
            }
            Assert.Equal(Small.Fingerprint, WeightBlob.ReadInfo(After(100, 0)).Fingerprint);
            MemoryStream embedded = After(100, 0);
            using (CustomSmall model = CustomSmall.Load(embedded))
                Assert.Equal(embedded.Length, embedded.Position);
            var error = Assert.Throws<WeightFormatException>(() => CustomSmall.Load(After(100, 1)));
            Assert.Contains($"the file is {blob.Length + 1} bytes but its header", error.Message);
            Assert.Contains("has trailing bytes", error.Message);
        }
    }
}
