using System;
using System.Globalization;

namespace EffNet.Model
{
    /// <summary>
    /// Everything that determines an EfficientNet's architecture: the family, width and depth multipliers, input
    /// resolution, number of classes and padding style. Two configs with equal fields describe the same network.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed record ModelConfig(double Width, double Depth, int Resolution, int NumClasses, EfficientNetPadding Padding,
                              ModelFamily Family = ModelFamily.EfficientNet)
    {
        /// <summary>
        /// Float32, or Int8: the layers <see cref="QuantizationPolicy"/> names run in int8 on the scales a quantiser
        /// recorded in the blob (`effnet quantize`). Part of the architecture: it changes the weight layout and the fingerprint.
        /// </summary>
        public EfficientNetPrecision Precision { get; init; } = EfficientNetPrecision.Float32;

        public const int DefaultNumClasses = 1000;
        public const int MinResolution = 32, MaxResolution = 2048;
        public const int MinNumClasses = 1, MaxNumClasses = 100_000;
        public const double MaxWidth = 4.0, MaxDepth = 8.0;

        /// <summary>The official EfficientNet-B<paramref name="phi"/>, optionally at another resolution or class count.</summary>
        public static ModelConfig ForPhi(int phi, int? resolution = null, int numClasses = DefaultNumClasses,
                                         EfficientNetPadding padding = EfficientNetPadding.Symmetric)
            => ForMember(ModelFamily.EfficientNet, phi, resolution, numClasses, padding);

        /// <summary>Member <paramref name="phi"/> of <paramref name="family"/> (EfficientNet-Lite3 is Lite and 3).</summary>
        public static ModelConfig ForMember(ModelFamily family, int phi, int? resolution = null, int numClasses = DefaultNumClasses,
                                            EfficientNetPadding padding = EfficientNetPadding.Symmetric)
        {
            Coefficients member = Model.FamilySpec.Of(family).Member(phi);
            return new ModelConfig(member.Width, member.Depth, resolution ?? member.Resolution, numClasses, padding, family);
        }

        /// <summary>The family's table and rules.</summary>
        public FamilySpec FamilySpec => Model.FamilySpec.Of(Family);

        /// <summary>The member (B0..B7, Lite0..4) whose width and depth these are, otherwise -1.</summary>
        public int Phi => FamilySpec.PhiOf(Width, Depth);

        /// <summary>"EfficientNet-B3", "EfficientNet-Lite0" or "EfficientNet (width 0.5, depth 0.5)".</summary>
        public string VariantName => Phi >= 0
            ? FamilySpec.MemberName(Phi)
            : string.Format(CultureInfo.InvariantCulture, "{0} (width {1}, depth {2})", FamilySpec.Name, Width, Depth);

        /// <summary>"EfficientNet-B3 @300x300, 1000 classes, symmetric padding".</summary>
        public string DisplayName => string.Format(CultureInfo.InvariantCulture,
            "{0} @{1}x{1}, {2} classes, {3} padding{4}", VariantName, Resolution, NumClasses,
            Padding == EfficientNetPadding.Same ? "TF-SAME" : "symmetric", Precision == EfficientNetPrecision.Int8 ? ", int8" : "");

        /// <summary>Problems with this config, one sentence each naming the value and the allowed range; empty when valid.</summary>
        public string[] Validate()
        {
            var problems = new System.Collections.Generic.List<string>();
            if (!(Width > 0 && Width <= MaxWidth))
                problems.Add(Format("Width {0} is out of range: it must be greater than 0 and at most {1}.", Width, MaxWidth));
            if (!(Depth > 0 && Depth <= MaxDepth))
                problems.Add(Format("Depth {0} is out of range: it must be greater than 0 and at most {1}.", Depth, MaxDepth));
            if (Resolution < MinResolution || Resolution > MaxResolution)
                problems.Add(Format("Resolution {0} is out of range: it must be {1}..{2} pixels.", Resolution, MinResolution, MaxResolution));
            if (NumClasses < MinNumClasses || NumClasses > MaxNumClasses)
                problems.Add(Format("NumClasses {0} is out of range: it must be {1}..{2}.", NumClasses, MinNumClasses, MaxNumClasses));
            if (!Model.FamilySpec.IsKnown(Family))
                problems.Add(Format("Family {0} is not a known EfficientNet family: use EfficientNet, EfficientNetLite or EfficientNetV2S/M/L.", (int)Family));
            else if (Family != ModelFamily.EfficientNet && FamilySpec.PhiOf(Width, Depth) < 0)
                problems.Add(Format("Width {0} and depth {1} are not a member of {2}: its members have fixed coefficients, so build it with ModelConfig.ForMember.",
                                    Width, Depth, FamilySpec.Name));
            if (Precision != EfficientNetPrecision.Float32 && Precision != EfficientNetPrecision.Int8)
                problems.Add(Format("Precision {0} is not a known precision: use Float32 or Int8.", (int)Precision));
            if (Padding != EfficientNetPadding.Symmetric && Padding != EfficientNetPadding.Same)
                problems.Add(Format("Padding {0} is not a known padding mode: use Symmetric or Same.", (int)Padding));
            return problems.ToArray();
        }

        /// <summary>Throws <see cref="ArgumentException"/> listing every problem when the config is invalid.</summary>
        public ModelConfig EnsureValid()
        {
            string[] problems = Validate();
            if (problems.Length > 0)
                throw new ArgumentException("Invalid EfficientNet configuration: " + string.Join(" ", problems));
            return this;
        }

        static string Format(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
    }
}
