using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EffNet.Generator.Tests.Infrastructure
{
    /// <summary>Runs <see cref="EfficientNetGenerator"/> directly with a <see cref="CSharpGeneratorDriver"/>.</summary>
    static class GeneratorHarness
    {
        /// <summary>Latest C# (for <c>class C;</c> and file-local types); doc comments diagnosed so bad crefs in generated code warn.</summary>
        public static readonly CSharpParseOptions ParseOptions =
            new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose);

        static readonly CSharpCompilationOptions CompilationOptions =
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                // The SDK passes /nowarn:1701,1702 (assembly unification notes) to every build; do the same.
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>
                {
                    ["CS1701"] = ReportDiagnostic.Suppress,
                    ["CS1702"] = ReportDiagnostic.Suppress,
                });

        public static SyntaxTree Parse(string source, string path) =>
            CSharpSyntaxTree.ParseText(source, ParseOptions, path, Encoding.UTF8);

        /// <summary>A library compilation of the sources (files /src/File0.cs, /src/File1.cs, ...) against the framework and EffNet.Runtime.</summary>
        public static CSharpCompilation CreateCompilation(params string[] sources) =>
            CSharpCompilation.Create("EffNetGeneratorTestInput",
                sources.Select((source, i) => Parse(source, FilePath(i))),
                TestReferences.All, CompilationOptions);

        public static string FilePath(int index) => "/src/File" + index + ".cs";

        public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
            CSharpGeneratorDriver.Create(
                new[] { new EfficientNetGenerator().AsSourceGenerator() },
                parseOptions: ParseOptions,
                driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

        /// <summary>Runs the generator once; returns its result and the compilation with the generated trees added.</summary>
        public static (GeneratorRunResult Result, Compilation Output) Run(Compilation input)
        {
            GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> driverDiagnostics);
            GeneratorRunResult result = driver.GetRunResult().Results.Single();
            if (result.Exception != null)
                throw new InvalidOperationException("The generator threw: " + result.Exception, result.Exception);
            // Driver diagnostics are the generator's own (result.Diagnostics) plus driver failures; the latter would be a harness bug.
            Diagnostic[] unexpected = driverDiagnostics.Where(d => !result.Diagnostics.Contains(d)).ToArray();
            if (unexpected.Length > 0)
                throw new InvalidOperationException("The generator driver reported: " + string.Join(Environment.NewLine, unexpected.Select(d => d.ToString())));
            return (result, output);
        }

        public static (GeneratorRunResult Result, Compilation Output) Run(params string[] sources) => Run(CreateCompilation(sources));

        /// <summary>Emits the compilation to memory and returns every error and warning the compiler reports, formatted.</summary>
        public static string[] CompileToMemory(Compilation compilation)
        {
            using var stream = new MemoryStream();
            Microsoft.CodeAnalysis.Emit.EmitResult emitted = compilation.Emit(stream);
            string[] problems = compilation.GetDiagnostics().Concat(emitted.Diagnostics)
                .Where(d => d.Severity >= DiagnosticSeverity.Warning)
                .Select(d => d.ToString())
                .Distinct()
                .ToArray();
            if (!emitted.Success && problems.Length == 0)
                problems = new[] { "Emit failed without reporting an error or warning." };
            return problems;
        }
    }
}
