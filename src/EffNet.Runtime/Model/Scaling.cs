using System;

namespace EffNet.Model
{
    /// <summary>
    /// The compound-scaling rules of EfficientNet, exactly as torchvision applies them
    /// (<c>_make_divisible</c>, <c>adjust_channels</c>, <c>adjust_depth</c>).
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    static partial class Scaling
    {
        /// <summary>Smallest and largest Phi with official coefficients (B0..B7).</summary>
        public const int MinPhi = 0, MaxPhi = 7;

        // Width, depth, native resolution and classifier dropout of B0..B7 (identical in torchvision, timm, TF, Keras).
        static readonly double[] OfficialWidth = { 1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0 };
        static readonly double[] OfficialDepth = { 1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 2.6, 3.1 };
        static readonly int[] OfficialResolution = { 224, 240, 260, 300, 380, 456, 528, 600 };
        static readonly double[] OfficialDropout = { 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5 };

        public static double WidthOf(int phi) => OfficialWidth[CheckPhi(phi)];
        public static double DepthOf(int phi) => OfficialDepth[CheckPhi(phi)];
        public static int ResolutionOf(int phi) => OfficialResolution[CheckPhi(phi)];
        public static double DropoutOf(int phi) => OfficialDropout[CheckPhi(phi)];

        /// <summary>Finds the Phi whose official width and depth are exactly these, or -1.</summary>
        public static int PhiOf(double width, double depth)
        {
            for (int phi = MinPhi; phi <= MaxPhi; phi++)
                if (OfficialWidth[phi] == width && OfficialDepth[phi] == depth)
                    return phi;
            return -1;
        }

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

        static int CheckPhi(int phi)
        {
            if (phi < MinPhi || phi > MaxPhi)
                throw new ArgumentOutOfRangeException(nameof(phi), phi, "Phi selects EfficientNet-B0..B7 and must be 0..7.");
            return phi;
        }
    }
}
