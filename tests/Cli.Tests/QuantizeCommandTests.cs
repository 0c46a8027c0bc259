using System;
using System.IO;
using System.Linq;
using Xunit;
using static EffNet.Cli.Tests.CliRunner;

namespace EffNet.Cli.Tests
{
    /// <summary>`effnet quantize`: a calibration report, an int8 blob classify and inspect take, and one-line mistakes.</summary>
    public sealed class QuantizeCommandTests : IClassFixture<CliWorkspace>
    {
        readonly CliWorkspace _work;

        public QuantizeCommandTests(CliWorkspace work) => _work = work;

        /// <summary>The int8 fixture: a small EfficientNet trained in torch on all ten Fashion-MNIST classes (tests/Quantization.Tests/Fixtures/README.md).</summary>
        static string Fixture(params string[] parts) => CliWorkspace.Repository(new[] { "tests", "Quantization.Tests", "Fixtures" }.Concat(parts).ToArray());

        [Fact]
        public void Quantize_reports_each_int8_layer_writes_a_blob_classify_runs_and_compares_it_with_float32()
        {
            string blob = _work.PathOf("fashion.int8.effw");
            var quantize = Effnet("quantize", "-w", Fixture("fashion10.effw"), "-c", Fixture("calibration"), "-n", "50", "-o", blob,
                                  "--eval", Fixture("test"));
            Assert.True(quantize.Exit == 0, quantize.Error);
            Assert.Contains($"calibration: 50 images from {Fixture("calibration")} (0 skipped), ranges clipped at the 99.99 percentile", quantize.Output);
            Assert.Contains("features.8.0", quantize.Output);
            Assert.Matches(@"Wrote .*: EfficientNet \(width 0.5, depth 0.5\) @32x32, 10 classes, symmetric padding, int8, \d+ int8 layers", quantize.Output);
            Assert.Matches(@"evaluation on 2000 images: float32 accuracy [\d.]+ %, int8 accuracy [\d.]+ %, top-1 agreement [\d.]+ %", quantize.Output);

            var inspect = Effnet("inspect", blob);
            Assert.Contains("variant         EfficientNet (width 0.5, depth 0.5)\n", inspect.Output);
            Assert.Matches(@"precision +int8 in \d+ of \d+ weighted layers", inspect.Output);
            Assert.Contains("int8 quantisation of fashion10.effw (50 calibration images, 99.99 percentile)", inspect.Output);

            string image = Directory.GetFiles(Fixture("test", "Trouser")).Order(StringComparer.Ordinal).First();
            var classify = Effnet("classify", "--weights", blob, image);
            Assert.True(classify.Exit == 0, classify.Error);
            Assert.Contains("Trouser", classify.Output);
        }

        [Fact]
        public void An_unknown_method_an_int8_input_and_an_empty_calibration_folder_are_one_line_errors_and_write_nothing()
        {
            string blob = _work.PathOf("never.effw");
            AssertOneLineUserError(Effnet("quantize", "-w", Fixture("fashion10.effw"), "-c", Fixture("calibration"), "-o", blob, "--method", "entropy"),
                                   "--method 'entropy' is not one of: percentile, minmax.");
            AssertOneLineUserError(Effnet("quantize", "-w", Fixture("fashion10.effw"), "-c", Fixture("calibration"), "-o", blob, "--percentile", "40"),
                                   "--percentile must be above 50");
            string empty = _work.PathOf("no-images");
            Directory.CreateDirectory(empty);
            AssertOneLineUserError(Effnet("quantize", "-w", Fixture("fashion10.effw"), "-c", empty, "-o", blob), "no images");
            Assert.False(File.Exists(blob));

            string int8 = _work.PathOf("once.int8.effw");
            Assert.Equal(0, Effnet("quantize", "-w", Fixture("fashion10.effw"), "-c", Fixture("calibration"), "-n", "10", "-o", int8).Exit);
            var again = Effnet("quantize", "-w", int8, "-c", Fixture("calibration"), "-o", blob);
            Assert.Equal(1, again.Exit);
            Assert.Contains("already", again.Error);
            Assert.False(File.Exists(blob));
        }
    }
}
