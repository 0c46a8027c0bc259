using EffNet.Generator.Diagnostics;

namespace EffNet.Generator.Parsing
{
    /// <summary>
    /// What one [EfficientNet], [EfficientNetLite] or [EfficientNetV2] class asks for: where the class lives and the resolved architecture parameters.
    /// Small and equatable, so an edit elsewhere leaves the expensive steps after it cached.
    /// </summary>
    /// <param name="ClassName">The class name as C# spells it (keywords escaped, e.g. "@event").</param>
    /// <param name="SimpleName">The plain identifier, for the network class and the file name.</param>
    /// <param name="Family">The <c>ModelFamily</c> the attribute names, as an int.</param>
    /// <param name="Precision">The <c>EfficientNetPrecision</c> asked for, as an int.</param>
    /// <param name="Diagnostics">Problems found; a request with any generates nothing.</param>
    sealed record ModelRequest(
        string? Namespace,
        EquatableArray<string> ContainingTypes,
        string ClassName,
        string SimpleName,
        string FullName,
        double Width,
        double Depth,
        int Resolution,
        int NumClasses,
        int Padding,
        int Family,
        int Precision,
        EquatableArray<DiagnosticInfo> Diagnostics)
    {
        public bool HasErrors => Diagnostics.Count > 0;
    }
}
