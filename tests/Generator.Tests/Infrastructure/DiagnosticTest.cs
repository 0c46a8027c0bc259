using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace EffNet.Generator.Tests.Infrastructure
{
    /// <summary>
    /// Microsoft.CodeAnalysis.Testing's generator test, set up to work offline: an empty "net10.0" reference set (no
    /// reference-assembly package download) plus <see cref="TestReferences.All"/>. Generated text is not compared here
    /// (the baseline tests do that); the generator's diagnostics and the compiler's errors are.
    /// </summary>
    sealed class DiagnosticTest : CSharpSourceGeneratorTest<EfficientNetGenerator, DefaultVerifier>
    {
        public DiagnosticTest(string source, params DiagnosticResult[] expected)
        {
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(TestReferences.All);
            TestState.Sources.Add(source);
            TestState.ExpectedDiagnostics.AddRange(expected);
            TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        }

        protected override ParseOptions CreateParseOptions() =>
            ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);

        /// <summary>Runs the generator on <paramref name="source"/> and fails unless it reports exactly <paramref name="expected"/>.</summary>
        public static Task VerifyAsync(string source, params DiagnosticResult[] expected) =>
            new DiagnosticTest(source, expected).RunAsync();

        /// <summary>An EffNet error at markup location {|#0:...|} with these message arguments.</summary>
        public static DiagnosticResult Error(string id, params object[] arguments) =>
            new DiagnosticResult(id, DiagnosticSeverity.Error).WithLocation(0).WithArguments(arguments);
    }
}
