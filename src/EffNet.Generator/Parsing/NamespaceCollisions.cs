using System.Collections.Immutable;
using System.Linq;
using EffNet.Generator.Diagnostics;
using Microsoft.CodeAnalysis;

namespace EffNet.Generator.Parsing
{
    /// <summary>
    /// Types of the user's whose full name is a namespace the generated code names (a class <c>Kernels</c> in namespace
    /// <c>EffNet</c>). C# resolves such a name to the type even after <c>global::</c>, so no generated file could compile:
    /// each is reported once as EFN0016 and no model is generated until it is renamed.
    /// </summary>
    static class NamespaceCollisions
    {
        // What ModelEmitter writes after global::, outermost first.
        static readonly string[] NamespacesGeneratedCodeNames =
            { "System", "System.IO", "EffNet", "EffNet.Generated", "EffNet.Kernels", "EffNet.Model", "EffNet.Threading" };

        public static EquatableArray<DiagnosticInfo> Find(Compilation compilation)
        {
            ImmutableArray<DiagnosticInfo>.Builder found = ImmutableArray.CreateBuilder<DiagnosticInfo>();
            foreach (string name in NamespacesGeneratedCodeNames)
                if (compilation.Assembly.GetTypeByMetadataName(name) is INamedTypeSymbol type)
                    found.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TypeNamedLikeRuntimeNamespace, type.Locations.FirstOrDefault(), name));
            return new EquatableArray<DiagnosticInfo>(found.ToImmutable());
        }
    }
}
