using System;

namespace EffNet
{
    /// <summary>The three EfficientNetV2 sizes torchvision publishes.</summary>
    public enum EfficientNetV2Size
    {
        /// <summary>EfficientNetV2-S: 21.5 M parameters, evaluated at 384 pixels.</summary>
        S = 0,

        /// <summary>EfficientNetV2-M: 54.1 M parameters, evaluated at 480 pixels.</summary>
        M = 1,

        /// <summary>EfficientNetV2-L: 118.5 M parameters, evaluated at 480 pixels.</summary>
        L = 2,
    }

    /// <summary>
    /// Compiles the partial class it marks into an EfficientNetV2 (Tan &amp; Le 2021) exactly as torchvision builds it:
    /// Fused-MBConv stages, then MBConv stages with squeeze-excitation, SiLU, head 1280, BatchNorm eps 1e-3.
    /// </summary>
    /// <remarks>
    /// <see cref="Size"/> picks S, M or L and its evaluation resolution (384, 480, 480). Weights carry torchvision's key
    /// names (<c>efficientnet_v2_s</c> state dicts import as they are).
    /// </remarks>
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
    public sealed class EfficientNetV2Attribute : Attribute
    {
        /// <summary>The size: S, M or L. Default S.</summary>
        public EfficientNetV2Size Size { get; set; }

        /// <summary>Classifier outputs. Default 1000 (ImageNet-1k).</summary>
        public int NumClasses { get; set; } = 1000;

        /// <summary>Square input size in pixels, 32..2048. Default (0): the size's evaluation resolution (384 for S, 480 for M and L).</summary>
        public int Resolution { get; set; }

        /// <summary>Padding of the convolutions; must match the weights. Default <see cref="EfficientNetPadding.Symmetric"/> (torchvision).</summary>
        public EfficientNetPadding Padding { get; set; }

        /// <summary>
        /// <see cref="EfficientNetPrecision.Int8"/> compiles the int8 network: its 1x1 convolutions run in int8 on a blob
        /// made by `effnet quantize`. Part of the architecture (a float32 blob is refused, and the other way round).
        /// Default <see cref="EfficientNetPrecision.Float32"/>.
        /// </summary>
        public EfficientNetPrecision Precision { get; set; }
    }
}
