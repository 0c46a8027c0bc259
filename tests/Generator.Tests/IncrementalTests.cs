using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using EffNet.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace EffNet.Generator.Tests
{
    /// <summary>
    /// The pipeline caches: edits that do not change an attribute leave the "GeneratedModel" step and the source output
    /// Cached/Unchanged (so the expensive layout, plan and emit do not re-run); changing the attribute regenerates.
    /// And the pipeline models hold only plain values, never compilation objects that would defeat caching.
    /// </summary>
    public class IncrementalTests
    {
        const string ModelFile = """
            using EffNet;

            namespace Demo;

            [EfficientNet(Phi = 0)]
            public partial class Classifier;
            """;

        const string OtherFile = """
            namespace Demo;

            public static class Helpers
            {
                public static int Twice(int x) => x * 2;
            }
            """;

        static readonly IncrementalStepRunReason[] Reused = { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged };

        /// <summary>Runs once on <paramref name="before"/>, then on the edited compilation; returns the second run's result.</summary>
        static (GeneratorRunResult First, GeneratorRunResult Second) RunTwice(Compilation before, Func<Compilation, Compilation> edit)
        {
            GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true);
            driver = driver.RunGenerators(before);
            GeneratorRunResult first = driver.GetRunResult().Results.Single();
            driver = driver.RunGenerators(edit(before));
            GeneratorRunResult second = driver.GetRunResult().Results.Single();
            Assert.Null(first.Exception);
            Assert.Null(second.Exception);
            return (first, second);
        }

        static Compilation Initial() => GeneratorHarness.CreateCompilation(ModelFile, OtherFile);

        static SyntaxTree Tree(Compilation compilation, int index) =>
            compilation.SyntaxTrees.Single(t => t.FilePath == GeneratorHarness.FilePath(index));

        static Compilation Replace(Compilation compilation, int index, string newText) =>
            compilation.ReplaceSyntaxTree(Tree(compilation, index), GeneratorHarness.Parse(newText, GeneratorHarness.FilePath(index)));

        static IEnumerable<(object Value, IncrementalStepRunReason Reason)> StepOutputs(GeneratorRunResult result, string step) =>
            result.TrackedSteps[step].SelectMany(s => s.Outputs);

        static IEnumerable<(object Value, IncrementalStepRunReason Reason)> SourceOutputs(GeneratorRunResult result) =>
            result.TrackedOutputSteps.SelectMany(pair => pair.Value).SelectMany(s => s.Outputs);

        static void AssertEverythingReused(GeneratorRunResult first, GeneratorRunResult second)
        {
            var model = StepOutputs(second, EfficientNetGenerator.OutputStep).ToArray();
            Assert.NotEmpty(model);
            Assert.All(model, o => Assert.Contains(o.Reason, Reused));
            var outputs = SourceOutputs(second).ToArray();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, o => Assert.Contains(o.Reason, Reused));
            Assert.Equal(first.GeneratedSources.Single().SourceText.ToString(), second.GeneratedSources.Single().SourceText.ToString());
        }

        [Fact]
        public void First_run_reports_the_model_steps_as_New()
        {
            GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(Initial());
            GeneratorRunResult result = driver.GetRunResult().Results.Single();

            Assert.All(StepOutputs(result, EfficientNetGenerator.RequestStep), o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));
            Assert.All(StepOutputs(result, EfficientNetGenerator.OutputStep), o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));
            Assert.Single(StepOutputs(result, EfficientNetGenerator.OutputStep));
        }

        [Fact]
        public void Rerun_on_the_same_compilation_is_cached()
        {
            var (first, second) = RunTwice(Initial(), c => c);

            AssertEverythingReused(first, second);
        }

        [Fact]
        public void Adding_an_unrelated_file_keeps_the_generated_model_cached()
        {
            var (first, second) = RunTwice(Initial(),
                c => c.AddSyntaxTrees(GeneratorHarness.Parse("namespace Demo; public sealed class Unrelated { }", "/src/Unrelated.cs")));

            AssertEverythingReused(first, second);
        }

        [Fact]
        public void Editing_an_unrelated_file_keeps_the_generated_model_cached()
        {
            var (first, second) = RunTwice(Initial(),
                c => Replace(c, 1, OtherFile.Replace("x * 2", "x + x") + "\npublic static class More { }\n"));

            AssertEverythingReused(first, second);
        }

        [Fact]
        public void Adding_a_comment_to_the_model_file_keeps_the_generated_model_cached()
        {
            var (first, second) = RunTwice(Initial(),
                c => Replace(c, 0, "// A comment that moves every line down.\n" + ModelFile.Replace("[EfficientNet(Phi = 0)]", "/* B0 */ [EfficientNet(Phi = 0)] // still B0")));

            // The attribute transform re-runs on an edit to its file and yields an equal request.
            Assert.All(StepOutputs(second, EfficientNetGenerator.RequestStep), o => Assert.Contains(o.Reason, Reused));
            AssertEverythingReused(first, second);
        }

        [Fact]
        public void Changing_Phi_regenerates_the_model()
        {
            var (first, second) = RunTwice(Initial(), c => Replace(c, 0, ModelFile.Replace("Phi = 0", "Phi = 1")));

            Assert.Equal(IncrementalStepRunReason.Modified, Assert.Single(StepOutputs(second, EfficientNetGenerator.RequestStep)).Reason);
            Assert.Equal(IncrementalStepRunReason.Modified, Assert.Single(StepOutputs(second, EfficientNetGenerator.OutputStep)).Reason);
            Assert.Contains(SourceOutputs(second), o => o.Reason == IncrementalStepRunReason.Modified);

            string before = first.GeneratedSources.Single().SourceText.ToString();
            string after = second.GeneratedSources.Single().SourceText.ToString();
            Assert.NotEqual(before, after);
            Assert.Contains("EfficientNet-B0 @224x224", before);
            Assert.Contains("EfficientNet-B1 @240x240", after);
        }

        [Fact]
        public void Pipeline_models_hold_no_symbols_syntax_locations_or_compilations()
        {
            // A valid model and a broken one, so the walk covers the generated source and the diagnostics with their locations.
            Compilation compilation = GeneratorHarness.CreateCompilation(ModelFile, OtherFile,
                "using EffNet; namespace Demo; [EfficientNet(Phi = 9, NumClasses = 0)] public class Broken { }");
            GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
            GeneratorRunResult result = driver.GetRunResult().Results.Single();

            object[] roots = StepOutputs(result, EfficientNetGenerator.RequestStep)
                .Concat(StepOutputs(result, EfficientNetGenerator.OutputStep))
                .Select(o => o.Value).ToArray();
            Assert.Equal(3, roots.Length); // two requests; only the valid one reaches the GeneratedModel step

            var walk = new ObjectGraphWalk();
            foreach (object root in roots)
                walk.Visit(root, root.GetType().Name);

            Assert.Empty(walk.Violations);
            // The walk reached the parts that could plausibly hold a Roslyn object.
            Assert.Contains("ModelRequest", walk.TypesSeen);
            Assert.Contains("GeneratedModel", walk.TypesSeen);
            Assert.Contains("DiagnosticInfo", walk.TypesSeen);
            Assert.Contains("LocationInfo", walk.TypesSeen);
        }

        [Fact]
        public void Object_graph_walk_finds_a_location_hidden_in_a_model()
        {
            Compilation compilation = GeneratorHarness.CreateCompilation(ModelFile);
            var hidden = new { Name = "x", Inner = new object[] { 1, Tuple.Create(compilation.SyntaxTrees.First().GetRoot().GetLocation()) } };

            var walk = new ObjectGraphWalk();
            walk.Visit(hidden, "hidden");

            Assert.Contains(walk.Violations, v => v.Contains("Location", StringComparison.Ordinal));
        }

        /// <summary>Walks every field of an object graph, recording any that holds (or is declared as) a banned Roslyn type.</summary>
        sealed class ObjectGraphWalk
        {
            static readonly Type[] Banned =
            {
                typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(Compilation),
                typeof(SemanticModel), typeof(SyntaxToken), typeof(SyntaxReference), typeof(AttributeData),
            };

            readonly HashSet<object> _seen = new HashSet<object>(ReferenceEqualityComparer.Instance);

            public List<string> Violations { get; } = new List<string>();

            public HashSet<string> TypesSeen { get; } = new HashSet<string>(StringComparer.Ordinal);

            public void Visit(object? value, string path)
            {
                if (value is null) return;
                Type type = value.GetType();
                TypesSeen.Add(type.Name);
                if (Banned.Any(b => b.IsAssignableFrom(type)))
                {
                    Violations.Add($"{path} holds a {type.FullName}");
                    return;
                }
                if (type.IsPrimitive || type.IsEnum || value is string || value is decimal) return;
                // Descriptors and their localizable strings are static metadata, and reflection objects are not model state.
                if (value is DiagnosticDescriptor || value is LocalizableString || value is MemberInfo || value is Delegate) return;
                if (!type.IsValueType && !_seen.Add(value)) return;

                if (value is Array array)
                {
                    int i = 0;
                    foreach (object? item in array) Visit(item, $"{path}[{i++}]");
                    return;
                }
                for (Type? t = type; t != null && t != typeof(object); t = t.BaseType)
                    foreach (FieldInfo field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                    {
                        if (Banned.Any(b => b.IsAssignableFrom(field.FieldType)))
                            Violations.Add($"{path}.{field.Name} is declared as {field.FieldType.FullName}");
                        Visit(field.GetValue(value), path + "." + field.Name);
                    }
            }
        }
    }
}
