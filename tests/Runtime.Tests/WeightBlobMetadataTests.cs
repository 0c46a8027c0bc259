using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using EffNet.Import;
using EffNet.Model;
using EffNet.Runtime.Tests.Import;
using EffNet.Runtime.Tests.Reliability;
using Xunit;

namespace EffNet.Runtime.Tests
{
    /// <summary>Blob v2's metadata: labels, preprocessing and provenance written, read back, refused when wrong; v1 blobs still read.</summary>
    public sealed class WeightBlobMetadataTests
    {
        static WeightBlobInfo ReadInfo(byte[] blob) => WeightBlob.ReadInfo(new MemoryStream(blob), "test.effw");

        static WeightBlobMetadata Metadata(params string[] labels) => BlobBytes.TinyMetadata with { Labels = labels };

        [Fact]
        public void Every_metadata_field_round_trips_through_a_blob()
        {
            var labels = new[] { "crane", "crane" }; // duplicates are allowed: ImageNet has two cranes
            var preprocessing = new PreprocessingInfo(40, 32, PreprocessingInterpolation.Bilinear, (0.1f, 0.2f, 0.3f), (0.4f, 0.5f, 0.6f));
            var provenance = new WeightProvenance("mödel.pth", Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1, 2, 3 })),
                                                  "2.0.0+abc", new DateTimeOffset(2030, 12, 31, 23, 59, 58, TimeSpan.Zero));
            byte[] blob = BlobBytes.Write(BlobBytes.Tiny, metadata: new WeightBlobMetadata(labels, preprocessing, provenance));

            using WeightBlob read = WeightBlob.Read(new MemoryStream(blob), BlobBytes.Tiny);
            Assert.Equal(2u, read.Info.Version);
            Assert.Equal(labels, read.Info.Metadata.Labels);
            Assert.Equal(preprocessing, read.Info.Metadata.Preprocessing);
            Assert.Equal(provenance, read.Info.Metadata.Provenance);
            Assert.Equal("2030-12-31T23:59:58Z", read.Info.Metadata.Provenance!.CreatedText);
            Assert.Equal(WeightBlobWriter.Pack(BlobBytes.Tiny, SyntheticWeights.CreateStateDict(BlobBytes.Tiny), BatchNormFolding.PyTorchEpsilon), read.Weights.ToArray());
        }

        [Fact]
        public void A_blob_written_without_metadata_has_none()
        {
            WeightBlobMetadata metadata = ReadInfo(BlobBytes.Write(BlobBytes.Tiny)).Metadata;
            Assert.Null(metadata.Labels);
            Assert.Null(metadata.Preprocessing);
            Assert.Null(metadata.Provenance);
        }

        [Fact]
        public void A_v1_blob_written_before_v2_still_loads_with_its_weights_and_no_labels()
        {
            using Tiny model = Tiny.Load(Fixtures.PathOf("blob_v1/tiny_v1.effw"));
            Assert.Equal(1u, model.WeightInfo.Version);
            Assert.Null(model.Labels);
            Assert.Null(model.WeightInfo.Metadata.Provenance);
            Assert.Null(model.WeightInfo.Metadata.Preprocessing); // a custom size has no published preset
            Assert.Equal("synthetic weights, written by format v1", model.WeightInfo.SourceDescription);

            using WeightBlob blob = WeightBlob.Read(Fixtures.PathOf("blob_v1/tiny_v1.effw"), BlobBytes.Tiny);
            Assert.Equal(WeightBlobWriter.Pack(BlobBytes.Tiny, SyntheticWeights.CreateStateDict(BlobBytes.Tiny), BatchNormFolding.PyTorchEpsilon), blob.Weights.ToArray());
        }

        [Fact]
        public void A_v1_B0_blob_reads_with_torchvisions_published_preprocessing()
        {
            // The header and directory of a v1 B0 blob (its 16 MB of weights left out): ReadInfo reads no further on a stream that cannot seek.
            var head = new NonSeekableStream(Fixtures.Bytes("blob_v1/b0_v1_head.effw"));
            WeightBlobInfo info = WeightBlob.ReadInfo(head, "b0_v1_head.effw");
            Assert.Equal(1u, info.Version);
            Assert.Equal(ModelConfig.ForPhi(0), info.Config);
            Assert.Equal(new PreprocessingInfo(256, 224, PreprocessingInterpolation.Bicubic), info.Metadata.Preprocessing);
            Assert.Null(info.Metadata.Labels);
        }

        [Theory]
        [InlineData(0, 224, EfficientNetPadding.Symmetric, 256)]
        [InlineData(1, 240, EfficientNetPadding.Symmetric, 255)]
        [InlineData(2, 288, EfficientNetPadding.Symmetric, 288)] // torchvision evaluates B2 at 288
        [InlineData(7, 600, EfficientNetPadding.Symmetric, 600)]
        [InlineData(2, 260, EfficientNetPadding.Symmetric, null)] // B2's native size: no published preset crops to it
        [InlineData(0, 160, EfficientNetPadding.Symmetric, null)]
        [InlineData(0, 224, EfficientNetPadding.Same, null)] // TF ports were published with other crop ratios
        public void The_published_preset_is_torchvisions_for_a_B_variant_at_the_size_its_preset_crops_to(int phi, int resolution, EfficientNetPadding padding, int? resize)
        {
            PreprocessingInfo? preset = PreprocessingInfo.PublishedFor(ModelConfig.ForPhi(phi, resolution, 10, padding));
            Assert.Equal(resize, preset?.ResizeSize);
            if (preset is not null) Assert.Equal(resolution, preset.CropSize);
            Assert.Null(PreprocessingInfo.PublishedFor(new ModelConfig(0.5, 0.6, 224, 1000, EfficientNetPadding.Symmetric)));
        }

        [Theory]
        [InlineData("3 labels", "there are 3 labels but the model has 2 classes", "a", "b", "c")]
        [InlineData("an empty label", "label 1 (\"  \") cannot be used: it is empty", "a", "  ")]
        [InlineData("white space around", "label 0 (\" a\") cannot be used: it starts or ends with white space", " a", "b")]
        [InlineData("a line break", "cannot be used: it holds a line break", "a\nb", "c")]
        public void The_writer_refuses_labels_that_do_not_fit_naming_the_label_and_the_rule(string what, string expected, params string[] labels)
        {
            var error = Assert.Throws<ArgumentException>(() => BlobBytes.Write(BlobBytes.Tiny, metadata: Metadata(labels)));
            Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), what + ": " + error.Message);
        }

        [Fact]
        public void A_label_of_256_bytes_is_kept_and_one_of_257_refused()
        {
            string longest = new string('é', 128); // 2 bytes each in UTF-8
            Assert.Equal(longest, ReadInfo(BlobBytes.Write(BlobBytes.Tiny, metadata: Metadata(longest, "b"))).Metadata.Labels![0]);
            var error = Assert.Throws<ArgumentException>(() => BlobBytes.Write(BlobBytes.Tiny, metadata: Metadata(longest + "x", "b")));
            Assert.Contains("it is 257 bytes of UTF-8, more than 256", error.Message);
        }

        [Fact]
        public void The_writer_refuses_a_crop_that_is_not_the_models_input()
        {
            var metadata = BlobBytes.TinyMetadata with { Preprocessing = new PreprocessingInfo(256, 224, PreprocessingInterpolation.Bicubic) };
            var error = Assert.Throws<ArgumentException>(() => BlobBytes.Write(BlobBytes.Tiny, metadata: metadata));
            Assert.Contains("the preprocessing crops 224 pixels but the model's input is 32", error.Message);
        }

        [Fact]
        public void An_unknown_optional_metadata_field_is_skipped()
        {
            byte[] blob = BlobBytes.TinyBlob();
            int provenance = BlobBytes.MetadataField(blob, WeightBlobFormat.TagProvenance);
            BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(provenance - 6), 77); // a field of a later EffNet
            using WeightBlob read = WeightBlob.Read(new MemoryStream(BlobBytes.Resign(blob)), BlobBytes.Tiny);
            Assert.Null(read.Info.Metadata.Provenance);
            Assert.Equal(BlobBytes.TinyMetadata.Labels, read.Info.Metadata.Labels);
        }

        [Fact]
        public void An_appended_metadata_field_of_a_later_version_is_skipped_and_one_that_must_be_understood_is_refused()
        {
            byte[] Append(ushort tag) => BlobBytes.WithDirectory(BlobBytes.TinyBlob(), directory =>
            {
                int count = BlobBytes.MetadataOffset(BlobBytes.TinyBlob()) - 64;
                byte[] longer = directory.Concat(new byte[] { (byte)tag, (byte)(tag >> 8), 3, 0, 0, 0, 1, 2, 3 }).ToArray();
                BinaryPrimitives.WriteUInt32LittleEndian(longer.AsSpan(count), BinaryPrimitives.ReadUInt32LittleEndian(longer.AsSpan(count)) + 1);
                return longer;
            });
            using (WeightBlob read = WeightBlob.Read(new MemoryStream(Append(100)), BlobBytes.Tiny))
                Assert.Equal(BlobBytes.TinyMetadata.Provenance, read.Info.Metadata.Provenance);
            var error = Assert.Throws<WeightFormatException>(() => WeightBlob.Read(new MemoryStream(Append(0x8064)), BlobBytes.Tiny, "new.effw"));
            Assert.Contains("metadata field 32868", error.Message);
            Assert.Contains("Update EffNet", error.Message);
        }

        [Fact]
        public void Generated_classes_expose_Labels_Config_and_WeightInfo_without_a_cast()
        {
            using Tiny model = Tiny.Load(new MemoryStream(BlobBytes.TinyBlob()));
            Assert.Equal(BlobBytes.Tiny.Config, Tiny.Config);
            Assert.Equal(new[] { "cat", "chat noir" }, model.Labels);
            Assert.Equal(BlobBytes.TinyMetadata.Preprocessing, model.WeightInfo.Metadata.Preprocessing);
            IEfficientNetModel any = model;
            Assert.Same(model.Labels, any.Labels);
        }

        // ----- import -----

        [Fact]
        public void Import_records_labels_the_published_preset_and_the_checkpoints_name_and_SHA_256()
        {
            using var temp = new TempDirectory();
            string checkpoint = temp.Write("b0_c10.pt", Fixtures.Bytes("b0_c10_fp16.pt"));
            string[] labels = Enumerable.Range(0, 10).Select(i => "class " + i).ToArray();
            var created = new DateTimeOffset(2025, 6, 1, 8, 30, 0, TimeSpan.Zero);
            ImportResult result = CheckpointImporter.Import(checkpoint, ModelConfig.ForPhi(0, numClasses: 10), checkpoint + ".effw",
                metadata: new ImportMetadata { Labels = labels, CreatedUtc = created });

            WeightBlobMetadata read = WeightBlob.ReadInfo(checkpoint + ".effw").Metadata;
            Assert.Equal(labels, read.Labels);
            Assert.Equal(PreprocessingInfo.ForTorchvision(0), read.Preprocessing);
            Assert.Equal(new WeightProvenance("b0_c10.pt", Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(checkpoint))),
                                              WeightProvenance.CurrentToolVersion, created), read.Provenance);
            Assert.Equal(read.Provenance, result.Metadata.Provenance);
        }

        [Fact]
        public void Two_imports_with_the_same_creation_time_are_identical_byte_for_byte()
        {
            using var temp = new TempDirectory();
            string checkpoint = temp.Write("custom_c10.pt", Fixtures.Bytes("custom_c10.pt"));
            var config = new ModelConfig(0.5, 0.6, 128, 10, EfficientNetPadding.Symmetric);
            var metadata = new ImportMetadata { CreatedUtc = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero) };
            CheckpointImporter.Import(checkpoint, config, temp.File("a.effw"), metadata: metadata);
            CheckpointImporter.Import(checkpoint, config, temp.File("b.effw"), metadata: metadata);
            Assert.Equal(File.ReadAllBytes(temp.File("a.effw")), File.ReadAllBytes(temp.File("b.effw")));
        }

        [Fact]
        public void Import_refuses_labels_that_do_not_match_the_classes_before_reading_the_checkpoint()
        {
            using var temp = new TempDirectory();
            string checkpoint = temp.Write("b0_c10.pt", Fixtures.Bytes("b0_c10_fp16.pt"));
            var error = Assert.Throws<ArgumentException>(() => CheckpointImporter.Import(checkpoint, ModelConfig.ForPhi(0, numClasses: 10), temp.File("out.effw"),
                metadata: new ImportMetadata { Labels = new[] { "a", "b" } }));
            Assert.Contains("there are 2 labels but the model has 10 classes", error.Message);
            Assert.False(File.Exists(temp.File("out.effw")));
        }

        // ----- labels files -----

        static string[] Parse(string text) => LabelsFile.Parse(Encoding.UTF8.GetBytes(text), "labels.txt");

        static string ParseFails(string text) => Assert.Throws<WeightFormatException>(() => Parse(text)).Message;

        [Fact]
        public void A_labels_file_has_one_label_per_line_with_a_BOM_CRLF_and_trailing_empty_lines_allowed()
        {
            byte[] bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("tench\r\n  goldfish \r\ngreat white shark\r\n\r\n\n")).ToArray();
            Assert.Equal(new[] { "tench", "goldfish", "great white shark" }, LabelsFile.Parse(bytes));
        }

        [Fact]
        public void A_labels_file_may_be_a_JSON_array_of_strings()
            => Assert.Equal(new[] { "tench", "gold\"fish", "crane", "crane" }, Parse(" [\"tench\", \" gold\\\"fish\",\n \"crane\", \"crane\"]\n"));

        [Theory]
        [InlineData("a\n\nb\n", "labels.txt: line 2 cannot be a label: it is empty; write one label per line")]
        [InlineData("a\nb\tc\n", "labels.txt: line 2 cannot be a label: it holds a line break, tab or other control character")]
        [InlineData("", "labels.txt: the labels file holds no labels")]
        [InlineData("\n\n", "labels.txt: the labels file holds no labels")]
        [InlineData("[\"a\",\n 7]", "labels.txt: line 2 (element 1) is a number, not a string")]
        [InlineData("[\"a\",\n \"\"]", "labels.txt: line 2 (element 1) cannot be a label: it is empty")]
        [InlineData("[\"a\",\n\n \"b\"", "labels.txt: line 3 is not valid JSON")]
        [InlineData("[\"a\"] x", "labels.txt: line 1 is not valid JSON")]
        public void A_bad_labels_file_is_refused_naming_the_file_the_line_and_the_fix(string text, string expected)
        {
            string message = ParseFails(text);
            Assert.True(message.StartsWith(expected, StringComparison.Ordinal), message);
        }

        [Fact]
        public void A_labels_file_that_is_not_UTF_8_names_the_line()
        {
            byte[] bytes = Encoding.UTF8.GetBytes("a\nb\nc").Concat(new byte[] { 0xFF }).ToArray();
            Assert.Equal("labels.txt: line 3 is not valid UTF-8. Save the file as UTF-8.",
                Assert.Throws<WeightFormatException>(() => LabelsFile.Parse(bytes, "labels.txt")).Message);
        }

        [Fact]
        public void A_label_over_256_bytes_in_a_labels_file_names_its_line()
            => Assert.Contains("line 2 cannot be a label: it is 300 bytes of UTF-8, more than 256", ParseFails("a\n" + new string('x', 300)));
    }
}
