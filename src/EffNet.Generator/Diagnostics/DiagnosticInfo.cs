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
        public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

        public static LocationInfo? From(Location? location)
            => location?.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    /// <summary>A diagnostic to report, as equatable values (descriptors compare by value; arguments are pre-formatted).</summary>
    sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params object[] arguments)
            => new DiagnosticInfo(descriptor, LocationInfo.From(location),
                new EquatableArray<string>(arguments.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture) ?? "").ToImmutableArray()));

        public Diagnostic ToDiagnostic()
            => Diagnostic.Create(Descriptor, Location?.ToLocation(), Arguments.Items.Cast<object>().ToArray());
    }
}
