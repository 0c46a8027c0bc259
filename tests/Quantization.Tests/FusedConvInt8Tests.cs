using System;
using System.IO;
using System.Linq;
using EffNet.Model;
using Xunit;

namespace EffNet.Quantization.Tests
{
    /// <summary>EfficientNetV2-S at 32 px in int8: its stride-2 Fused-MBConv convs run through the int8 windowed GEMM (the stride-1 ones stay float32, by Winograd).</summary>
    [EfficientNetV2(Size = EfficientNetV2Size.S, Resolution = 32, NumClasses = 10, Precision = EfficientNetPrecision.Int8)]
    public partial class V2SmallInt8;

    public sealed class FusedConvInt8Tests : IDisposable
    {
        readonly string _folder = Path.Combine(Path.GetTempPath(), "effnet-v2int8-" + Guid.NewGuid().ToString("N"));

        public FusedConvInt8Tests() => Directory.CreateDirectory(_folder);

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        [Fact]
        public void A_quantised_V2_runs_its_fused_convs_in_int8_with_the_same_bits_compiled_and_at_run_time()
        {
            ModelConfig config = ModelConfig.ForMember(ModelFamily.EfficientNetV2S, 0, resolution: 32, numClasses: 10);
            NetworkLayout layout = NetworkLayout.Create(config);
            string floatBlob = Path.Combine(_folder, "v2s.effw"), int8Blob = Path.Combine(_folder, "v2s.int8.effw");
            WeightBlobWriter.Write(floatBlob, layout, SyntheticWeights.CreateStateDict(layout), 1e-3f, "synthetic, int8 tests");
            float[][] images = Enumerable.Range(0, 4).Select(i => SyntheticWeights.CreateInput(32, seed: (ulong)i + 1)).ToArray();
            QuantizationReport report = Quantizer.Quantize(floatBlob, images, int8Blob);

            NetworkLayout int8Layout = NetworkLayout.Create(config with { Precision = EfficientNetPrecision.Int8 });
            ConvLayer[] fused = int8Layout.Layers.Where(l => l.Kind == LayerKind.Convolution && l.Precision == EfficientNetPrecision.Int8).ToArray();
            Assert.NotEmpty(fused);
            Assert.Equal(EfficientNetPrecision.Float32, int8Layout.Stem.Conv.Precision);
            Assert.All(fused, l => Assert.Contains(report.Layers, q => q.Module == l.Module));

            using var runtime = EfficientNetModel.Load(int8Blob, new ModelOptions { Threads = 2 });
            using var compiled = V2SmallInt8.Load(int8Blob, new ModelOptions { Threads = 1 });
            using var reference = EfficientNetModel.Load(floatBlob, new ModelOptions { Threads = 1 });
            var a = new float[10];
            var b = new float[10];
            var f = new float[10];
            foreach (float[] image in images)
            {
                runtime.Run(image, a);
                compiled.Run(image, b);
                reference.Run(image, f);
                Assert.Equal(a, b);
                Assert.All(a, v => Assert.True(float.IsFinite(v)));
                Assert.Equal(Array.IndexOf(f, f.Max()), Array.IndexOf(a, a.Max())); // on its own calibration images
            }
        }
    }
}
