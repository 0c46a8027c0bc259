using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Linq;
using System.Text;
using EffNet.Generator.Diagnostics;
using EffNet.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Generator.Tests
{
    /// <summary>
    /// Hundreds of seeded random attribute usages, as people type them and as code looks mid-edit: random named arguments
    /// with random values of right and wrong types, missing, duplicated and unknown arguments, positional arguments,
    /// unbalanced brackets, text cut anywhere, the attribute on structs, records, interfaces, enums and methods, inside
    /// nested, generic and non-partial containers. The generator must never throw (no CS8785, no EFN0013, no AD0001),
    /// report only its own EFN diagnostics, and whenever it stays silent on code the compiler accepts, its output must compile.
    /// </summary>
    public sealed class RobustnessTests
    {
        const int Cases = 400;
        const int Seed = 20191;
        readonly ITestOutputHelper _output;

        public RobustnessTests(ITestOutputHelper output) => _output = output;

        static readonly HashSet<string> OurIds = AllDiagnostics.Descriptors.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);

        [Fact]
        public void Random_and_malformed_attribute_usages_give_only_our_diagnostics_and_never_a_generator_failure()
        {
            var random = new Random(Seed);
            var seen = new SortedDictionary<string, int>(StringComparer.Ordinal);
            int generated = 0, compiled = 0, silentOnErrors = 0;
            var stopwatch = Stopwatch.StartNew();
            for (int n = 0; n < Cases; n++)
            {
                string source = RandomSource(random);
                Compilation input = GeneratorHarness.CreateCompilation(source);
                GeneratorDriver driver = GeneratorHarness.CreateDriver()
                    .RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> driverDiagnostics);
                GeneratorRunResult result = driver.GetRunResult().Results.Single();
                string Context() => $"case {n} (seed {Seed}):\n{source}";

                Assert.True(result.Exception is null, $"the generator threw {result.Exception} on {Context()}");
                Diagnostic[] reported = driverDiagnostics.Concat(result.Diagnostics).ToArray();
                Assert.DoesNotContain(reported, d => d.Id is "CS8785" or "AD0001");
                foreach (Diagnostic d in reported)
                {
                    Assert.True(OurIds.Contains(d.Id), $"unexpected diagnostic {d} on {Context()}");
                    Assert.True(d.Id != DiagnosticDescriptors.InternalError.Id, $"the generator failed internally: {d} on {Context()}");
                    seen[d.Id] = seen.GetValueOrDefault(d.Id) + 1;
                }
                if (result.GeneratedSources.Length > 0)
                    generated++;

                // Code the compiler accepts and the generator accepts must compile with what the generator added. The
                // binding check is the slow part, so it runs on the first few dozen such cases (each a different model).
                bool inputCompiles = !input.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error);
                if (inputCompiles && reported.Length == 0 && result.GeneratedSources.Length > 0 && compiled < 40)
                {
                    Diagnostic[] errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
                    Assert.True(errors.Length == 0, $"generated code does not compile: {string.Join("; ", errors.Take(5))} on {Context()}");
                    compiled++;
                }
                if (!inputCompiles && reported.Length == 0 && result.GeneratedSources.Length > 0)
                    silentOnErrors++;
            }
            _output.WriteLine($"{Cases} random usages in {stopwatch.Elapsed.TotalSeconds:F1} s: {generated} generated a model, " +
                              $"{compiled} compiled with the generated code, {silentOnErrors} generated while the user's code had compiler errors; " +
                              $"diagnostics: {string.Join(", ", seen.Select(p => $"{p.Key} x{p.Value}"))}");
            Assert.True(seen.Count >= 8, "the random usages should reach most of the diagnostics: " + string.Join(", ", seen.Keys));
            Assert.True(generated >= Cases / 10 && compiled >= 20, $"too few valid usages: {generated} generated, {compiled} compiled");
        }

        /// <summary>The corners of the allowed ranges generate promptly (the largest network's arena still fits a span).</summary>
        [Theory]
        [InlineData("Width = 4, Depth = 8, Resolution = 2048, NumClasses = 100000")]
        [InlineData("Width = 4.9E-324, Depth = 4.9E-324, Resolution = 32, NumClasses = 1")]
        [InlineData("Phi = 7, Resolution = 2048")]
        public void Extreme_configurations_generate_promptly(string arguments)
        {
            var stopwatch = Stopwatch.StartNew();
            (GeneratorRunResult result, _) = GeneratorHarness.Run($"using EffNet; [EfficientNet({arguments})] public partial class Extreme;");
            _output.WriteLine($"{arguments}: {stopwatch.Elapsed.TotalSeconds:F1} s, {result.GeneratedSources.Sum(g => g.SourceText.Length):N0} chars");
            Assert.Empty(result.Diagnostics);
            Assert.Single(result.GeneratedSources);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"the generator took {stopwatch.Elapsed}");
        }

        // ----- the random source -----

        static T Pick<T>(Random random, params T[] items) => items[random.Next(items.Length)];

        static readonly string[] Names = { "Phi", "Width", "Depth", "Resolution", "NumClasses", "Padding" };

        static string Value(Random random, string name) => random.Next(10) switch
        {
            < 5 => name switch // plausible, mostly in range
            {
                "Phi" => random.Next(-2, 10).ToString(),
                "Width" or "Depth" => Pick(random, "0.5", "1", "1.2", "0.1", "2.0", "1e-3", "0.0", "-1.0", "4.0", "8", "1.0f", "0.75d"),
                "Resolution" => Pick(random, "0", "32", "31", "64", "96", "128", "224", "257", "2048", "2049", "-5"),
                "NumClasses" => Pick(random, "1", "10", "1000", "0", "100000", "100001", "-1"),
                _ => Pick(random, "EfficientNetPadding.Same", "EfficientNetPadding.Symmetric", "(EfficientNetPadding)7", "(EfficientNetPadding)(-1)", "default"),
            },
            5 => Pick(random, "int.MaxValue", "int.MinValue", "double.NaN", "double.PositiveInfinity", "double.Epsilon", "1e308", "-0.0", "long.MaxValue", "uint.MaxValue"),
            6 => Pick(random, "\"3\"", "null", "true", "'a'", "1.5", "1.5m", "typeof(int)", "nameof(Phi)", "new int[0]", "default"),
            7 => Pick(random, "1 + 2", "(int)2.9", "Consts.Phi", "Consts.Width", "Consts.Missing", "checked(int.MaxValue + 1)", "1 << 4", "(byte)3"),
            8 => Pick(random, "", " ", "=", "Phi", "))", "EfficientNetPadding.", "0x"),
            _ => random.Next(int.MinValue, int.MaxValue).ToString(),
        };

        static string Arguments(Random random)
        {
            var parts = new List<string>();
            int count = random.Next(0, 5);
            for (int i = 0; i < count; i++)
            {
                switch (random.Next(12))
                {
                    case 0: parts.Add(Value(random, "Phi")); break; // positional: there is no such constructor
                    case 1: parts.Add("Foo = 1"); break;
                    case 2 when parts.Count > 0: parts.Add(parts[^1]); break; // duplicated
                    case 3: parts.Add(Pick(random, Names).ToLowerInvariant() + " = 1"); break;
                    case 4: parts.Add(Pick(random, Names) + ": " + Value(random, "Phi")); break;
                    default:
                        string name = Pick(random, Names);
                        parts.Add(name + " = " + Value(random, name));
                        break;
                }
            }
            return string.Join(Pick(random, ", ", ",", " , ", ",, "), parts);
        }

        static string Attribute(Random random)
        {
            string name = Pick(random, "EfficientNet", "EfficientNet", "EfficientNet", "EffNet.EfficientNet", "global::EffNet.EfficientNetAttribute", "EfficientNetAttribute", "Alias", "EfficientNett");
            string arguments = random.Next(8) switch
            {
                0 => "",
                1 => "()",
                _ => "(" + Arguments(random) + ")",
            };
            string attribute = "[" + name + arguments + "]";
            if (random.Next(10) == 0) attribute += attribute; // applied twice
            if (random.Next(15) == 0) attribute = "[Obsolete, " + name + arguments + "]";
            return attribute;
        }

        static string Target(Random random, string attribute)
        {
            string name = Pick(random, "Classifier", "Net", "@class", "Model1", "Classifier");
            return random.Next(16) switch
            {
                0 => $"{attribute} public partial struct {name};",
                1 => $"{attribute} public partial record {name};",
                2 => $"{attribute} public partial record struct {name};",
                3 => $"{attribute} public partial interface I{name} {{ }}",
                4 => $"{attribute} public enum {name} {{ A }}",
                5 => $"public partial class Host {{ {attribute} public void {name}() {{ }} }}",
                6 => $"{attribute} public class {name} {{ }}",
                7 => $"{attribute} public static partial class {name} {{ }}",
                8 => $"{attribute} public abstract partial class {name} {{ }}",
                9 => $"{attribute} public partial class {name}<T> {{ }}",
                10 => $"{attribute} public sealed partial class {name} {{ }}",
                11 => $"{attribute} internal partial class {name} {{ }}\n{attribute} partial class {name} {{ }}",
                _ => $"{attribute} public partial class {name};",
            };
        }

        static string Container(Random random, string member) => random.Next(8) switch
        {
            0 => $"public partial class Outer {{ {member} }}",
            1 => $"public class Closed {{ {member} }}",
            2 => $"public partial class Generic<T> {{ {member} }}",
            3 => $"public partial struct Holder {{ {member} }}",
            4 => $"public partial class A {{ public partial class B {{ {member} }} }}",
            5 => $"public partial record Rec {{ {member} }}",
            _ => member,
        };

        static string RandomSource(Random random)
        {
            var text = new StringBuilder();
            if (random.Next(10) > 0) text.Append("using EffNet;\n");
            text.Append("using System;\nusing Alias = EffNet.EfficientNetAttribute;\n");
            string body = Container(random, Target(random, Attribute(random)));
            body += "\nstatic class Consts { public const int Phi = 2; public const double Width = 0.5; }";
            text.Append(random.Next(4) switch
            {
                0 => "namespace Demo.Models;\n" + body,
                1 => "namespace Demo { " + body + " }",
                2 => "namespace Demo { namespace Inner { " + body + " } }",
                _ => body,
            });
            string source = text.ToString();
            return random.Next(5) switch // code mid-edit
            {
                0 => source.Substring(0, random.Next(source.Length)),
                1 => Damage(random, source),
                _ => source,
            };
        }

        /// <summary>Removes or inserts a bracket, quote or punctuation mark somewhere: unbalanced, unterminated, half-typed.</summary>
        static string Damage(Random random, string source)
        {
            int at = random.Next(source.Length);
            return random.Next(3) switch
            {
                0 => source.Remove(at, 1),
                1 => source.Insert(at, Pick(random, "(", ")", "[", "]", "\"", "{", "}", ",", "=", ";", "/*", "#if X\n")),
                _ => source.Replace(Pick(random, ")]", "];", "= ", "partial "), Pick(random, "]", ";", "=", "", "partial partial ")),
            };
        }
    }
}
