using System;
using System.Collections.Generic;
using EffNet.Kernels;

namespace EffNet.Model
{
    /// <summary>The EfficientNet families the generator compiles; each is one <see cref="FamilySpec"/>.</summary>
#if EFFNET_RUNTIME
    public
#endif
    enum ModelFamily
    {
        /// <summary>EfficientNet-B0..B7 (Tan &amp; Le 2019), as torchvision builds them.</summary>
        EfficientNet = 0,

        /// <summary>EfficientNet-Lite0..4, TensorFlow's edge variants, as timm builds them.</summary>
        EfficientNetLite = 1,

        /// <summary>EfficientNetV2-S (Tan &amp; Le 2021), as torchvision builds it.</summary>
        EfficientNetV2S = 2,

        /// <summary>EfficientNetV2-M, as torchvision builds it.</summary>
        EfficientNetV2M = 3,

        /// <summary>EfficientNetV2-L, as torchvision builds it.</summary>
        EfficientNetV2L = 4,
    }

    /// <summary>Whose module names a state dict uses.</summary>
#if EFFNET_RUNTIME
    public
#endif
    enum KeyStyle
    {
        /// <summary><c>features.0.0</c>, <c>features.2.0.block.1.0</c>, <c>classifier.1</c>.</summary>
        Torchvision = 0,

        /// <summary><c>conv_stem</c>, <c>blocks.1.0.conv_dw</c>, <c>classifier</c>.</summary>
        Timm = 1,
    }

    /// <summary>An official member of a family: its multipliers, native resolution and classifier dropout.</summary>
#if EFFNET_RUNTIME
    public
#endif
    readonly struct Coefficients
    {
        public Coefficients(double width, double depth, int resolution, double dropout)
        {
            Width = width; Depth = depth; Resolution = resolution; Dropout = dropout;
        }

        public double Width { get; }
        public double Depth { get; }
        public int Resolution { get; }
        public double Dropout { get; }
    }

    /// <summary>
    /// One family as data: its base stages, how they scale, its stem and head, its activation, whether its blocks have
    /// squeeze-excitation, and whose names its weights carry. <see cref="NetworkLayout"/> expands a family and a
    /// <see cref="ModelConfig"/> into layers; nothing else knows a family's numbers.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed class FamilySpec
    {
        public const int InputChannels = 3;
        public const int StemKernel = 3;
        public const int StemStride = 2;

        public ModelFamily Family { get; init; }

        /// <summary>"EfficientNet", "EfficientNet-Lite", "EfficientNetV2-S".</summary>
        public string Name { get; init; } = "";

        /// <summary>The attribute that compiles it: "EfficientNet", "EfficientNetLite", "EfficientNetV2".</summary>
        public string AttributeName { get; init; } = "";

        /// <summary>"EfficientNet-B" or "EfficientNet-Lite": a member's name is this and its index ("" when the family is one model).</summary>
        public string MemberPrefix { get; init; } = "";

        /// <summary>"EfficientNet-B3", "EfficientNet-Lite0", or the family's name when it has one member (V2-S).</summary>
        public string MemberName(int phi) => Members.Count == 1 ? Name : MemberPrefix + phi.ToString(System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>The base network's stages, before width and depth scaling.</summary>
        public IReadOnlyList<StageRow> Stages { get; init; } = Array.Empty<StageRow>();

        /// <summary>The official members, indexed by Phi.</summary>
        public IReadOnlyList<Coefficients> Members { get; init; } = Array.Empty<Coefficients>();

        public int StemChannels { get; init; }

        /// <summary>Whether the stem's channels scale with the width (B-series) or stay fixed (Lite).</summary>
        public bool ScalesStem { get; init; }

        /// <summary>Fixed head channels, or 0 when the head is <see cref="HeadExpansion"/> times the last stage's channels.</summary>
        public int HeadChannels { get; init; }

        public int HeadExpansion { get; init; }

        /// <summary>Whether the first and last stage keep their repeat count under depth scaling (Lite).</summary>
        public bool KeepsFirstAndLastRepeats { get; init; }

        /// <summary>The activation of the stem, the expand and depthwise convs and the head.</summary>
        public Activation Activation { get; init; }

        /// <summary>Squeeze-excitation width is max(1, block input channels / this); 0 when the family has none.</summary>
        public int SqueezeDivisor { get; init; }

        /// <summary>Whose names the family's weights carry in our blobs (the names of its reference implementation).</summary>
        public KeyStyle Keys { get; init; }

        /// <summary>Where the fingerprint text starts, so two families never share a fingerprint.</summary>
        public string FingerprintTag { get; init; } = "";

        /// <summary>The reference model of member {0}; {1} is "tf_" under TF "SAME" padding: "timm {1}efficientnet_lite{0}".</summary>
        public string ReferenceFormat { get; init; } = "";

        /// <summary>The input normalisation the family's published weights expect, as a phrase.</summary>
        public string Normalisation { get; init; } = "";

        public string ReferenceName(int phi, EfficientNetPadding padding)
            => string.Format(System.Globalization.CultureInfo.InvariantCulture, ReferenceFormat, phi, padding == EfficientNetPadding.Same ? "tf_" : "");

        public int StemWidth(double width) => ScalesStem ? Scaling.RoundFilters(StemChannels, width) : StemChannels;

        public int StageWidth(int stage, double width) => Scaling.RoundFilters(Stages[stage].OutChannels, width);

        public int Repeats(int stage, double depth)
            => KeepsFirstAndLastRepeats && (stage == 0 || stage == Stages.Count - 1)
                ? Stages[stage].Repeats
                : Scaling.RoundRepeats(Stages[stage].Repeats, depth);

        public int HeadWidth(int lastStageChannels) => HeadChannels > 0 ? HeadChannels : HeadExpansion * lastStageChannels;

        public int SqueezeWidth(int blockInChannels) => SqueezeDivisor == 0 ? 0 : Math.Max(1, blockInChannels / SqueezeDivisor);

        /// <summary>The member whose width and depth are exactly these, or -1.</summary>
        public int PhiOf(double width, double depth)
        {
            for (int phi = 0; phi < Members.Count; phi++)
                if (Members[phi].Width == width && Members[phi].Depth == depth)
                    return phi;
            return -1;
        }

        public Coefficients Member(int phi)
        {
            if (phi < 0 || phi >= Members.Count)
                throw new ArgumentOutOfRangeException(nameof(phi), phi,
                    $"Phi selects {MemberPrefix}0..{MemberPrefix}{Members.Count - 1} and must be 0..{Members.Count - 1}.");
            return Members[phi];
        }

        /// <summary>Whether <paramref name="family"/> is one this version knows.</summary>
        public static bool IsKnown(ModelFamily family) => family >= ModelFamily.EfficientNet && family <= ModelFamily.EfficientNetV2L;

        /// <summary>The spec of <paramref name="family"/>.</summary>
        public static FamilySpec Of(ModelFamily family) => family switch
        {
            ModelFamily.EfficientNet => EfficientNetB.Spec,
            ModelFamily.EfficientNetLite => EfficientNetLite.Spec,
            ModelFamily.EfficientNetV2S => EfficientNetV2.Small,
            ModelFamily.EfficientNetV2M => EfficientNetV2.Medium,
            ModelFamily.EfficientNetV2L => EfficientNetV2.Large,
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Not an EfficientNet family this version knows."),
        };
    }
}
