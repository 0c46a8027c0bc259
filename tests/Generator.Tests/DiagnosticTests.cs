using System.Linq;
using System.Threading.Tasks;
using EffNet.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using static EffNet.Generator.Tests.Infrastructure.DiagnosticTest;

namespace EffNet.Generator.Tests
{
    /// <summary>
    /// EFN0001..EFN0016: each is an error with the exact id, message arguments and location ({|#0:...|} marks the span).
    /// Class-shape errors point at the class name; attribute-value errors at the offending named argument.
    /// </summary>
    public class DiagnosticTests
    {
        [Fact]
        public Task Missing_partial_reports_EFN0001_at_the_class_name() => VerifyAsync("""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0)]
            public class {|#0:Classifier|} { }
            """,
            Error("EFN0001", "Classifier"));

        [Fact]
        public Task Nesting_in_a_non_partial_type_reports_EFN0002_at_the_class_name() => VerifyAsync("""
            using EffNet;
            namespace Demo;
            public partial class Models
            {
                public class Zoo
                {
                    [EfficientNet(Phi = 0)]
                    public partial class {|#0:Classifier|};
                }
            }
            """,
            Error("EFN0002", "Classifier", "Zoo"));

        [Fact]
        public Task Generic_class_reports_EFN0003_at_the_class_name() => VerifyAsync("""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0)]
            public partial class {|#0:Classifier|}<T>;
            """,
            Error("EFN0003", "Classifier"));

        [Theory]
        [InlineData(9)]
        [InlineData(8)]
        [InlineData(-1)]
        public Task Phi_out_of_range_reports_EFN0004_at_the_Phi_argument(int phi) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [EfficientNet({|#0:Phi = {{phi}}|})]
            public partial class Classifier;
            """,
            Error("EFN0004", phi.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        [Theory]
        [InlineData(5)]
        [InlineData(-1)]
        public Task Lite_Phi_out_of_range_reports_EFN0017_at_the_Phi_argument(int phi) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [EfficientNetLite({|#0:Phi = {{phi}}|})]
            public partial class Classifier;
            """,
            Error("EFN0017", phi.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        [Fact]
        public Task A_class_with_both_EfficientNet_and_EfficientNetLite_reports_EFN0018_once_and_generates_nothing() => VerifyAsync("""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0)]
            [EfficientNetLite(Phi = 0)]
            public partial class {|#0:Classifier|};
            """,
            Error("EFN0018", "Classifier", "[EfficientNet] and [EfficientNetLite]"));

        [Theory]
        [InlineData("3")]
        [InlineData("(-1)")]
        public Task An_undefined_V2_size_reports_EFN0019_at_the_Size_argument(string size) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [EfficientNetV2({|#0:Size = (EfficientNetV2Size){{size}}|})]
            public partial class Classifier;
            """,
            Error("EFN0019", size == "3" ? "3" : "-1"));

        [Theory]
        [InlineData("EfficientNet(Phi = 0, ", "2")]
        [InlineData("EfficientNetLite(", "(-1)")]
        [InlineData("EfficientNetV2(", "7")]
        public Task An_undefined_precision_reports_EFN0020_at_the_Precision_argument(string attribute, string value) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [{{attribute}}{|#0:Precision = (EfficientNetPrecision){{value}}|})]
            public partial class Classifier;
            """,
            Error("EFN0020", value.Trim('(', ')')));

        [Theory]
        [InlineData("0", "0")]
        [InlineData("-5", "-5")]
        [InlineData("100001", "100001")]
        public Task NumClasses_out_of_range_reports_EFN0005_at_the_NumClasses_argument(string numClasses, string shown) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0, {|#0:NumClasses = {{numClasses}}|})]
            public partial class Classifier;
            """,
            Error("EFN0005", shown, "1", "100000"));

        [Theory]
        [InlineData(16)]
        [InlineData(31)]
        [InlineData(4096)]
        [InlineData(2049)]
        public Task Resolution_out_of_range_reports_EFN0006_at_the_Resolution_argument(int resolution) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0, {|#0:Resolution = {{resolution}}|})]
            public partial class Classifier;
            """,
            Error("EFN0006", resolution.ToString(System.Globalization.CultureInfo.InvariantCulture), "32", "2048"));

        [Theory]
        [InlineData("0", "0")]
        [InlineData("0.0", "0")]
        [InlineData("-0.5", "-0.5")]
        [InlineData("5.0", "5")]
        [InlineData("4.0000001", "4.0000001")]
        [InlineData("double.NaN", "NaN")]
        [InlineData("double.PositiveInfinity", "Infinity")]
        public Task Width_out_of_range_reports_EFN0007_at_the_Width_argument(string width, string shown) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [EfficientNet({|#0:Width = {{width}}|}, Depth = 1.0)]
            public partial class Classifier;
            """,
            Error("EFN0007", shown, "4"));

        [Theory]
        [InlineData("0", "0")]
        [InlineData("9.0", "9")]
        [InlineData("double.NaN", "NaN")]
        public Task Depth_out_of_range_reports_EFN0008_at_the_Depth_argument(string depth, string shown) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [EfficientNet(Width = 1.0, {|#0:Depth = {{depth}}|})]
            public partial class Classifier;
            """,
            Error("EFN0008", shown, "8"));

        [Theory]
        [InlineData("Width = 1.0", "Width = 1.0", "Width")]
        [InlineData("Depth = 1.0", "Depth = 1.0", "Depth")]
        [InlineData("Width = 1.0, Depth = 1.0", "Width = 1.0", "Width and Depth")]
        public Task Phi_with_Width_or_Depth_reports_EFN0009_at_the_Width_or_Depth_argument(string arguments, string marked, string named)
        {
            string markedArguments = arguments.Replace(marked, "{|#0:" + marked + "|}");
            return VerifyAsync($$"""
                using EffNet;
                namespace Demo;
                [EfficientNet(Phi = 3, {{markedArguments}})]
                public partial class Classifier;
                """,
                Error("EFN0009", named));
        }

        [Theory]
        [InlineData("static")]
        [InlineData("abstract")]
        public Task Static_or_abstract_class_reports_EFN0010_at_the_class_name(string modifier) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0)]
            public {{modifier}} partial class {|#0:Classifier|} { }
            """,
            Error("EFN0010", "Classifier", modifier));

        [Theory]
        [InlineData("(EfficientNetPadding)7", "7")]
        [InlineData("(EfficientNetPadding)(-1)", "-1")]
        public Task Undefined_padding_reports_EFN0011_at_the_Padding_argument(string padding, string shown) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0, {|#0:Padding = {{padding}}|})]
            public partial class Classifier;
            """,
            Error("EFN0011", shown));

        [Fact]
        public Task Record_reports_EFN0014_at_the_record_name() => VerifyAsync("""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0)]
            public partial record {|#0:Classifier|};
            """,
            Error("EFN0014", "Classifier"));

        [Fact]
        public Task Class_nested_in_a_generic_type_is_not_reported_as_generic() => VerifyAsync("""
            using EffNet;
            namespace Demo;
            public partial class Outer<T>
            {
                [EfficientNet(Phi = 0, Resolution = 64)]
                public partial class Classifier;
            }
            """);

        [Fact]
        public Task Keyword_names_escaped_with_at_generate_code_that_compiles() => VerifyAsync("""
            using EffNet;
            namespace @class;
            [EfficientNet(Phi = 0, Resolution = 64)]
            public partial class @event;
            """);

                [Fact]
        public Task Every_problem_of_one_class_is_reported_together() => VerifyAsync("""
            using EffNet;
            namespace Demo;
            [EfficientNet({|#1:Phi = 12|}, {|#2:Width = 9.0|}, {|#3:NumClasses = 0|})]
            public static class {|#0:Classifier|} { }
            """,
            new DiagnosticResult("EFN0001", DiagnosticSeverity.Error).WithLocation(0).WithArguments("Classifier"),
            new DiagnosticResult("EFN0010", DiagnosticSeverity.Error).WithLocation(0).WithArguments("Classifier", "static"),
            new DiagnosticResult("EFN0004", DiagnosticSeverity.Error).WithLocation(1).WithArguments("12"),
            new DiagnosticResult("EFN0009", DiagnosticSeverity.Error).WithLocation(2).WithArguments("Width"),
            new DiagnosticResult("EFN0007", DiagnosticSeverity.Error).WithLocation(2).WithArguments("9", "4"),
            new DiagnosticResult("EFN0005", DiagnosticSeverity.Error).WithLocation(3).WithArguments("0", "1", "100000"));

        // A valid model compiles (the test framework compiles the generated source and fails on any compiler error).
        [Theory]
        [InlineData("[EfficientNet]")]
        [InlineData("[EfficientNet(Phi = 0)]")]
        [InlineData("[EfficientNetLite]")]
        [InlineData("[EfficientNetV2(Size = EfficientNetV2Size.M, NumClasses = 7, Resolution = 96)]")]
        [InlineData("[EfficientNetLite(Phi = 4, NumClasses = 3, Resolution = 64, Padding = EfficientNetPadding.Symmetric)]")]
        [InlineData("[EfficientNet(Phi = 7, Resolution = 32, NumClasses = 1)]")]
        [InlineData("[EfficientNet(Width = 0.5, Depth = 0.6, Resolution = 128, NumClasses = 10, Padding = EfficientNetPadding.Same)]")]
        [InlineData("[EfficientNet(Width = 4.0)]")]
        [InlineData("[EfficientNet(Depth = 8.0, Resolution = 32, NumClasses = 100000)]")]
        public Task Valid_attribute_reports_no_diagnostics(string attribute) => VerifyAsync($$"""
            using EffNet;
            namespace Demo;
            {{attribute}}
            public partial class Classifier;
            """);

        [Fact]
        public Task A_user_written_constructor_reports_EFN0015_at_the_constructor() => VerifyAsync("""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0)]
            public partial class Classifier
            {
                public {|#0:Classifier|}() { }
            }
            """,
            Error("EFN0015", "Classifier"));

        [Fact]
        public Task A_primary_constructor_reports_EFN0015() => VerifyAsync("""
            using EffNet;
            namespace Demo;
            [EfficientNet(Phi = 0)]
            public partial class {|#0:Classifier|}(int size);
            """,
            Error("EFN0015", "Classifier"));

        [Theory]
        [InlineData("EffNet", "Kernels")]
        [InlineData("EffNet", "Generated")]
        [InlineData("EffNet", "Threading")]
        public Task A_user_type_named_like_an_EffNet_namespace_reports_EFN0016_at_that_type(string ns, string name) => VerifyAsync($$"""
            using EffNet;
            namespace Demo { [EfficientNet(Phi = 0)] public partial class Classifier; }
            namespace {{ns}} { public class {|#0:{{name}}|} { } }
            """,
            Error("EFN0016", ns + "." + name));

        [Fact]
        public void A_user_type_named_like_an_EffNet_namespace_stops_generation_until_renamed()
        {
            var (result, _) = GeneratorHarness.Run("""
                namespace Demo { [EffNet.EfficientNet(Phi = 0)] public partial class Classifier; }
                namespace EffNet { class Kernels { } }
                """);

            Assert.Equal("EFN0016", Assert.Single(result.Diagnostics).Id);
            Assert.Empty(result.GeneratedSources);
        }

        [Fact]
        public void User_types_named_like_the_kernels_and_System_types_do_not_break_the_generated_code()
        {
            // Every name in the generated file is written from global::, so these cannot take the place of ours.
            var (result, compilation) = GeneratorHarness.Run("""
                using EffNet;
                namespace Demo
                {
                    [EfficientNet(Phi = 0)] public partial class Classifier;
                    public class Span<T> { }
                    public class ReadOnlySpan<T> { }
                    public class Activation { }
                    public class ModelSession { }
                }
                namespace EffNet.Generated { public class PointwiseConvolution { } public class Span<T> { } }
                """);

            Assert.Empty(result.Diagnostics);
            Assert.Single(result.GeneratedSources);
            Assert.DoesNotContain(GeneratorHarness.CompileToMemory(compilation), problem => problem.Contains(": error "));
        }

        [Theory]
        [InlineData("[EfficientNet(Phi = 0)] public class Classifier { }", "EFN0001")]
        [InlineData("public class Outer { [EfficientNet(Phi = 0)] public partial class Classifier; }", "EFN0002")]
        [InlineData("[EfficientNet(Phi = 0)] public partial class Classifier<T>;", "EFN0003")]
        [InlineData("[EfficientNet(Phi = 9)] public partial class Classifier;", "EFN0004")]
        [InlineData("[EfficientNet(Phi = 0, NumClasses = 0)] public partial class Classifier;", "EFN0005")]
        [InlineData("[EfficientNet(Phi = 0, Resolution = 16)] public partial class Classifier;", "EFN0006")]
        [InlineData("[EfficientNet(Width = 5.0)] public partial class Classifier;", "EFN0007")]
        [InlineData("[EfficientNet(Depth = 0)] public partial class Classifier;", "EFN0008")]
        [InlineData("[EfficientNet(Phi = 1, Width = 1.0)] public partial class Classifier;", "EFN0009")]
        [InlineData("[EfficientNet(Phi = 0)] public abstract partial class Classifier;", "EFN0010")]
        [InlineData("[EfficientNet(Phi = 0, Padding = (EfficientNetPadding)7)] public partial class Classifier;", "EFN0011")]
        [InlineData("[EfficientNet(Phi = 0)] public partial class Classifier { Classifier(int x) { } }", "EFN0015")]
        public void Class_with_errors_generates_no_source(string declaration, string id)
        {
            var (result, _) = GeneratorHarness.Run("using EffNet; namespace Demo; " + declaration);

            Assert.Contains(result.Diagnostics, d => d.Id == id && d.Severity == DiagnosticSeverity.Error);
            Assert.Empty(result.GeneratedSources);
        }

        [Fact]
        public void Error_in_one_class_does_not_stop_another_class()
        {
            var (result, _) = GeneratorHarness.Run("""
                using EffNet;
                namespace Demo;
                [EfficientNet(Phi = 9)] public partial class Broken;
                [EfficientNet(Phi = 0)] public partial class Working;
                """);

            Assert.Equal("EFN0004", Assert.Single(result.Diagnostics).Id);
            Assert.Equal("Demo.Working.EfficientNet.g.cs", Assert.Single(result.GeneratedSources).HintName);
        }

        /// <summary>
        /// EFN0012 needs an arena or weight buffer above 0x7FFFFFC7 floats. The largest model the attribute allows
        /// (Width 4, Depth 8, Resolution 2048, 100,000 classes) stays far below that, so the generator cannot report it
        /// from user input; this pins that fact and that such a model still generates.
        /// </summary>
        [Theory]
        [InlineData("Width = 4.0, Resolution = 2048")]
        [InlineData("Width = 4.0, Depth = 8.0, Resolution = 2048, NumClasses = 100000")]
        public void Largest_allowed_model_generates_without_EFN0012(string arguments)
        {
            var (result, _) = GeneratorHarness.Run("using EffNet; namespace Demo; [EfficientNet(" + arguments + ")] public partial class Huge;");

            Assert.Empty(result.Diagnostics);
            Assert.Single(result.GeneratedSources);
        }
    }
}
