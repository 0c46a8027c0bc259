using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using EffNet.Import;
using EffNet.Model;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Runtime.Tests.Import
{
    /// <summary>Checkpoints written by the real torch.save and by hand (safetensors), imported and run against torchvision's logits.</summary>
    public sealed class CheckpointImportTests : IDisposable
    {
        readonly ITestOutputHelper _output;
        readonly TempDirectory _temp = new TempDirectory();

        public CheckpointImportTests(ITestOutputHelper output) => _output = output;

        public void Dispose() => _temp.Dispose();

        static readonly Dictionary<string, Func<Stream, IEfficientNetModel>> Models = new Dictionary<string, Func<Stream, IEfficientNetModel>>
        {
            ["b0_c10"] = s => B0With10Classes.Load(s),
            ["custom_c10"] = s => CustomSmall10.Load(s),
        };

        [Theory]
        [InlineData("b0_c10_fp16.pt", "b0_c10_fp16.json", "b0_c10", CheckpointFormat.PyTorch, KeyLayout.Torchvision)]
        [InlineData("custom_c10.pt", "custom_c10.json", "custom_c10", CheckpointFormat.PyTorch, KeyLayout.Torchvision)]
        [InlineData("custom_c10_torchvision_bf16.safetensors", "custom_c10_bf16.json", "custom_c10", CheckpointFormat.SafeTensors, KeyLayout.Torchvision)]
        [InlineData("custom_c10_timm_bf16.safetensors", "custom_c10_bf16.json", "custom_c10", CheckpointFormat.SafeTensors, KeyLayout.Timm)]
        public void Imported_checkpoint_matches_torchvision_logits_and_top5(string checkpoint, string goldenFile, string model,
                                                                           CheckpointFormat format, KeyLayout keys)
        {
            Golden golden = Golden.LoadFile(Fixtures.PathOf(goldenFile));
            string blob = _temp.File(checkpoint + ".effw");
            var reports = new List<double>();
            ImportResult result = CheckpointImporter.Import(Fixtures.PathOf(checkpoint), golden.Config, blob, progress: new Recorder(reports));

            Assert.Equal(format, result.Format);
            Assert.Equal(keys, result.Layout);
            Assert.Equal(golden.BnEps, result.BatchNormEpsilon);
            Assert.Equal(new FileInfo(blob).Length, result.OutputBytes);
            Assert.Equal(NetworkLayout.Create(golden.Config).ReferenceStateDict().Count(), result.TensorCount);
            Assert.Contains(checkpoint, result.SourceDescription);
            Assert.Equal(result.SourceDescription, WeightBlob.ReadInfo(blob).SourceDescription);
            Assert.Equal(1.0, reports.Last());
            Assert.True(reports.Zip(reports.Skip(1), (a, b) => a <= b).All(x => x), "progress never goes back");

            LogitCheck.AssertMatches(_output, checkpoint, golden, Run(model, blob, golden.Resolution),
                $"; blob {result.OutputBytes:N0} bytes; {result.SourceDescription}");
        }

        [Fact]
        public void Timm_names_give_the_same_weights_as_torchvision_names()
        {
            NetworkLayout layout = NetworkLayout.Create(Golden.LoadFile(Fixtures.PathOf("custom_c10_bf16.json")).Config);
            float[] torchvision = ImportAndRead("custom_c10_torchvision_bf16.safetensors", layout);
            float[] timm = ImportAndRead("custom_c10_timm_bf16.safetensors", layout);
            Assert.Equal(torchvision, timm);
        }

        [Fact]
        public void Strided_views_in_a_torch_save_file_read_back_as_the_values_torch_saved()
        {
            // custom_c10.pt holds the seeded weights, four of them as transposed, permuted, strided or storage-sharing views.
            NetworkLayout layout = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 128, 10, EfficientNetPadding.Symmetric));
            Dictionary<string, SourceTensor> read = PyTorchCheckpoint.Read(Fixtures.PathOf("custom_c10.pt"));
            Dictionary<string, SourceTensor> expected = SyntheticWeights.CreateStateDict(layout);
            foreach (KeyValuePair<string, SourceTensor> tensor in expected)
            {
                Assert.Equal(tensor.Value.Shape, read[tensor.Key].Shape);
                Assert.True(tensor.Value.Data.AsSpan().SequenceEqual(read[tensor.Key].Data), tensor.Key);
            }
            Assert.Equal(layout.ReferenceStateDict().Count(), read.Count); // num_batches_tracked too, as float
            Assert.Equal(Array.Empty<int>(), read["features.0.1.num_batches_tracked"].Shape);
        }

        [Fact]
        public void Float16_and_bfloat16_checkpoints_hold_the_rounded_seeded_weights()
        {
            NetworkLayout b0 = NetworkLayout.Create(ModelConfig.ForPhi(0, numClasses: 10));
            Dictionary<string, SourceTensor> half = CheckpointReader.Read(Fixtures.PathOf("b0_c10_fp16.pt"));
            foreach (KeyValuePair<string, SourceTensor> tensor in SyntheticWeights.CreateStateDict(b0))
                Assert.True(tensor.Value.Data.Select(v => (float)(Half)v).SequenceEqual(half[tensor.Key].Data), tensor.Key);

            NetworkLayout custom = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 128, 10, EfficientNetPadding.Symmetric));
            Dictionary<string, SourceTensor> bf16 = CheckpointReader.Read(Fixtures.PathOf("custom_c10_torchvision_bf16.safetensors"));
            foreach (KeyValuePair<string, SourceTensor> tensor in SyntheticWeights.CreateStateDict(custom))
                Assert.True(tensor.Value.Data.Select(RoundToBFloat16).SequenceEqual(bf16[tensor.Key].Data), tensor.Key);
        }

        [Fact]
        public void Float32_safetensors_written_here_import_to_the_same_blob_as_the_torch_save_file()
        {
            Dictionary<string, SourceTensor> tensors = CheckpointReader.Read(Fixtures.PathOf("custom_c10.pt"));
            string path = _temp.File("custom_c10_f32.safetensors");
            SafeTensorsFile.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

            Checkpoint back = CheckpointReader.ReadCheckpoint(path);
            Assert.Equal(CheckpointFormat.SafeTensors, back.Format);
            Assert.Equal(new[] { "float32" }, back.ElementTypes);
            Assert.Equal(tensors.Keys, back.Tensors.Keys);
            Assert.Equal("pt", SafeTensorsFile.ReadMetadata(path)["format"]);

            NetworkLayout layout = NetworkLayout.Create(Golden.LoadFile(Fixtures.PathOf("custom_c10.json")).Config);
            Assert.Equal(ImportAndRead("custom_c10.pt", layout), ImportAndRead(path, layout));
        }

        [Theory]
        [InlineData("module.")]
        [InlineData("module.model.")]
        public void Keys_with_a_wrapper_prefix_import_like_plain_keys(string prefix)
        {
            Dictionary<string, SourceTensor> tensors = CheckpointReader.Read(Fixtures.PathOf("custom_c10_timm_bf16.safetensors"));
            string path = _temp.File("prefixed.safetensors");
            SafeTensorsFile.Write(path, tensors.ToDictionary(t => prefix + t.Key, t => t.Value));

            NetworkLayout layout = NetworkLayout.Create(Golden.LoadFile(Fixtures.PathOf("custom_c10_bf16.json")).Config);
            ImportResult result = CheckpointImporter.Import(path, layout.Config, _temp.File("prefixed.effw"));
            Assert.Equal(KeyLayout.Timm, result.Layout);
            Assert.Contains($"prefix '{prefix}' removed", result.SourceDescription);
            using WeightBlob blob = WeightBlob.Read(_temp.File("prefixed.effw"), layout);
            Assert.Equal(ImportAndRead("custom_c10_timm_bf16.safetensors", layout), blob.Weights.ToArray());
        }

        [Fact]
        public void Tiny_state_dict_reads_every_element_type_and_view_exactly()
        {
            Checkpoint checkpoint = CheckpointReader.ReadCheckpoint(Fixtures.PathOf("tiny.pt"));
            Dictionary<string, SourceTensor> t = checkpoint.Tensors;
            Assert.Equal(new[] { "transposed", "half", "bfloat", "double", "count", "int32", "sliced", "empty" }, t.Keys);
            Assert.Equal(new[] { "bfloat16", "float16", "float32", "float64", "int32", "int64" }, checkpoint.ElementTypes);
            Assert.Equal(new[] { 2, 3 }, t["transposed"].Shape);
            Assert.Equal(new[] { 0f, 2, 4, 1, 3, 5 }, t["transposed"].Data);
            Assert.Equal(new[] { 0.5f, -1.25f, 65504f, MathF.Pow(2, -14), MathF.Pow(2, -24) }, t["half"].Data);
            Assert.Equal(new[] { 1f, -2.5f, MathF.Pow(2, 100), BitConverter.Int32BitsToSingle(1 << 19) /* 2^-130, subnormal */ }, t["bfloat"].Data);
            Assert.Equal(new[] { 1.5f, -0.125f }, t["double"].Data);
            Assert.Equal(Array.Empty<int>(), t["count"].Shape);
            Assert.Equal(new[] { 7f }, t["count"].Data);
            Assert.Equal(new[] { 3f, -4f }, t["int32"].Data);
            Assert.Equal(new[] { 2f, 5f, 8f }, t["sliced"].Data);
            Assert.Equal(new[] { 0, 3 }, t["empty"].Shape);
        }

        [Fact]
        public void Default_batchnorm_epsilon_follows_the_source_convention()
        {
            Assert.Equal(1e-5f, CheckpointImporter.DefaultEpsilon(ModelConfig.ForPhi(0), KeyLayout.Torchvision));
            Assert.Equal(1e-5f, CheckpointImporter.DefaultEpsilon(ModelConfig.ForPhi(4), KeyLayout.Torchvision));
            Assert.Equal(1e-3f, CheckpointImporter.DefaultEpsilon(ModelConfig.ForPhi(5), KeyLayout.Torchvision));
            Assert.Equal(1e-3f, CheckpointImporter.DefaultEpsilon(ModelConfig.ForPhi(7), KeyLayout.Torchvision));
            Assert.Equal(1e-5f, CheckpointImporter.DefaultEpsilon(new ModelConfig(0.5, 0.6, 128, 10, EfficientNetPadding.Symmetric), KeyLayout.Torchvision));
            Assert.Equal(1e-5f, CheckpointImporter.DefaultEpsilon(ModelConfig.ForPhi(7), KeyLayout.Timm));
            Assert.Equal(1e-3f, CheckpointImporter.DefaultEpsilon(ModelConfig.ForPhi(0, padding: EfficientNetPadding.Same), KeyLayout.Timm));
            Assert.Equal(1e-3f, CheckpointImporter.DefaultEpsilon(ModelConfig.ForPhi(0, padding: EfficientNetPadding.Same), KeyLayout.Torchvision));
        }

        [Fact]
        public void An_explicit_epsilon_is_folded_in_and_recorded()
        {
            ModelConfig config = Golden.LoadFile(Fixtures.PathOf("custom_c10.json")).Config;
            string blob = _temp.File("eps.effw");
            ImportResult result = CheckpointImporter.Import(Fixtures.PathOf("custom_c10.pt"), config, blob, batchNormEpsilon: 1e-3f);
            Assert.Equal(1e-3f, result.BatchNormEpsilon);
            Assert.Contains("eps 0.001", result.SourceDescription);
            Dictionary<string, SourceTensor> tensors = CheckpointReader.Read(Fixtures.PathOf("custom_c10.pt"));
            using WeightBlob read = WeightBlob.Read(blob, NetworkLayout.Create(config));
            Assert.Equal(WeightBlobWriter.Pack(NetworkLayout.Create(config), tensors, 1e-3f), read.Weights.ToArray());
        }

        float[] ImportAndRead(string checkpoint, NetworkLayout layout)
        {
            string path = File.Exists(checkpoint) ? checkpoint : Fixtures.PathOf(checkpoint);
            string blob = _temp.File(Path.GetFileName(checkpoint) + "." + Guid.NewGuid().ToString("N") + ".effw");
            CheckpointImporter.Import(path, layout.Config, blob);
            using WeightBlob read = WeightBlob.Read(blob, layout);
            return read.Weights.ToArray();
        }

        static float[] Run(string model, string blob, int resolution)
        {
            using var stream = File.OpenRead(blob);
            using IEfficientNetModel net = Models[model](stream);
            var logits = new float[net.NumClasses];
            net.Run(SyntheticWeights.CreateInput(resolution), logits);
            return logits;
        }

        /// <summary>float32 -> bfloat16 -> float32, rounding to nearest even as torch does.</summary>
        static float RoundToBFloat16(float value)
        {
            uint bits = BitConverter.SingleToUInt32Bits(value);
            bits += 0x7FFFu + ((bits >> 16) & 1);
            return BitConverter.UInt32BitsToSingle(bits & 0xFFFF0000u);
        }

        sealed class Recorder : IProgress<double>
        {
            readonly List<double> _values;
            public Recorder(List<double> values) => _values = values;
            public void Report(double value) => _values.Add(value);
        }
    }
}
