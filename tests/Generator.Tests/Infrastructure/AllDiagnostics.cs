using System.Linq;
using System.Reflection;
using EffNet.Generator.Diagnostics;
using Microsoft.CodeAnalysis;

namespace EffNet.Generator.Tests.Infrastructure
{
    /// <summary>Every descriptor the generator declares, read from <see cref="DiagnosticDescriptors"/>.</summary>
    static class AllDiagnostics
    {
        public static readonly DiagnosticDescriptor[] Descriptors = typeof(DiagnosticDescriptors)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToArray();
    }
}
