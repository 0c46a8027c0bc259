using System;

namespace EffNet
{
    /// <summary>
    /// Compiles the partial class it marks into an EfficientNet: static, shape-specialised C# with a planned arena.
    /// </summary>
    /// <remarks>
    /// <para>Choose the coefficients one of two ways:</para>
    /// <list type="bullet">
    /// <item><see cref="Phi"/> = 0..7 selects the official EfficientNet-B0..B7 width, depth and resolution.</item>
    /// <item><see cref="Width"/> and <see cref="Depth"/> give custom multipliers of the B0 network (each defaults to 1.0
    /// when only the other is set); the resolution then defaults to 224. Setting them together with
    /// <see cref="Phi"/> is an error (EFN0009): Phi already fixes both.</item>
    /// </list>
    /// <para><see cref="Resolution"/> overrides the input size in either case (any square size from 32 to 2048; the network
    /// is convolutional up to the global pooling). <see cref="NumClasses"/> sets the classifier width.</para>
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class EfficientNetAttribute : Attribute
    {
        /// <summary>Official variant: 0..7 for EfficientNet-B0..B7. Default 0.</summary>
        public int Phi { get; set; }

        /// <summary>Classifier outputs. Default 1000 (ImageNet-1k).</summary>
        public int NumClasses { get; set; } = 1000;

        /// <summary>Square input size in pixels, 32..2048. Default (0): the variant's native size (224 for B0 ... 600 for B7).</summary>
        public int Resolution { get; set; }

        /// <summary>Custom width multiplier (channels), greater than 0 and at most 4. Not combinable with <see cref="Phi"/>.</summary>
        public double Width { get; set; }

        /// <summary>Custom depth multiplier (block repeats), greater than 0 and at most 8. Not combinable with <see cref="Phi"/>.</summary>
        public double Depth { get; set; }

        /// <summary>Padding of strided convolutions; must match the weights. Default <see cref="EfficientNetPadding.Symmetric"/> (torchvision).</summary>
        public EfficientNetPadding Padding { get; set; }

        /// <summary>
        /// <see cref="EfficientNetPrecision.Int8"/> compiles the int8 network: its 1x1 convolutions run in int8 on a blob
        /// made by `effnet quantize`. Part of the architecture (a float32 blob is refused, and the other way round).
        /// Default <see cref="EfficientNetPrecision.Float32"/>.
        /// </summary>
        public EfficientNetPrecision Precision { get; set; }
    }
}
