using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace EffNet.Generator.Diagnostics
{
    /// <summary>A source location kept as plain values, so pipeline models never hold a syntax tree.</summary>
    sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
    {
        /// <summary>A location in the compilation's own syntax tree when it has the file (so IDEs and #pragma see it), else by path.</summary>
        public Location ToLocation(Compilation? compilation)
        {
            if (compilation != null)
                foreach (SyntaxTree tree in compilation.SyntaxTrees)
                    if (tree.FilePath == FilePath && Span.End <= tree.Length)
                        return Location.Create(tree, Span);
            return Location.Create(FilePath, Span, LineSpan);
        }

        public static LocationInfo? From(Location? location)
            => location?.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    /// <summary>A diagnostic to report, as equatable values (descriptors compare by value; arguments are pre-formatted).</summary>
    sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params object[] arguments)
            => new DiagnosticInfo(descriptor, LocationInfo.From(location),
                new EquatableArray<string>(arguments.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture) ?? "").ToImmutableArray()));

        public Diagnostic ToDiagnostic(Compilation? compilation)
            => Diagnostic.Create(Descriptor, Location?.ToLocation(compilation), Arguments.Items.Cast<object>().ToArray());
    }
}
