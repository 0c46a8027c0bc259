namespace EffNet.Model
{
    /// <summary>
    /// Which layers of an Int8 network (<see cref="ModelConfig.Precision"/>) run in int8: the 1x1 convolutions the int8
    /// GEMM takes (expand, project, head), except an expansion that streams into its depthwise conv, and the dense k x k
    /// convs of Fused-MBConv blocks (the same GEMM on gathered windows) but those float32 runs by Winograd; and how the
    /// blob stores the float32 layers' weights: as s8 levels in the blocks, s16 levels in the classifier, widened at load. The layout, the
    /// planner, the blob and the quantiser all ask here, so they cannot disagree.
    /// </summary>
    /// <remarks>
    /// Kept in fp32, and why (docs/quantization.md has the measurements):
    /// <list type="bullet">
    /// <item>the stem: 3 input channels (a 27-tap dot product is not worth quantising the image for) and the first layer
    /// every error flows through;</item>
    /// <item>depthwise convs: 9 or 25 multiply-adds per output value, bound by memory and the activation, not by FMAs;</item>
    /// <item>squeeze-excitation: a few thousand multiply-adds, and its gate scales every channel of the block;</item>
    /// <item>the classifier: the logits themselves, and a matrix-vector product bound by reading the weights;</item>
    /// <item>expansions fused with their depthwise conv (<see cref="KernelChoices.StreamsExpansion"/>): the early
    /// 16-40-channel inputs, where int8 measured slower than fp32 with SiLU, computed a row band at a time in fp32;</item>
    /// <item>the 3x3 stride-1 convs of Fused-MBConv blocks (<see cref="KernelChoices.WinogradShape"/>): float32 by
    /// Winograd's F(2x2, 3x3) measured faster than the int8 GEMM on them (about 21 against 23.5 ms for V2-S's eight).</item>
    /// </list>
    /// Those inside the blocks keep only their arithmetic in float32: the blob stores their weights as s8 levels, one
    /// symmetric scale per output channel, as it stores the int8 layers', and the loader widens them (a trained 5-class B0:
    /// 0.42 -> 0.27 of the float32 blob, mean relative logit error 0.022 -> 0.023). The classifier's are s16 levels: as
    /// s8, with 1000 classes, its logits' ranks moved (seeded B0: top-5 overlap with float32 fell to 82 %). The stem's
    /// stay float32: its 27 taps per channel as levels doubled that error (0.049) for 3 KB.
    /// </remarks>
#if EFFNET_RUNTIME
    public
#endif
    static class QuantizationPolicy
    {
        /// <summary>Part of an Int8 network's fingerprint: a blob quantised under another rule is refused.</summary>
        public const int Version = 4;

        /// <summary>Whether <paramref name="layer"/> (of <paramref name="block"/>, or the head when null) runs in int8 in an Int8 network.</summary>
        public static bool Quantizes(ConvLayer layer, BlockLayout? block)
            => layer.InChannels % 4 == 0 // the int8 GEMM takes input channels in fours; every EfficientNet width is a multiple of 8
               && (layer.Kind == LayerKind.Pointwise && !(block != null && ReferenceEquals(layer, block.Expand) && KernelChoices.StreamsExpansion(block))
                   || layer.Kind == LayerKind.Convolution && block != null && !KernelChoices.WinogradShape(block)); // a Fused-MBConv's conv; the stem (3 channels) stays fp32

        /// <summary>
        /// Bytes per level the blob stores <paramref name="layer"/>'s weights in (of <paramref name="block"/>, or outside the
        /// blocks when null), in an Int8 network whose layers' precisions are set: 1 (s8) for the int8 layers and every
        /// other layer of the blocks, 2 (s16) for the classifier, 0 (float32) for the stem. Float32 layers stored as levels
        /// are widened at load.
        /// </summary>
        public static int StoredLevelBytes(ConvLayer layer, BlockLayout? block)
            => layer.Precision == EfficientNetPrecision.Int8 || block != null ? 1
               : layer.Kind == LayerKind.Classifier ? 2
               : layer.Kind == LayerKind.Pointwise ? 1 // the head conv, when it is not int8
               : 0;
    }
}
