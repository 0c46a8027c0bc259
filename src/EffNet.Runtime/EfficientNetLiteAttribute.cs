using System;

namespace EffNet
{
    /// <summary>
    /// Compiles the partial class it marks into an EfficientNet-Lite (TensorFlow's edge variants, as timm builds them):
    /// ReLU6, no squeeze-excitation, stem and head fixed at 32 and 1280 channels.
    /// </summary>
    /// <remarks>
    /// <see cref="Phi"/> = 0..4 selects Lite0..Lite4 and its resolution (224, 240, 260, 300, 380: timm's evaluation sizes).
    /// The default padding is TensorFlow "SAME", which timm's <c>tf_efficientnet_lite*</c> weights need; use
    /// <see cref="EfficientNetPadding.Symmetric"/> for timm's <c>efficientnet_lite0</c>. Weights carry timm's key names.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class EfficientNetLiteAttribute : Attribute
    {
        /// <summary>Official variant: 0..4 for EfficientNet-Lite0..Lite4. Default 0.</summary>
        public int Phi { get; set; }

        /// <summary>Classifier outputs. Default 1000 (ImageNet-1k).</summary>
        public int NumClasses { get; set; } = 1000;

        /// <summary>Square input size in pixels, 32..2048. Default (0): the variant's evaluation size (224 for Lite0 ... 380 for Lite4).</summary>
        public int Resolution { get; set; }

        /// <summary>Padding of the convolutions; must match the weights. Default <see cref="EfficientNetPadding.Same"/> (timm's tf_efficientnet_lite*).</summary>
        public EfficientNetPadding Padding { get; set; } = EfficientNetPadding.Same;

        /// <summary>
        /// <see cref="EfficientNetPrecision.Int8"/> compiles the int8 network: its 1x1 convolutions run in int8 on a blob
        /// made by `effnet quantize`. Part of the architecture (a float32 blob is refused, and the other way round).
        /// Default <see cref="EfficientNetPrecision.Float32"/>.
        /// </summary>
        public EfficientNetPrecision Precision { get; set; }
    }
}
