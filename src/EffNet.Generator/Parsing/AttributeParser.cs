using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using EffNet.Generator.Diagnostics;
using EffNet.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EffNet.Generator.Parsing
{
    /// <summary>Turns one attributed class into a <see cref="ModelRequest"/>, checking everything the attribute says.</summary>
    static class AttributeParser
    {
        public const string AttributeName = "EffNet.EfficientNetAttribute";
        public const string LiteAttributeName = "EffNet.EfficientNetLiteAttribute";
        public const string V2AttributeName = "EffNet.EfficientNetV2Attribute";

        /// <summary>The family attributes, in the order that decides which one reports a class that has several.</summary>
        public static readonly string[] AttributeNames = { AttributeName, LiteAttributeName, V2AttributeName };

        /// <returns>
        /// The request, or null for a second attribute on another part of the same class (the compiler reports CS0579), and
        /// for every family attribute of a class but the first in <see cref="AttributeNames"/> (whose request reports the conflict).
        /// </returns>
        public static ModelRequest? Parse(GeneratorAttributeSyntaxContext context, string attributeName, CancellationToken cancellationToken)
        {
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var declaration = (TypeDeclarationSyntax)context.TargetNode;
            AttributeData attribute = context.Attributes[0];
            if (!IsFirstApplication(type, attributeName, context.TargetNode, cancellationToken))
                return null;
            string[] present = AttributeNames.Where(name => HasAttribute(type, name)).ToArray();
            if (present.Length > 1 && present[0] != attributeName)
                return null;
            var diagnostics = new List<DiagnosticInfo>();
            Location nameLocation = declaration.Identifier.GetLocation();
            if (present.Length > 1)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FamilyAttributesConflict, nameLocation, type.Name,
                    string.Join(" and ", present.Select(name => "[" + name.Substring("EffNet.".Length, name.Length - "EffNet.".Length - "Attribute".Length) + "]"))));

            CheckDeclaration(type, declaration, nameLocation, diagnostics);
            var arguments = new Arguments(attribute, cancellationToken);
            ModelFamily family = ModelFamily.EfficientNet;
            double width, depth;
            int resolution;
            if (attributeName == LiteAttributeName)
            {
                family = ModelFamily.EfficientNetLite;
                int phi = arguments.Int("Phi") ?? 0;
                if (phi < 0 || phi >= EfficientNetLite.Spec.Members.Count)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LitePhiOutOfRange, arguments.LocationOf("Phi"), phi));
                    phi = 0;
                }
                (width, depth, resolution) = ResolveMember(EfficientNetLite.Spec, phi, arguments, diagnostics);
            }
            else if (attributeName == V2AttributeName)
            {
                int size = arguments.Int("Size") ?? 0;
                if (size < 0 || size > 2)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.V2SizeUndefined, arguments.LocationOf("Size"), size));
                    size = 0;
                }
                family = ModelFamily.EfficientNetV2S + size;
                (width, depth, resolution) = ResolveMember(FamilySpec.Of(family), 0, arguments, diagnostics);
            }
            else
                (width, depth, resolution) = ResolveScaling(arguments, diagnostics);

            int numClasses = arguments.Int("NumClasses") ?? ModelConfig.DefaultNumClasses;
            if (numClasses < ModelConfig.MinNumClasses || numClasses > ModelConfig.MaxNumClasses)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NumClassesOutOfRange, arguments.LocationOf("NumClasses"),
                    numClasses, ModelConfig.MinNumClasses, ModelConfig.MaxNumClasses));

            int padding = arguments.Int("Padding") ?? (int)(family == ModelFamily.EfficientNetLite ? EfficientNetPadding.Same : EfficientNetPadding.Symmetric);
            if (padding != (int)EfficientNetPadding.Symmetric && padding != (int)EfficientNetPadding.Same)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PaddingUndefined, arguments.LocationOf("Padding"), padding));

            int precision = arguments.Int("Precision") ?? (int)EfficientNetPrecision.Float32;
            if (precision != (int)EfficientNetPrecision.Float32 && precision != (int)EfficientNetPrecision.Int8)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PrecisionUndefined, arguments.LocationOf("Precision"), precision));

            string? ns = type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(QualifiedName);
            return new ModelRequest(ns, ContainingTypes(type), type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat), type.Name,
                type.ToDisplayString(QualifiedName),
                width, depth, resolution, numClasses, padding, (int)family, precision,
                new EquatableArray<DiagnosticInfo>(diagnostics.ToImmutableArray()));
        }

        // For a class whose parts carry the attribute twice, Roslyn offers each part with the first attribute; keep the part that has it.
        static bool IsFirstApplication(INamedTypeSymbol type, string attributeName, SyntaxNode target, CancellationToken cancellationToken)
        {
            foreach (AttributeData candidate in type.GetAttributes())
                if (candidate.AttributeClass?.ToDisplayString() == attributeName)
                {
                    SyntaxNode? owner = candidate.ApplicationSyntaxReference?.GetSyntax(cancellationToken).Parent?.Parent;
                    return owner == null || (owner.SyntaxTree == target.SyntaxTree && owner.Span == target.Span);
                }
            return true;
        }

        static bool HasAttribute(INamedTypeSymbol type, string attributeName)
            => type.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == attributeName);

        static void CheckDeclaration(INamedTypeSymbol type, TypeDeclarationSyntax declaration, Location nameLocation, List<DiagnosticInfo> diagnostics)
        {
            if (type.IsRecord)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.RecordClass, nameLocation, type.Name));
            if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, nameLocation, type.Name));
            if (type.TypeParameters.Length > 0) // not IsGenericType, which is also true inside a generic outer type
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GenericClass, nameLocation, type.Name));
            if (type.IsStatic || type.IsAbstract)
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.StaticOrAbstract, nameLocation, type.Name, type.IsStatic ? "static" : "abstract"));
            // The generated Load is the only way to a usable instance: a constructor of the user's would leave the session null.
            foreach (IMethodSymbol constructor in type.InstanceConstructors)
                if (!constructor.IsImplicitlyDeclared)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UserConstructor, constructor.Locations.FirstOrDefault() ?? nameLocation, type.Name));
            for (INamedTypeSymbol? outer = type.ContainingType; outer != null; outer = outer.ContainingType)
            {
                bool partial = outer.DeclaringSyntaxReferences.All(r =>
                    r.GetSyntax() is TypeDeclarationSyntax t && t.Modifiers.Any(SyntaxKind.PartialKeyword));
                if (!partial)
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ContainingTypeNotPartial, nameLocation, type.Name, outer.Name));
            }
        }

        // Phi picks the official coefficients; Width/Depth pick custom ones (each 1.0 when omitted). Not both.
        static (double Width, double Depth, int Resolution) ResolveScaling(Arguments arguments, List<DiagnosticInfo> diagnostics)
        {
            int? phi = arguments.Int("Phi");
            double? width = arguments.Double("Width");
            double? depth = arguments.Double("Depth");
            if (phi is int p && (p < Scaling.MinPhi || p > Scaling.MaxPhi))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PhiOutOfRange, arguments.LocationOf("Phi"), p));
                phi = 0;
            }
            if (phi.HasValue && (width.HasValue || depth.HasValue))
            {
                string both = width.HasValue && depth.HasValue ? "Width and Depth" : width.HasValue ? "Width" : "Depth";
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PhiConflictsWithWidthDepth,
                    arguments.LocationOf(width.HasValue ? "Width" : "Depth"), both));
            }
            if (width is double w && !(w > 0 && w <= ModelConfig.MaxWidth))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.WidthOutOfRange, arguments.LocationOf("Width"), Format(w), Format(ModelConfig.MaxWidth)));
            if (depth is double d && !(d > 0 && d <= ModelConfig.MaxDepth))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DepthOutOfRange, arguments.LocationOf("Depth"), Format(d), Format(ModelConfig.MaxDepth)));
            int? resolution = RequestedResolution(arguments, diagnostics);

            bool custom = !phi.HasValue && (width.HasValue || depth.HasValue);
            int basePhi = phi ?? 0;
            return custom
                ? (width ?? 1.0, depth ?? 1.0, resolution ?? Scaling.ResolutionOf(0))
                : (Scaling.WidthOf(basePhi), Scaling.DepthOf(basePhi), resolution ?? Scaling.ResolutionOf(basePhi));
        }

        // A family with official members only (Lite, each V2 size): member phi, at its own size unless Resolution says otherwise.
        static (double Width, double Depth, int Resolution) ResolveMember(FamilySpec family, int phi, Arguments arguments, List<DiagnosticInfo> diagnostics)
        {
            Coefficients member = family.Members[phi];
            return (member.Width, member.Depth, RequestedResolution(arguments, diagnostics) ?? member.Resolution);
        }

        // Resolution, or null for the attribute's default (0): the variant's native size. Out of range is reported.
        static int? RequestedResolution(Arguments arguments, List<DiagnosticInfo> diagnostics)
        {
            int? resolution = arguments.Int("Resolution");
            if (resolution == 0) return null;
            if (resolution is int r && (r < ModelConfig.MinResolution || r > ModelConfig.MaxResolution))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ResolutionOutOfRange, arguments.LocationOf("Resolution"),
                    r, ModelConfig.MinResolution, ModelConfig.MaxResolution));
            return resolution;
        }

        static EquatableArray<string> ContainingTypes(INamedTypeSymbol type)
        {
            var chain = new List<string>();
            for (INamedTypeSymbol? outer = type.ContainingType; outer != null; outer = outer.ContainingType)
            {
                string keyword = outer.IsRecord
                    ? (outer.TypeKind == TypeKind.Struct ? "record struct" : "record")
                    : outer.TypeKind switch { TypeKind.Struct => "struct", TypeKind.Interface => "interface", _ => "class" };
                chain.Insert(0, "partial " + keyword + " " + outer.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat));
            }
            return new EquatableArray<string>(chain.ToImmutableArray());
        }

        // Names as C# source spells them: keywords escaped (@event), generic outer types with their parameters.
        static readonly SymbolDisplayFormat QualifiedName = SymbolDisplayFormat.FullyQualifiedFormat
            .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted);

        static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        /// <summary>The attribute's named arguments with the source location of each; ill-typed values are left to the compiler.</summary>
        sealed class Arguments
        {
            readonly Dictionary<string, TypedConstant> _values = new Dictionary<string, TypedConstant>();
            readonly AttributeSyntax? _syntax;

            public Arguments(AttributeData attribute, CancellationToken cancellationToken)
            {
                foreach (KeyValuePair<string, TypedConstant> pair in attribute.NamedArguments)
                    if (pair.Value.Kind != TypedConstantKind.Error && pair.Value.Value != null)
                        _values[pair.Key] = pair.Value;
                _syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            }

            public int? Int(string name) => _values.TryGetValue(name, out TypedConstant c) && c.Value is int i ? i : (int?)null;

            public double? Double(string name) => _values.TryGetValue(name, out TypedConstant c) && c.Value is double d ? d : (double?)null;

            public Location? LocationOf(string name)
            {
                AttributeArgumentSyntax? argument = _syntax?.ArgumentList?.Arguments
                    .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);
                return argument?.GetLocation() ?? _syntax?.GetLocation();
            }
        }
    }
}
