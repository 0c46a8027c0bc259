using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using EffNet.Import;
using EffNet.Model;
using Xunit;

namespace EffNet.Runtime.Tests.Import
{
    /// <summary>
    /// What a checkpoint holds, read from its keys and shapes (CheckpointImporter.Inspect), and imports that take the model
    /// from it: options override, and options that contradict the checkpoint are refused with the command that imports it.
    /// </summary>
    public sealed class ModelInferenceTests : IDisposable
    {
        readonly TempDirectory _temp = new TempDirectory();

        public void Dispose() => _temp.Dispose();

        static CheckpointInfo InspectDescription(ModelConfig config, bool timm = false)
            => CheckpointImporter.Inspect(DescriptionOnly.Of(NetworkLayout.Create(config), timm), "described.pt");

        /// <summary>A torch.save file of <paramref name="config"/>'s state dict, every tensor zeros: for small models and B0.</summary>
        string ZerosCheckpoint(string name, ModelConfig config)
            => _temp.Write(name, MemoryBombs.ModelCheckpoint(NetworkLayout.Create(config), (_, _) => null));

        // ----- what the checkpoint holds -----

        public static TheoryData<int, int, bool> OfficialLayouts()
        {
            var data = new TheoryData<int, int, bool>();
            for (int phi = Scaling.MinPhi; phi <= Scaling.MaxPhi; phi++)
            {
                data.Add(phi, ModelConfig.DefaultNumClasses, false);
                data.Add(phi, 3 + phi, phi % 2 == 1); // odd variants under timm names
            }
            return data;
        }

        [Theory]
        [MemberData(nameof(OfficialLayouts))]
        public void Every_official_variant_is_inferred_exactly_with_its_class_count(int phi, int classes, bool timm)
        {
            CheckpointInfo info = InspectDescription(ModelConfig.ForPhi(phi, numClasses: classes), timm);
            Assert.Equal(phi, info.Phi);
            Assert.Equal(classes, info.NumClasses);
            Assert.Equal(ModelConfig.ForPhi(phi, numClasses: classes), info.Config);
            Assert.Equal(timm ? KeyLayout.Timm : KeyLayout.Torchvision, info.Layout);
            Assert.Equal(timm ? WeightSource.Timm : WeightSource.Torchvision, info.Source);
            Assert.Equal(timm, info.SourceAssumed);
            Assert.Equal(timm ? 1e-5f : BatchNormFolding.TorchvisionEpsilon(phi), info.DefaultEpsilon);
            Assert.Equal($"EfficientNet-B{phi} with {classes} classes", info.ModelName);
        }

        [Fact]
        public void A_custom_width_and_depth_are_read_from_the_shapes()
        {
            CheckpointInfo info = CheckpointImporter.Inspect(Fixtures.PathOf("custom_c10.pt"));
            Assert.Equal(-1, info.Phi);
            Assert.Equal(0.5, info.Width);
            Assert.Equal(0.6, info.Depth);
            Assert.Equal(new ModelConfig(0.5, 0.6, 224, 10, EfficientNetPadding.Symmetric), info.Config);
            Assert.Equal(16, info.Shape.StemChannels);
            Assert.Equal(new[] { 1, 2, 2, 2, 2, 3, 1 }, info.Shape.BlocksPerStage);
        }

        [Fact]
        public void Depths_that_give_the_same_blocks_are_all_listed_and_leave_the_config_open()
        {
            // Depth 0.8, 0.9 and 1.0 all give B0's 1/2/2/3/3/4/1 blocks per stage.
            CheckpointInfo info = InspectDescription(new ModelConfig(0.5, 0.9, 224, 10, EfficientNetPadding.Symmetric));
            Assert.Equal(new[] { 0.5 }, info.Widths);
            Assert.Equal(new[] { 0.8, 0.9, 1.0 }, info.Depths);
            Assert.Null(info.Depth);
            Assert.Null(info.Config);
        }

        [Fact]
        public void Timm_metadata_that_names_a_tf_efficientnet_makes_it_tensorflow_weights()
        {
            Dictionary<string, SourceTensor> tensors = CheckpointReader.Read(Fixtures.PathOf("custom_c10_timm_bf16.safetensors"));
            string path = _temp.File("tf.safetensors");
            SafeTensorsFile.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["architecture"] = "tf_efficientnet_b0" });
            CheckpointInfo info = CheckpointImporter.Inspect(path);
            Assert.Equal(WeightSource.TimmTensorFlow, info.Source);
            Assert.False(info.SourceAssumed);
            Assert.Equal(EfficientNetPadding.Same, info.Config!.Padding);
            Assert.Equal(1e-3f, info.DefaultEpsilon);

            var error = Assert.Throws<CheckpointMismatchException>(() =>
                CheckpointImporter.Import(path, _temp.File("x.effw"), new ImportOptions { Padding = EfficientNetPadding.Symmetric }));
            Assert.Contains("--padding torch contradicts its timm key names and its metadata: timm tf_efficientnet_* weights use TF-SAME padding", error.Message);
        }

        [Theory]
        [InlineData(0.25, 0.3)]
        [InlineData(0.5, 0.6)]
        [InlineData(1.35, 2.7)]
        [InlineData(4.0, 8.0)]
        public void The_shape_inference_compares_against_is_the_shape_the_layout_builds(double width, double depth)
        {
            NetworkShape built = NetworkShape.Of(NetworkLayout.Create(new ModelConfig(width, depth, 224, 1000, EfficientNetPadding.Symmetric)));
            Assert.True(built.SameBody(NetworkShape.Of(width, depth)));
        }

        [Fact]
        public void A_state_dict_without_a_classifier_cannot_be_told()
        {
            Dictionary<string, SourceTensor> tensors = CheckpointReader.Read(Fixtures.PathOf("custom_c10_torchvision_bf16.safetensors"));
            tensors.Remove("classifier.1.weight");
            tensors.Remove("classifier.1.bias");
            string path = _temp.File("headless.safetensors");
            SafeTensorsFile.Write(path, tensors);
            var error = Assert.Throws<WeightFormatException>(() => CheckpointImporter.Inspect(path));
            Assert.Contains("cannot tell which EfficientNet this is: it has no 'classifier.1.weight'", error.Message);
        }

        [Theory]
        [InlineData("features.3.0.block.3.0.weight")] // a stage's projection: its width comes from the BatchNorm after it
        [InlineData("features.0.0.weight")]
        [InlineData("classifier.1.weight")]
        public void One_lost_tensor_that_tells_a_width_is_named_not_the_network_unrecognised(string lost)
        {
            Dictionary<string, SourceTensor> tensors = CheckpointReader.Read(Fixtures.PathOf("custom_c10_torchvision_bf16.safetensors"));
            tensors.Remove(lost);
            string path = _temp.File("lost.safetensors");
            SafeTensorsFile.Write(path, tensors);
            Assert.Equal(new ModelConfig(0.5, 0.6, 224, 10, EfficientNetPadding.Symmetric), CheckpointImporter.Inspect(path).Config);
            var error = Assert.Throws<WeightFormatException>(() => CheckpointImporter.Import(path, _temp.File("x.effw"), new ImportOptions { Resolution = 128 }));
            Assert.Contains($"1 tensor(s) missing: {lost}.", error.Message);
        }

        // ----- imports that take the model from the checkpoint -----

        [Fact]
        public void A_five_class_B0_imports_with_no_options()
        {
            ModelConfig b0 = ModelConfig.ForPhi(0, numClasses: 5);
            string blob = _temp.File("b0_5.effw");
            ImportResult result = CheckpointImporter.Import(ZerosCheckpoint("b0_5cls.pt", b0), blob);
            Assert.Equal(b0, result.Config);
            Assert.Equal(1e-5f, result.BatchNormEpsilon);
            Assert.Equal("EfficientNet-B0 with 5 classes, torchvision weights: symmetric padding, BatchNorm eps 0.00001.", result.Summary);
            Assert.Equal(NetworkLayout.Create(b0).Fingerprint, WeightBlob.ReadInfo(blob).Fingerprint);
        }

        [Theory]
        [InlineData("b0_c10_fp16.pt", 224)]
        [InlineData("custom_c10.pt", 128)]
        [InlineData("custom_c10_timm_bf16.safetensors", 128)]
        public void An_inferred_import_writes_the_same_blob_as_one_for_the_given_model(string checkpoint, int resolution)
        {
            string json = checkpoint.StartsWith("b0", StringComparison.Ordinal) ? "b0_c10_fp16.json" : checkpoint.EndsWith(".pt", StringComparison.Ordinal) ? "custom_c10.json" : "custom_c10_bf16.json";
            ModelConfig config = Golden.LoadFile(Fixtures.PathOf(json)).Config;
            string given = _temp.File("given.effw"), inferred = _temp.File("inferred.effw");
            var created = new ImportMetadata { CreatedUtc = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero) }; // the one field that differs by run
            CheckpointImporter.Import(Fixtures.PathOf(checkpoint), config, given, metadata: created);
            ImportResult result = CheckpointImporter.Import(Fixtures.PathOf(checkpoint), inferred,
                new ImportOptions { Resolution = resolution, MetadataFor = _ => created });
            Assert.Equal(config, result.Config);
            Assert.Equal(File.ReadAllBytes(given), File.ReadAllBytes(inferred));
        }

        [Fact]
        public void Timm_names_are_taken_as_efficientnet_b_and_the_summary_says_how_to_import_a_tf_port()
        {
            string path = Fixtures.PathOf("custom_c10_timm_bf16.safetensors");
            ImportResult assumed = CheckpointImporter.Import(path, _temp.File("timm.effw"));
            Assert.Equal(EfficientNetPadding.Symmetric, assumed.Config.Padding);
            Assert.Equal(1e-5f, assumed.BatchNormEpsilon);
            Assert.Contains("timm efficientnet_b* weights (assumed: timm names are the same for tf_efficientnet_*, whose weights need --padding tf)", assumed.Summary);

            ImportResult tf = CheckpointImporter.Import(path, _temp.File("tf.effw"), new ImportOptions { Padding = EfficientNetPadding.Same });
            Assert.Equal(EfficientNetPadding.Same, tf.Config.Padding);
            Assert.Equal(1e-3f, tf.BatchNormEpsilon);
            Assert.Contains("timm tf_efficientnet_* weights (chosen by --padding tf): TF-SAME padding, BatchNorm eps 0.001.", tf.Summary);
            Assert.DoesNotContain("forced", tf.SourceDescription);
        }

        // ----- options that contradict the checkpoint -----

        [Fact]
        public void A_phi_the_shapes_do_not_have_is_refused_in_one_short_line_with_the_command_to_use()
        {
            string output = _temp.File("b3.effw");
            var error = Assert.Throws<CheckpointMismatchException>(() =>
                CheckpointImporter.Import(Fixtures.PathOf("b0_c10_fp16.pt"), output, new ImportOptions { Phi = 3 }));
            Assert.Equal(Fixtures.PathOf("b0_c10_fp16.pt") + ": --phi 3 does not fit: it holds EfficientNet-B0 with 10 classes, not EfficientNet-B3. " +
                         "Import it with: effnet import b0_c10_fp16.pt -o b3.effw", error.Message);
            Assert.Equal("effnet import 'my ckpt.pt' -o out/b0.effw", error.Suggested.ToCommand("my ckpt.pt", "out/b0.effw"));
            Assert.False(error.Forceable);
            Assert.False(File.Exists(output));
        }

        [Fact]
        public void A_mismatch_report_stays_short_however_far_the_model_is_off()
        {
            // B0's 360 tensors against B7's 1200: a description and a command, no tensor list.
            string path = Fixtures.PathOf("b0_c10_fp16.pt");
            var given = Assert.Throws<CheckpointMismatchException>(() =>
                CheckpointImporter.Import(path, _temp.File("x.effw"), new ImportOptions { Phi = 7, NumClasses = 1000 }));
            Assert.StartsWith(path + ": --phi 7 does not fit: it holds EfficientNet-B0 with 10 classes, not EfficientNet-B7. --classes 1000 does not fit", given.Message);
            Assert.EndsWith("Import it with: effnet import b0_c10_fp16.pt -o x.effw", given.Message);
            Assert.DoesNotContain('\n', given.Message);
            Assert.True(given.Message.Length - path.Length < 250, given.Message);

            var configured = Assert.Throws<WeightFormatException>(() => CheckpointImporter.Import(path, ModelConfig.ForPhi(7), _temp.File("x.effw")));
            Assert.Contains("the checkpoint holds EfficientNet-B0 with 10 classes, not EfficientNet-B7", configured.Message);
            Assert.DoesNotContain('\n', configured.Message);
            Assert.True(configured.Message.Length - path.Length < 250, configured.Message);
        }

        [Fact]
        public void A_class_count_the_classifier_does_not_have_is_refused()
        {
            var error = Assert.Throws<CheckpointMismatchException>(() =>
                CheckpointImporter.Import(Fixtures.PathOf("b0_c10_fp16.pt"), _temp.File("x.effw"), new ImportOptions { NumClasses = 1000, Resolution = 288 }));
            Assert.Contains("--classes 1000 does not fit: its classifier has 10 outputs", error.Message);
            Assert.EndsWith("effnet import b0_c10_fp16.pt -o x.effw --resolution 288", error.Message); // the other options stay
        }

        [Fact]
        public void Tf_padding_on_torchvision_names_is_refused_and_with_force_imported_and_recorded()
        {
            string checkpoint = Fixtures.PathOf("b0_c10_fp16.pt"), output = _temp.File("forced.effw");
            var error = Assert.Throws<CheckpointMismatchException>(() =>
                CheckpointImporter.Import(checkpoint, output, new ImportOptions { Padding = EfficientNetPadding.Same }));
            Assert.Contains("--padding tf contradicts its torchvision key names: torchvision weights use symmetric padding", error.Message);
            Assert.Contains("Import it with: effnet import b0_c10_fp16.pt -o forced.effw (or add --force", error.Message);
            Assert.True(error.Forceable);
            Assert.False(File.Exists(output));

            ImportResult forced = CheckpointImporter.Import(checkpoint, output, new ImportOptions { Padding = EfficientNetPadding.Same, Force = true });
            Assert.Equal(EfficientNetPadding.Same, forced.Config.Padding);
            Assert.Equal(1e-5f, forced.BatchNormEpsilon); // torchvision's, not switched by the padding
            Assert.EndsWith("; forced: --padding tf", WeightBlob.ReadInfo(output).SourceDescription);
            Assert.Contains("forced: --padding tf", forced.Summary);
        }

        [Fact]
        public void An_epsilon_other_than_the_sources_needs_force_and_is_recorded()
        {
            string checkpoint = Fixtures.PathOf("b0_c10_fp16.pt"), output = _temp.File("eps.effw");
            var error = Assert.Throws<CheckpointMismatchException>(() =>
                CheckpointImporter.Import(checkpoint, output, new ImportOptions { BatchNormEpsilon = 1e-3f }));
            Assert.Contains("--bn-eps 0.001 contradicts its torchvision key names: torchvision weights were trained with BatchNorm eps 0.00001.", error.Message);

            Assert.Equal(1e-5f, CheckpointImporter.Import(checkpoint, output, new ImportOptions { BatchNormEpsilon = 1e-5f }).BatchNormEpsilon); // agrees: no force needed
            ImportResult forced = CheckpointImporter.Import(checkpoint, output, new ImportOptions { BatchNormEpsilon = 1e-3f, Force = true });
            Assert.Equal(1e-3f, forced.BatchNormEpsilon);
            Assert.EndsWith("BatchNorm eps 0.001; forced: --bn-eps 0.001", WeightBlob.ReadInfo(output).SourceDescription);
        }

        [Fact]
        public void Open_depth_is_refused_with_the_candidates_and_a_given_depth_is_used()
        {
            string path = ZerosCheckpoint("open.pt", new ModelConfig(0.5, 0.9, 224, 10, EfficientNetPadding.Symmetric));
            var error = Assert.Throws<CheckpointMismatchException>(() => CheckpointImporter.Import(path, _temp.File("x.effw")));
            Assert.Contains("its 1/2/2/3/3/4/1 blocks per stage come from depth 0.8 or 0.9 or 1 alike: pass --width and --depth", error.Message);
            Assert.EndsWith("effnet import open.pt -o x.effw --width 0.5 --depth 0.8", error.Message);

            ImportResult result = CheckpointImporter.Import(path, _temp.File("x.effw"), new ImportOptions { Depth = 0.9 });
            Assert.Equal(new ModelConfig(0.5, 0.9, 224, 10, EfficientNetPadding.Symmetric), result.Config);
            Assert.Throws<CheckpointMismatchException>(() => CheckpointImporter.Import(path, _temp.File("x.effw"), new ImportOptions { Depth = 0.6 }));
        }

        [Fact]
        public void A_width_off_the_grid_is_refused_until_given()
        {
            string path = ZerosCheckpoint("w033.pt", new ModelConfig(0.33, 0.6, 224, 10, EfficientNetPadding.Symmetric));
            Assert.Empty(CheckpointImporter.Inspect(path).Widths);
            var error = Assert.Throws<WeightFormatException>(() => CheckpointImporter.Import(path, _temp.File("x.effw")));
            Assert.Contains("are none of EfficientNet-B0..B7's, and no width (a multiple of 0.05) and depth (a multiple of 0.1) give them: pass --width and --depth", error.Message);

            ImportResult result = CheckpointImporter.Import(path, _temp.File("x.effw"), new ImportOptions { Width = 0.33 });
            Assert.Equal(new ModelConfig(0.33, 0.6, 224, 10, EfficientNetPadding.Symmetric), result.Config);
        }

        [Fact]
        public void Phi_with_width_or_depth_and_values_out_of_range_are_refused_as_such()
        {
            string checkpoint = Fixtures.PathOf("b0_c10_fp16.pt");
            Assert.Contains("Give --phi, or --width and --depth, not both", Assert.Throws<ArgumentException>(() =>
                CheckpointImporter.Import(checkpoint, _temp.File("x.effw"), new ImportOptions { Phi = 0, Depth = 1.0 })).Message);
            Assert.Contains("--phi 8 is not a variant", Assert.Throws<ArgumentException>(() =>
                CheckpointImporter.Import(checkpoint, _temp.File("x.effw"), new ImportOptions { Phi = 8 })).Message);
            Assert.Contains("NumClasses 0 is out of range", Assert.Throws<ArgumentException>(() =>
                CheckpointImporter.Import(checkpoint, _temp.File("x.effw"), new ImportOptions { NumClasses = 0 })).Message);
        }

        // ----- paths that are not files -----

        [Fact]
        public void A_directory_given_for_a_checkpoint_npy_or_blob_is_refused_as_a_directory()
        {
            string folder = _temp.Path;
            Assert.Contains("this is a directory, not a file", Assert.Throws<WeightFormatException>(() => CheckpointImporter.Inspect(folder)).Message);
            Assert.Contains("this is a directory, not a file", Assert.Throws<WeightFormatException>(() => NpyFile.Read(folder)).Message);
            Assert.Contains("this is a directory, not a weight file", Assert.Throws<WeightFormatException>(() => WeightBlob.ReadInfo(folder)).Message);
        }

        [Fact]
        public void Npy_reading_tells_float64_from_float32()
        {
            NpyFile.Read(Fixtures.PathOf("npy/f32.npy"), out string f32);
            NpyFile.Read(Fixtures.PathOf("npy/f64_big_endian.npy"), out string f64);
            Assert.Equal("float32", f32);
            Assert.Equal("float64", f64);
        }
    }

    /// <summary>
    /// A checkpoint that is only its description: keys, shapes and metadata, as a file's header or data.pkl gives them
    /// before any tensor is read. Whole B0..B7 models without their megabytes; reading a tensor from it is a test bug.
    /// </summary>
    internal sealed class DescriptionOnly : CheckpointFile
    {
        public DescriptionOnly(Dictionary<string, int[]> shapes, IReadOnlyDictionary<string, string>? metadata = null)
            : base(CheckpointFormat.SafeTensors, shapes, new SortedSet<string>(StringComparer.Ordinal) { "float32" }, metadata)
        {
        }

        /// <summary><paramref name="layout"/>'s state dict, under timm's names when <paramref name="timm"/> is set.</summary>
        public static DescriptionOnly Of(NetworkLayout layout, bool timm = false, IReadOnlyDictionary<string, string>? metadata = null)
            => new DescriptionOnly(layout.ReferenceStateDict().ToDictionary(entry => timm ? TimmNames.Of(entry.Key, layout) : entry.Key, entry => entry.Value),
                                   metadata);

        protected override Dictionary<string, SourceTensor> Load(IReadOnlyList<string> keys, IProgress<double>? progress)
            => throw new InvalidOperationException("A description-only checkpoint has no tensor data.");
    }
}
