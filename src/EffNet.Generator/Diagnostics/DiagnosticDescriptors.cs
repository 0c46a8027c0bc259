using Microsoft.CodeAnalysis;

namespace EffNet.Generator.Diagnostics
{
    /// <summary>Every diagnostic the generator reports. Each message names the problem and the fix.</summary>
    static class DiagnosticDescriptors
    {
        const string Category = "EffNet";

        /// <summary>
        /// Where a user of the package reads about every diagnostic: the EffNet package's page, whose readme carries
        /// docs/diagnostics.md (src/Package.props). A path inside the repository resolves for nobody who installed it.
        /// </summary>
        internal const string HelpLink = "https://www.nuget.org/packages/EffNet#readme-body-tab";

        static DiagnosticDescriptor Error(string id, string title, string message) =>
            new DiagnosticDescriptor(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

        public static readonly DiagnosticDescriptor NotPartial = Error("EFN0001",
            "The class must be partial",
            "'{0}' has [EfficientNet] but is not partial; declare it 'partial class {0}' so the generator can add the network to it");

        public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error("EFN0002",
            "A containing type is not partial",
            "'{0}' is nested in '{1}', which is not partial; make every containing type partial or move '{0}' to namespace level");

        public static readonly DiagnosticDescriptor GenericClass = Error("EFN0003",
            "Generic classes are not supported",
            "'{0}' is generic; an [EfficientNet] class has one fixed architecture, so remove its type parameters");

        public static readonly DiagnosticDescriptor PhiOutOfRange = Error("EFN0004",
            "Phi is out of range",
            "Phi = {0} does not name an EfficientNet variant; use 0..7 for B0..B7, or Width and Depth for custom scaling");

        public static readonly DiagnosticDescriptor NumClassesOutOfRange = Error("EFN0005",
            "NumClasses is out of range",
            "NumClasses = {0} is invalid; set it to the number of classes your weights have, {1}..{2} (1000 for ImageNet weights)");

        public static readonly DiagnosticDescriptor ResolutionOutOfRange = Error("EFN0006",
            "Resolution is out of range",
            "Resolution = {0} is invalid; use a square input size of {1}..{2} pixels, or omit it for the variant's native size");

        public static readonly DiagnosticDescriptor WidthOutOfRange = Error("EFN0007",
            "Width is out of range",
            "Width = {0} is invalid; use a width multiplier greater than 0 and at most {1} (B0's is 1.0), or Phi for an official variant");

        public static readonly DiagnosticDescriptor DepthOutOfRange = Error("EFN0008",
            "Depth is out of range",
            "Depth = {0} is invalid; use a depth multiplier greater than 0 and at most {1} (B0's is 1.0), or Phi for an official variant");

        public static readonly DiagnosticDescriptor PhiConflictsWithWidthDepth = Error("EFN0009",
            "Phi conflicts with Width/Depth",
            "Phi and {0} both choose the scaling coefficients; use Phi for an official B0..B7 variant or Width/Depth for custom scaling, not both");

        public static readonly DiagnosticDescriptor StaticOrAbstract = Error("EFN0010",
            "The class is static or abstract",
            "'{0}' is {1}; an [EfficientNet] class is instantiated by its Load method, so remove the '{1}' modifier");

        public static readonly DiagnosticDescriptor PaddingUndefined = Error("EFN0011",
            "Padding is not a defined value",
            "Padding = {0} is not an EfficientNetPadding value; use EfficientNetPadding.Symmetric (torchvision) or EfficientNetPadding.Same (TensorFlow)");

        public static readonly DiagnosticDescriptor ArenaTooLarge = Error("EFN0012",
            "The model is too large",
            "'{0}' needs an activation arena of {1} floats, more than the {2} a span can address; lower Resolution or Width");

        public static readonly DiagnosticDescriptor RecordClass = Error("EFN0014",
            "Records are not supported",
            "'{0}' is a record; a model owns native memory that record copies ('with', the copy constructor) would share, so declare it 'partial class {0}'");

        public static readonly DiagnosticDescriptor UserConstructor = Error("EFN0015",
            "The class declares a constructor",
            "'{0}' declares a constructor; an [EfficientNet] instance is created only by {0}.Load, which loads its weights, so remove the constructor (wrap the model in a class of your own to add state)");

        public static readonly DiagnosticDescriptor TypeNamedLikeRuntimeNamespace = Error("EFN0016",
            "A type is named like an EffNet namespace",
            "The type '{0}' has the name of the namespace '{0}' that generated models use, so their code cannot name it; rename the type or move it to another namespace");

        public static readonly DiagnosticDescriptor LitePhiOutOfRange = Error("EFN0017",
            "Lite Phi is out of range",
            "Phi = {0} does not name an EfficientNet-Lite variant; use 0..4 for Lite0..Lite4");

        public static readonly DiagnosticDescriptor FamilyAttributesConflict = Error("EFN0018",
            "The class names two families",
            "'{0}' has {1}; keep the one attribute whose architecture your weights have");

        public static readonly DiagnosticDescriptor V2SizeUndefined = Error("EFN0019",
            "Size is not a defined value",
            "Size = {0} is not an EfficientNetV2Size value; use EfficientNetV2Size.S, M or L");

        public static readonly DiagnosticDescriptor PrecisionUndefined = Error("EFN0020",
            "Precision is not a defined value",
            "Precision = {0} is not an EfficientNetPrecision value; use EfficientNetPrecision.Float32 or EfficientNetPrecision.Int8");

        public static readonly DiagnosticDescriptor InternalError = Error("EFN0013",
            "Internal generator error",
            "The EffNet generator failed on '{0}' and generated nothing: {1}. Please report this with the attribute you used.");
    }
}
