using System;
using System.IO;
using System.Linq;
using EffNet.Imaging;
using EffNet.Quantization;
using EffNet.Training;
using Xunit;

namespace EffNet.Quantization.Tests
{
    /// <summary>The compiled int8 class of the fixture's network: its blob must come from `effnet quantize`.</summary>
    [EfficientNet(Width = 0.5, Depth = 0.5, Resolution = 32, NumClasses = 10, Precision = EfficientNetPrecision.Int8)]
    public partial class Fashion32Int8;

    /// <summary>
    /// The fixture model (trained in torch on real Fashion-MNIST images, Fixtures/README.md) quantised once on its
    /// calibration images, as every test here uses it.
    /// </summary>
    public sealed class QuantizedFashionModel : IDisposable
    {
        public QuantizedFashionModel()
        {
            Folder = Path.Combine(Path.GetTempPath(), "effnet-int8-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Folder);
            Int8Blob = Path.Combine(Folder, "fashion10.int8.effw");
            Report = Quantizer.Quantize(FloatBlob, Calibration(FloatBlob), Int8Blob);
        }

        public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "Fixtures");
        public static string FloatBlob => Path.Combine(Fixtures, "fashion10.effw");
        public static string TestImages => Path.Combine(Fixtures, "test");

        public string Folder { get; }
        public string Int8Blob { get; }
        public QuantizationReport Report { get; }

        /// <summary>The calibration images, read with the blob's own preprocessing.</summary>
        public static System.Collections.Generic.IEnumerable<float[]> Calibration(string blob)
        {
            var preprocessing = Preprocessing.From(WeightBlob.ReadInfo(blob).Metadata.Preprocessing!);
            foreach (string path in ImageFiles.Below(Path.Combine(Fixtures, "calibration")))
            {
                var tensor = new float[preprocessing.TensorLength];
                preprocessing.Apply(path, tensor);
                yield return tensor;
            }
        }

        public void Dispose() => Directory.Delete(Folder, recursive: true);
    }

    public sealed class FashionInt8Tests : IClassFixture<QuantizedFashionModel>
    {
        readonly QuantizedFashionModel _model;

        public FashionInt8Tests(QuantizedFashionModel model) => _model = model;

        [Fact]
        public void Int8_accuracy_is_within_half_a_point_of_float32_and_agrees_on_99_percent_of_real_test_images()
        {
            using var reference = EfficientNetModel.Load(QuantizedFashionModel.FloatBlob, new ModelOptions { Threads = 1 });
            using var candidate = EfficientNetModel.Load(_model.Int8Blob, new ModelOptions { Threads = 1 });
            PrecisionComparison c = PrecisionComparison.Measure(reference, candidate, LabelledImages.FromFolders(QuantizedFashionModel.TestImages));
            string figures = $"float32 {c.ReferenceAccuracy:P2}, int8 {c.CandidateAccuracy:P2}, agreement {c.Agreement:P2}, logit error {c.MeanRelativeLogitError:G3} on {c.Images} images";
            Assert.Equal(2000, c.Images);
            Assert.True(c.ReferenceAccuracy > 0.85, "the fixture model itself: " + figures);
            Assert.True(Math.Abs(c.CandidateAccuracy - c.ReferenceAccuracy) <= 0.005, figures);
            Assert.True(c.Agreement >= 0.99, figures);
        }

        [Fact]
        public void The_compiled_int8_class_gives_the_runtime_models_bits()
        {
            using var runtime = EfficientNetModel.Load(_model.Int8Blob, new ModelOptions { Threads = 1 });
            using var compiled = Fashion32Int8.Load(_model.Int8Blob, new ModelOptions { Threads = 1 });
            var preprocessing = Preprocessing.From(runtime.WeightInfo.Metadata.Preprocessing!);
            var image = new float[runtime.InputLength];
            var a = new float[10];
            var b = new float[10];
            foreach (string path in ImageFiles.Below(QuantizedFashionModel.TestImages).Take(20))
            {
                preprocessing.Apply(path, image);
                runtime.Run(image, a);
                compiled.Run(image, b);
                Assert.Equal(a, b);
            }
        }

        [Fact]
        public void Int8_logits_are_the_same_bits_on_one_thread_two_threads_and_in_a_batch()
        {
            using var one = EfficientNetModel.Load(_model.Int8Blob, new ModelOptions { Threads = 1 });
            using var two = EfficientNetModel.Load(_model.Int8Blob, new ModelOptions { Threads = 2 });
            float[][] images = QuantizedFashionModel.Calibration(QuantizedFashionModel.FloatBlob).Take(6).ToArray();
            var batch = images.SelectMany(i => i).ToArray();
            var batchLogits = new float[6 * 10];
            two.RunBatch(batch, batchLogits);
            for (int i = 0; i < images.Length; i++)
            {
                var a = new float[10];
                var b = new float[10];
                one.Run(images[i], a);
                two.Run(images[i], b);
                Assert.Equal(a, b);
                Assert.Equal(a, batchLogits.AsSpan(i * 10, 10).ToArray());
            }
        }

        [Fact]
        public void The_int8_blob_records_its_precision_labels_and_preprocessing_and_is_much_smaller()
        {
            WeightBlobInfo floatInfo = WeightBlob.ReadInfo(QuantizedFashionModel.FloatBlob), info = WeightBlob.ReadInfo(_model.Int8Blob);
            Assert.Equal(EfficientNetPrecision.Int8, info.Config.Precision);
            Assert.Equal(floatInfo.Metadata.Labels, info.Metadata.Labels);
            Assert.Equal(floatInfo.Metadata.Preprocessing, info.Metadata.Preprocessing);
            Assert.Equal("fashion10.effw", info.Metadata.Provenance!.SourceFileName);
            Assert.Contains(info.Tensors, t => t.Type == Model.TensorElementType.Int8);
            Assert.NotEqual(floatInfo.Fingerprint, info.Fingerprint);
            // Every weight but the classifier's is a byte: 0.29 of the float32 blob for this small network, whose scales
            // and biases weigh more than a full-width one's.
            Assert.True(_model.Report.Int8BlobBytes < 0.3 * _model.Report.FloatBlobBytes, $"{_model.Report.Int8BlobBytes} of {_model.Report.FloatBlobBytes} bytes");
        }

        [Fact]
        public void Float32_layers_but_the_stem_are_stored_as_levels_and_widen_to_within_half_a_level_of_their_weights()
        {
            var floatLayout = Model.NetworkLayout.Create(WeightBlob.ReadInfo(QuantizedFashionModel.FloatBlob).Config);
            var int8Layout = Model.NetworkLayout.Create(WeightBlob.ReadInfo(_model.Int8Blob).Config);
            using WeightBlob floats = WeightBlob.Read(QuantizedFashionModel.FloatBlob, floatLayout), widened = WeightBlob.Read(_model.Int8Blob, int8Layout);
            Assert.Contains(int8Layout.Layers, l => l.Kind == Model.LayerKind.Depthwise && l.StoredAsLevels);
            Assert.Contains(int8Layout.Layers, l => l.Kind == Model.LayerKind.SqueezeReduce && l.StoredAsLevels);
            Assert.Equal(2, int8Layout.Classifier.LevelBytes); // s16: its logits' ranks must not move
            for (int i = 0; i < int8Layout.Layers.Count; i++)
            {
                Model.ConvLayer from = floatLayout.Layers[i], to = int8Layout.Layers[i];
                Assert.Equal(!ReferenceEquals(to, int8Layout.Stem.Conv) && to.Precision == EfficientNetPrecision.Float32, to.StoredAsLevels);
                if (to.Precision == EfficientNetPrecision.Int8) continue; // levels the int8 GEMM reads as they are
                float[] expected = floats.Weights.Slice((int)from.WeightOffset, (int)from.WeightLength).ToArray();
                float[] actual = widened.Weights.Slice((int)to.WeightOffset, (int)to.WeightLength).ToArray();
                Assert.Equal(floats.Weights.Slice((int)from.BiasOffset, from.OutChannels).ToArray(), widened.Weights.Slice((int)to.BiasOffset, to.OutChannels).ToArray());
                if (!to.StoredAsLevels)
                {
                    Assert.Equal(expected, actual); // the stem: float32 as it was
                    continue;
                }
                // Half a level of the output channel's scale (its largest magnitude / the top level), plus the float rounding of scale x level.
                int channels = to.OutChannels, perChannel = (int)(to.WeightLength / channels);
                int Channel(int e) => to.OutputChannelLast ? e % channels : e / perChannel;
                var largest = new float[channels];
                for (int e = 0; e < expected.Length; e++) largest[Channel(e)] = Math.Max(largest[Channel(e)], Math.Abs(expected[e]));
                for (int e = 0; e < expected.Length; e++)
                    Assert.True(Math.Abs(actual[e] - expected[e]) <= largest[Channel(e)] / (to.LevelBytes == 2 ? 32767f : 127f) * 0.5001f + 1e-7f,
                                $"{to.WeightName}[{e}]: {actual[e]} widened from {expected[e]}");
            }
        }

        [Fact]
        public void An_int8_blob_quantised_under_an_older_rule_is_refused_with_the_command_that_makes_a_new_one()
        {
            // The fixture's blob as rule 2 would have labelled it: the architecture text, the fingerprint made from it, and
            // the checksum over the whole (a blob of that rule stored its float32 layers as floats; any other byte would do).
            byte[] bytes = File.ReadAllBytes(_model.Int8Blob);
            WeightBlobInfo info = WeightBlob.ReadInfo(_model.Int8Blob);
            string older = info.Architecture.Replace(" precision=int8/4", " precision=int8/2");
            Assert.NotEqual(info.Architecture, older);
            byte[] tag = System.Text.Encoding.UTF8.GetBytes(" precision=int8/4");
            int at = bytes.AsSpan().IndexOf(tag);
            Assert.True(at > 0);
            bytes[at + tag.Length - 1] = (byte)'2';
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), Model.NetworkLayout.Fnv1a64(older));
            EffNet.Runtime.Tests.Reliability.BlobBytes.Resign(bytes);
            string path = Path.Combine(_model.Folder, "older-rule.int8.effw");
            File.WriteAllBytes(path, bytes);

            var e = Assert.Throws<WeightFormatException>(() => WeightBlob.Read(path, Model.NetworkLayout.Create(info.Config)));
            Assert.Contains("rule 2", e.Message);
            Assert.Contains("effnet quantize", e.Message);
            e = Assert.Throws<WeightFormatException>(() => EfficientNetModel.Load(path));
            Assert.Contains("rule 2", e.Message);
        }

        [Fact]
        public void A_float32_class_refuses_the_int8_blob_and_the_int8_class_the_float32_one()
        {
            var floatConfig = new Model.ModelConfig(0.5, 0.5, 32, 10, EfficientNetPadding.Symmetric);
            var e = Assert.Throws<WeightFormatException>(() => WeightBlob.Read(_model.Int8Blob, Model.NetworkLayout.Create(floatConfig)));
            Assert.Contains("int8", e.Message);
            e = Assert.Throws<WeightFormatException>(() => Fashion32Int8.Load(QuantizedFashionModel.FloatBlob));
            Assert.Contains("effnet quantize", e.Message);
        }

        [Fact]
        public void Quantising_an_int8_blob_or_without_calibration_images_is_refused_and_writes_nothing()
        {
            string target = Path.Combine(_model.Folder, "again.effw");
            var e = Assert.Throws<ArgumentException>(() => Quantizer.Quantize(_model.Int8Blob, QuantizedFashionModel.Calibration(QuantizedFashionModel.FloatBlob), target));
            Assert.Contains("already", e.Message);
            e = Assert.Throws<ArgumentException>(() => Quantizer.Quantize(QuantizedFashionModel.FloatBlob, Array.Empty<float[]>(), target));
            Assert.Contains("No calibration images", e.Message);
            e = Assert.Throws<ArgumentException>(() => Quantizer.Quantize(QuantizedFashionModel.FloatBlob, new[] { new float[5] }, target));
            Assert.Contains("takes 3072", e.Message);
            Assert.False(File.Exists(target));
        }
    }
}
