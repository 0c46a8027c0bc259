using System;

namespace EffNet.Model
{
    /// <summary>
    /// The scaling rules of EfficientNet, exactly as torchvision applies them
    /// (<c>_make_divisible</c>, <c>adjust_channels</c>, <c>adjust_depth</c>).
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    static partial class Scaling
    {
        /// <summary>Smallest and largest Phi with official coefficients (B0..B7).</summary>
        public const int MinPhi = 0, MaxPhi = 7;

        // The B-series members, as EfficientNetB lists them.
        public static double WidthOf(int phi) => EfficientNetB.Spec.Member(phi).Width;
        public static double DepthOf(int phi) => EfficientNetB.Spec.Member(phi).Depth;
        public static int ResolutionOf(int phi) => EfficientNetB.Spec.Member(phi).Resolution;
        public static double DropoutOf(int phi) => EfficientNetB.Spec.Member(phi).Dropout;

        /// <summary>Finds the B-series Phi whose official width and depth are exactly these, or -1.</summary>
        public static int PhiOf(double width, double depth) => EfficientNetB.Spec.PhiOf(width, depth);

        /// <summary>
        /// Channels scaled by <paramref name="width"/> and rounded to the nearest multiple of 8 (ties up, at least 8),
        /// bumped by 8 when rounding lost more than 10% (B3's 16 x 1.2 = 19.2 becomes 24, not 16).
        /// </summary>
        public static int RoundFilters(int channels, double width) => MakeDivisible(channels * width, 8);

        /// <summary>torchvision's <c>_make_divisible(v, divisor)</c>.</summary>
        public static int MakeDivisible(double value, int divisor)
        {
            int rounded = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
            if (rounded < 0.9 * value)
                rounded += divisor;
            return rounded;
        }

        /// <summary>Repeats of a stage scaled by <paramref name="depth"/>, rounded up.</summary>
        public static int RoundRepeats(int repeats, double depth) => (int)Math.Ceiling(repeats * depth);

        /// <summary>Output size of a convolution with "same-size" padding: ceil(input / stride) in both padding modes.</summary>
        public static int OutputSize(int input, int stride) => (input + stride - 1) / stride;

        /// <summary>Zeros added before the first row (or column) of a k x k, stride-s convolution.</summary>
        public static int PadBefore(int input, int kernel, int stride, EfficientNetPadding mode)
        {
            if (mode == EfficientNetPadding.Symmetric)
                return kernel / 2;
            int total = Math.Max((OutputSize(input, stride) - 1) * stride + kernel - input, 0);
            return total / 2;
        }
    }
}
