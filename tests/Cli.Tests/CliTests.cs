using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using EffNet.Import;
using EffNet.Model;
using Xunit;
using static EffNet.Cli.Tests.CliRunner;

namespace EffNet.Cli.Tests
{
    /// <summary>A B0 blob with synthetic weights and a scratch folder, shared by the tests of one class.</summary>
    public sealed class CliWorkspace : IDisposable
    {
        public CliWorkspace()
        {
            Folder = Directory.CreateTempSubdirectory("effnet-cli-").FullName;
            B0Blob = Path.Combine(Folder, "b0.effw");
            NetworkLayout layout = NetworkLayout.Create(ModelConfig.ForPhi(0));
            WeightBlobWriter.Write(B0Blob, layout, SyntheticWeights.CreateStateDict(layout), BatchNormFolding.PyTorchEpsilon, "synthetic, CLI tests");
        }

        public string Folder { get; }
        public string B0Blob { get; }

        public string PathOf(string name) => System.IO.Path.Combine(Folder, name);

        public static string Repository(params string[] parts)
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "EffNetGen.sln")))
                    return System.IO.Path.Combine(new[] { dir.FullName }.Concat(parts).ToArray());
            throw new InvalidOperationException("EffNetGen.sln not found");
        }

        public void Dispose() => Directory.Delete(Folder, recursive: true);
    }

    /// <summary>The effnet commands as a user meets them: results, messages and exit codes (0 ok, 1 user error, 2 bug).</summary>
    public sealed class CliTests : IClassFixture<CliWorkspace>
    {
        readonly CliWorkspace _work;

        public CliTests(CliWorkspace work) => _work = work;

        [Fact]
        public void Help_lists_every_command_and_exits_0()
        {
            var result = Effnet("--help");
            Assert.Equal(0, result.Exit);
            foreach (string command in new[] { "import", "inspect", "run", "classify" })
                Assert.Contains(command, result.Output);
        }

        [Fact]
        public void Import_of_a_torch_save_checkpoint_writes_a_blob_that_inspect_describes()
        {
            string blob = _work.PathOf("b0_c10.effw");
            var import = Effnet("import", CliWorkspace.Repository("tests", "Runtime.Tests", "Fixtures", "b0_c10_fp16.pt"),
                "--phi", "0", "--classes", "10", "-o", blob);
            Assert.True(import.Exit == 0, import.Error);
            Assert.Contains("EfficientNet-B0 @224x224, 10 classes", import.Output);

            var inspect = Effnet("inspect", blob);
            Assert.Equal(0, inspect.Exit);
            Assert.Contains("EfficientNet-B0", inspect.Output);
            Assert.Contains("4,020,358", inspect.Output);       // torchvision's parameter count with 10 classes
            Assert.Contains("384,547,552", inspect.Output);     // multiply-adds: B0 less 990 classes x 1280
            Assert.Contains("b0_c10_fp16.pt: PyTorch checkpoint, torchvision keys", inspect.Output);
        }

        [Fact]
        public void Run_writes_logits_equal_to_the_compiled_model_for_every_image_of_the_batch()
        {
            float[] first = SyntheticWeights.CreateInput(224, name: "cli0"), second = SyntheticWeights.CreateInput(224, name: "cli1");
            string input = _work.PathOf("batch.npy"), output = _work.PathOf("logits.npy");
            NpyFile.Write(input, first.Concat(second).ToArray(), new[] { 2, 3, 224, 224 });

            var run = Effnet("run", "--weights", _work.B0Blob, "--input", input, "--output", output);
            Assert.True(run.Exit == 0, run.Error);
            SourceTensor logits = NpyFile.Read(output);
            Assert.Equal(new[] { 2, 1000 }, logits.Shape);

            using var model = B0.Load(_work.B0Blob);
            var expected = new float[1000];
            model.Run(second, expected);
            Assert.Equal(expected, logits.Data.AsSpan(1000, 1000).ToArray());
        }

        [Fact]
        public void Classify_prints_the_top_classes_with_imagenet_names_as_text_and_json()
        {
            string image = CliWorkspace.Repository("tests", "Imaging.Tests", "Fixtures", "photo.png");
            var text = Effnet("classify", "--weights", _work.B0Blob, image, "--top", "3");
            Assert.True(text.Exit == 0, text.Error);
            string[] lines = text.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(image, lines[0]); // the path as given
            Assert.Equal(4, lines.Length);
            Assert.StartsWith("  1. ", lines[1]);

            var json = Effnet("classify", "--weights", _work.B0Blob, image, image, "--json");
            Assert.True(json.Exit == 0, json.Error);
            using JsonDocument doc = JsonDocument.Parse(json.Output);
            Assert.Equal(2, doc.RootElement.GetArrayLength());
            JsonElement top = doc.RootElement[0].GetProperty("top");
            Assert.Equal(5, top.GetArrayLength());
            Assert.False(string.IsNullOrEmpty(top[0].GetProperty("label").GetString()));
        }

        [Fact]
        public void Missing_checkpoint_is_a_one_line_user_error()
            => AssertOneLineUserError(Effnet("import", _work.PathOf("nope.pth"), "--phi", "0", "-o", _work.PathOf("x.effw")), "does not exist");

        static string Fixture(string name) => CliWorkspace.Repository("tests", "Runtime.Tests", "Fixtures", name);

        [Fact]
        public void Import_reads_the_variant_and_classes_from_the_checkpoint()
        {
            string blob = _work.PathOf("inferred.effw");
            var import = Effnet("import", Fixture("b0_c10_fp16.pt"), "-o", blob);
            Assert.True(import.Exit == 0, import.Error);
            Assert.Contains("for EfficientNet-B0 @224x224, 10 classes, symmetric padding.", import.Output);
            Assert.Contains("Checkpoint: EfficientNet-B0 with 10 classes, torchvision weights: symmetric padding, BatchNorm eps 0.00001.", import.Output);
        }

        [Fact]
        public void Timm_names_import_as_efficientnet_b_and_the_output_says_how_to_import_a_tf_port()
        {
            var import = Effnet("import", Fixture("custom_c10_timm_bf16.safetensors"), "--resolution", "128", "-o", _work.PathOf("timm.effw"));
            Assert.True(import.Exit == 0, import.Error);
            Assert.Contains("timm efficientnet_b* weights (assumed: timm names are the same for tf_efficientnet_*, whose weights need --padding tf)", import.Output);
        }

        [Fact]
        public void Wrong_phi_for_the_checkpoint_is_one_short_line_with_the_command_to_use()
        {
            string blob = _work.PathOf("wrong.effw");
            var result = Effnet("import", Fixture("b0_c10_fp16.pt"), "--phi", "3", "--classes", "10", "-o", blob);
            AssertOneLineUserError(result, $"--phi 3 does not fit: it holds EfficientNet-B0 with 10 classes, not EfficientNet-B3. " +
                                           $"Import it with: effnet import {Fixture("b0_c10_fp16.pt")} -o {blob} --classes 10");
            Assert.True(result.Error.Length < 200 + 2 * (Fixture("b0_c10_fp16.pt").Length + blob.Length), result.Error);
            Assert.False(File.Exists(blob));
        }

        [Fact]
        public void Tf_padding_on_torchvision_names_is_refused_unless_forced_and_inspect_shows_it_was_forced()
        {
            string blob = _work.PathOf("forced.effw");
            AssertOneLineUserError(Effnet("import", Fixture("b0_c10_fp16.pt"), "--padding", "tf", "-o", blob),
                "--padding tf contradicts its torchvision key names: torchvision weights use symmetric padding");
            Assert.False(File.Exists(blob));

            var forced = Effnet("import", Fixture("b0_c10_fp16.pt"), "--padding", "tf", "--force", "-o", blob);
            Assert.True(forced.Exit == 0, forced.Error);
            Assert.Contains("TF-SAME padding, BatchNorm eps 0.00001; forced: --padding tf.", forced.Output);
            var inspect = Effnet("inspect", blob);
            Assert.Contains("padding         TF SAME", inspect.Output);
            Assert.Contains("BatchNorm eps 0.00001; forced: --padding tf", inspect.Output);
        }

        [Fact]
        public void Classify_help_lists_every_format_the_decoder_reads()
        {
            var help = Effnet("classify", "--help");
            Assert.Equal(0, help.Exit);
            foreach (string format in new[] { "JPEG", "PNG", "BMP", "GIF", "TGA", "PSD" })
                Assert.Contains(format, help.Output);
        }

        [Fact]
        public void Run_converts_a_float64_input_to_float32_and_says_so()
        {
            float[] image = SyntheticWeights.CreateInput(224, name: "f64");
            string input = _work.PathOf("f64.npy"), output = _work.PathOf("f64-logits.npy");
            File.WriteAllBytes(input, Float64Npy(image, 1, 3, 224, 224));
            var run = Effnet("run", "--weights", _work.B0Blob, "--input", input, "--output", output);
            Assert.True(run.Exit == 0, run.Error);
            Assert.Contains("(f64.npy holds float64: converted to float32)", run.Output);

            using var model = B0.Load(_work.B0Blob);
            var expected = new float[1000];
            model.Run(image, expected); // the float32 values round-trip through float64 exactly
            Assert.Equal(expected, NpyFile.Read(output).Data);
        }

        /// <summary>A little-endian float64 .npy, as np.save writes numpy's default type.</summary>
        static byte[] Float64Npy(float[] values, params int[] shape)
        {
            string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + string.Join(", ", shape) + "), }";
            header = header.PadRight((10 + header.Length + 1 + 63) / 64 * 64 - 10 - 1) + "\n";
            var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, (byte)(header.Length >> 8) };
            bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
            foreach (float v in values) bytes.AddRange(BitConverter.GetBytes((double)v));
            return bytes.ToArray();
        }

        [Fact]
        public void Checkpoint_with_missing_keys_lists_them_by_name()
        {
            string source = CliWorkspace.Repository("tests", "Runtime.Tests", "Fixtures", "b0_c10_fp16.pt");
            Dictionary<string, SourceTensor> tensors = PyTorchCheckpoint.Read(source);
            tensors.Remove("features.3.1.block.2.fc1.bias");
            string damaged = _work.PathOf("missing.safetensors");
            SafeTensorsFile.Write(damaged, tensors);
            AssertOneLineUserError(Effnet("import", damaged, "--phi", "0", "--classes", "10", "-o", _work.PathOf("m.effw")),
                "features.3.1.block.2.fc1.bias");
        }

        [Fact]
        public void Phi_outside_0_to_7_is_a_user_error()
            => AssertOneLineUserError(Effnet("import", _work.B0Blob, "--phi", "9", "-o", _work.PathOf("x.effw")), "--phi 9");

        [Fact]
        public void A_file_that_is_not_a_blob_is_a_user_error_naming_it()
        {
            string text = _work.PathOf("notes.effw");
            File.WriteAllText(text, "not weights at all, just some text that is long enough to read a header from........");
            AssertOneLineUserError(Effnet("inspect", text), "not an EffNet weight blob");
        }

        [Fact]
        public void Inspect_classify_and_run_work_on_a_10_class_blob_at_256_px_and_classes_print_by_number()
        {
            string blob = _work.PathOf("b0_c10_256.effw");
            var import = Effnet("import", CliWorkspace.Repository("tests", "Runtime.Tests", "Fixtures", "b0_c10_fp16.pt"),
                "--phi", "0", "--classes", "10", "--resolution", "256", "-o", blob);
            Assert.True(import.Exit == 0, import.Error);
            var inspect = Effnet("inspect", blob);
            Assert.Contains("arena bytes     " + B0At256With10Classes.ArenaBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), inspect.Output);

            string image = CliWorkspace.Repository("tests", "Imaging.Tests", "Fixtures", "photo.png");
            var classify = Effnet("classify", "--weights", blob, image, "--top", "10", "--json");
            Assert.True(classify.Exit == 0, classify.Error);
            using (JsonDocument doc = JsonDocument.Parse(classify.Output))
            {
                JsonElement top = doc.RootElement[0].GetProperty("top");
                Assert.Equal(10, top.GetArrayLength());
                foreach (JsonElement entry in top.EnumerateArray())
                    Assert.Equal("class " + entry.GetProperty("index").GetInt32(), entry.GetProperty("label").GetString());
            }

            float[] tensor = SyntheticWeights.CreateInput(256, name: "cli-256");
            string input = _work.PathOf("batch256.npy"), output = _work.PathOf("logits256.npy");
            NpyFile.Write(input, tensor, new[] { 1, 3, 256, 256 });
            var run = Effnet("run", "--weights", blob, "--input", input, "--output", output);
            Assert.True(run.Exit == 0, run.Error);
            SourceTensor logits = NpyFile.Read(output);
            Assert.Equal(new[] { 1, 10 }, logits.Shape);
            using var compiled = B0At256With10Classes.Load(blob);
            var expected = new float[10];
            compiled.Run(tensor, expected);
            Assert.Equal(expected, logits.Data);
        }

        [Fact]
        public void Classify_of_a_model_without_a_torchvision_preset_says_to_preprocess_and_use_run()
        {
            string blob = _work.PathOf("small.effw");
            NetworkLayout layout = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 128, 10, EfficientNetPadding.Symmetric));
            WeightBlobWriter.Write(blob, layout, SyntheticWeights.CreateStateDict(layout), 1e-5f, "test");
            string image = CliWorkspace.Repository("tests", "Imaging.Tests", "Fixtures", "photo.png");
            AssertOneLineUserError(Effnet("classify", "--weights", blob, image), "`effnet run`");

            string input = _work.PathOf("small.npy"), output = _work.PathOf("small-logits.npy");
            NpyFile.Write(input, SyntheticWeights.CreateInput(128), new[] { 1, 3, 128, 128 });
            var run = Effnet("run", "--weights", blob, "--input", input, "--output", output);
            Assert.True(run.Exit == 0, run.Error);
            Assert.Equal(new[] { 1, 10 }, NpyFile.Read(output).Shape);
        }

        [Fact]
        public void Input_of_the_wrong_shape_is_a_user_error_with_the_expected_shape()
        {
            string input = _work.PathOf("small.npy");
            NpyFile.Write(input, new float[3 * 100 * 100], new[] { 1, 3, 100, 100 });
            AssertOneLineUserError(Effnet("run", "--weights", _work.B0Blob, "--input", input, "--output", _work.PathOf("o.npy")), "[N, 3, 224, 224]");
        }

        [Fact]
        public void A_missing_required_option_exits_1()
        {
            var result = Effnet("run", "--weights", _work.B0Blob);
            Assert.Equal(1, result.Exit);
            Assert.Contains("--input", result.Error);
        }
    }
}
