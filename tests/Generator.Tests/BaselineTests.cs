using System.Linq;
using EffNet.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Generator.Tests
{
    /// <summary>
    /// The generated text, pinned in Baselines/&lt;case&gt;/ (rewrite with EFFNET_UPDATE_BASELINES=1), and proof that it
    /// compiles against EffNet.Runtime without a single error or warning (doc comments and nullability included).
    /// </summary>
    public class BaselineTests
    {
        /// <summary>The documented one-liner; the doc comment only keeps CS1591 out of the warning check.</summary>
        public const string B0Source = """
            using EffNet;

            namespace Demo;

            /// <summary>EfficientNet-B0.</summary>
            [EfficientNet(Phi = 0)] public partial class Classifier;
            """;

        /// <summary>EfficientNet-Lite0 with TF "SAME" padding (timm's tf_efficientnet_lite0), fine-tuned to 5 classes.</summary>
        public const string Lite0Source = """
            using EffNet;

            namespace Demo;

            /// <summary>EfficientNet-Lite0.</summary>
            [EfficientNetLite(Phi = 0, NumClasses = 5)] public partial class EdgeClassifier;
            """;

        /// <summary>EfficientNetV2-S at a small size: Fused-MBConv blocks on the dense convolution, then MBConv with squeeze-excitation.</summary>
        public const string V2SSource = """
            using EffNet;

            namespace Demo;

            /// <summary>EfficientNetV2-S.</summary>
            [EfficientNetV2(Size = EfficientNetV2Size.S, NumClasses = 10, Resolution = 128)] public partial class Photos;
            """;

        /// <summary>A small int8 network: its 1x1 convs (the gated projections among them) go through the int8 GEMM.</summary>
        public const string Int8Source = """
            using EffNet;

            namespace Demo;

            /// <summary>A quantised classifier.</summary>
            [EfficientNet(Width = 0.5, Depth = 0.5, Resolution = 32, NumClasses = 10, Precision = EfficientNetPrecision.Int8)] public partial class Quantised;
            """;

        /// <summary>A custom model nested in a static class, with every size argument set.</summary>
        public const string CustomSource = """
            using EffNet;

            namespace Demo.Vision
            {
                /// <summary>Models of the demo.</summary>
                public static partial class Models
                {
                    /// <summary>A small custom network.</summary>
                    [EfficientNet(Width = 0.5, Depth = 0.6, Resolution = 128, NumClasses = 10)]
                    public partial class Tiny;
                }
            }
            """;

        readonly ITestOutputHelper _output;

        public BaselineTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void B0_output_matches_its_baseline()
        {
            var (result, _) = GeneratorHarness.Run(B0Source);

            Assert.Empty(result.Diagnostics);
            Assert.Equal("Demo.Classifier.EfficientNet.g.cs", Assert.Single(result.GeneratedSources).HintName);
            Baseline.Verify("B0", result.GeneratedSources, _output);
        }

        [Fact]
        public void Lite0_output_matches_its_baseline_with_ReLU6_and_no_squeeze_excitation()
        {
            var (result, compilation) = GeneratorHarness.Run(Lite0Source);

            Assert.Empty(result.Diagnostics);
            Assert.Equal("Demo.EdgeClassifier.EfficientNet.g.cs", Assert.Single(result.GeneratedSources).HintName);
            string source = result.GeneratedSources[0].SourceText.ToString();
            Assert.DoesNotContain("SqueezeExcitation", source);
            Assert.Contains("Activation.ReLU6", source);
            string[] problems = GeneratorHarness.CompileToMemory(compilation);
            Assert.True(problems.Length == 0, string.Join("\n", problems));
            Baseline.Verify("Lite0", result.GeneratedSources, _output);
        }

        [Fact]
        public void V2S_output_matches_its_baseline_and_compiles_without_warnings()
        {
            var (result, compilation) = GeneratorHarness.Run(V2SSource);

            Assert.Empty(result.Diagnostics);
            string source = Assert.Single(result.GeneratedSources).SourceText.ToString();
            Assert.Contains("global::EffNet.Kernels.Convolution.Run(", source);
            string[] problems = GeneratorHarness.CompileToMemory(compilation);
            Assert.True(problems.Length == 0, string.Join("\n", problems));
            Baseline.Verify("V2S", result.GeneratedSources, _output);
        }

        [Fact]
        public void Int8_output_matches_its_baseline_and_compiles_without_warnings()
        {
            var (result, compilation) = GeneratorHarness.Run(Int8Source);

            Assert.Empty(result.Diagnostics);
            string source = Assert.Single(result.GeneratedSources).SourceText.ToString();
            Assert.Contains("global::EffNet.Kernels.PointwiseConvolutionInt8.RunLayer(", source);
            Assert.Contains("gate: gate", source);
            Assert.Contains("Precision = global::EffNet.EfficientNetPrecision.Int8", source);
            string[] problems = GeneratorHarness.CompileToMemory(compilation);
            Assert.True(problems.Length == 0, string.Join("\n", problems));
            Baseline.Verify("Int8", result.GeneratedSources, _output);
        }

        [Fact]
        public void Custom_nested_model_output_matches_its_baseline()
        {
            var (result, _) = GeneratorHarness.Run(CustomSource);

            Assert.Empty(result.Diagnostics);
            Assert.Equal("Demo.Vision.Models.Tiny.EfficientNet.g.cs", Assert.Single(result.GeneratedSources).HintName);
            Baseline.Verify("Custom", result.GeneratedSources, _output);
        }

        [Fact]
        public void B0_output_compiles_with_the_runtime_without_errors_or_warnings()
        {
            var (result, compilation) = GeneratorHarness.Run(B0Source);

            Assert.Single(result.GeneratedSources);
            string[] problems = GeneratorHarness.CompileToMemory(compilation);
            Assert.True(problems.Length == 0, string.Join("\n", problems));
            // The constants the class exposes are the B0 numbers torchvision reports.
            Assert.Equal(224, Constant(compilation, "Demo.Classifier", "InputHeight"));
            Assert.Equal(1000, Constant(compilation, "Demo.Classifier", "NumClasses"));
            Assert.Equal(1280, Constant(compilation, "Demo.Classifier", "FeatureCount"));
            Assert.Equal(5_288_548L, Constant(compilation, "Demo.Classifier", "ParameterCount"));
        }

        [Fact]
        public void Custom_output_compiles_with_the_runtime_without_errors_or_warnings()
        {
            var (result, compilation) = GeneratorHarness.Run(CustomSource);

            Assert.Single(result.GeneratedSources);
            string[] problems = GeneratorHarness.CompileToMemory(compilation);
            Assert.True(problems.Length == 0, string.Join("\n", problems));
            Assert.Equal(128, Constant(compilation, "Demo.Vision.Models+Tiny", "InputHeight"));
            Assert.Equal(10, Constant(compilation, "Demo.Vision.Models+Tiny", "NumClasses"));
        }

        [Fact]
        public void Explicit_Resolution_zero_means_the_native_size()
        {
            var (result, compilation) = GeneratorHarness.Run("""
                using EffNet;
                namespace Demo;
                [EfficientNet(Phi = 3, Resolution = 0)]
                public partial class Classifier;
                """);
            Assert.Empty(result.Diagnostics);
            Assert.Equal(300, Constant(compilation, "Demo.Classifier", "InputHeight"));
        }

        [Fact]
        public void Attribute_repeated_on_two_partial_declarations_leaves_other_models_generated()
        {
            // CS0579 (duplicate attribute) is the compiler's; the generator must not fail and drop the other model.
            var (result, compilation) = GeneratorHarness.Run("""
                using EffNet;
                namespace Demo;
                [EfficientNet(Phi = 0, Resolution = 64)]
                public partial class Twice;
                [EfficientNet(Phi = 0, Resolution = 64)]
                public partial class Twice;
                [EfficientNet(Phi = 1, Resolution = 64)]
                public partial class Other;
                """);
            Assert.Contains(result.GeneratedSources, s => s.HintName == "Demo.Other.EfficientNet.g.cs");
            Assert.Contains(result.GeneratedSources, s => s.HintName == "Demo.Twice.EfficientNet.g.cs");
            Assert.Equal(64, Constant(compilation, "Demo.Other", "InputHeight"));
        }

                [Fact]
        public void Baseline_comparison_reports_the_first_differing_line()
        {
            Assert.Null(Baseline.FirstDifference("a\nb\n", "a\nb\n"));
            string? difference = Baseline.FirstDifference("a\nb\nc\n", "a\nB\nc\n");
            Assert.NotNull(difference);
            Assert.Contains("line 2", difference);
            Assert.Contains("expected: \"b\"", difference);
            Assert.Contains("actual:   \"B\"", difference);
            Assert.Contains("<end of file>", Baseline.FirstDifference("a\n", "a\nextra\n"));
        }

        static object? Constant(Compilation compilation, string type, string field) =>
            Assert.IsAssignableFrom<IFieldSymbol>(
                Assert.Single(compilation.GetTypeByMetadataName(type)!.GetMembers(field))).ConstantValue;
    }
}
