extern alias runtime;

using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace EffNet.Generator.Tests.Infrastructure
{
    /// <summary>
    /// Metadata references for test compilations, built from what is on this machine so nothing is downloaded:
    /// the running shared framework (implementation assemblies from TRUSTED_PLATFORM_ASSEMBLIES: System.*, netstandard,
    /// mscorlib) plus EffNet.Runtime.dll, which holds the attribute user code writes and the kernels generated code calls.
    /// </summary>
    static class TestReferences
    {
        /// <summary>EffNet.Runtime.dll next to this test assembly (the runtime reference is aliased "runtime" in the csproj).</summary>
        public static string RuntimeAssemblyPath { get; } = typeof(runtime::EffNet.EfficientNetAttribute).Assembly.Location;

        public static ImmutableArray<MetadataReference> Framework { get; } = LoadFramework();

        /// <summary>The framework and EffNet.Runtime.</summary>
        public static ImmutableArray<MetadataReference> All { get; } =
            Framework.Add(MetadataReference.CreateFromFile(RuntimeAssemblyPath));

        static ImmutableArray<MetadataReference> LoadFramework()
        {
            string list = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string
                ?? throw new InvalidOperationException("TRUSTED_PLATFORM_ASSEMBLIES is not set; run the tests on .NET (Core).");
            return list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Where(path => IsFramework(Path.GetFileNameWithoutExtension(path)))
                .OrderBy(path => path, StringComparer.Ordinal)
                .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
                .ToImmutableArray();
        }

        static bool IsFramework(string name) =>
            name.StartsWith("System.", StringComparison.Ordinal) || name == "System" || name == "netstandard" || name == "mscorlib";
    }
}
