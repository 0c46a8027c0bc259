namespace EffNet.Model
{
    /// <summary>
    /// Which layers of an Int8 network (<see cref="ModelConfig.Precision"/>) run in int8: the 1x1 convolutions the int8
    /// GEMM takes (expand, project, head), except an expansion that streams into its depthwise conv, and the dense k x k
    /// convs of Fused-MBConv blocks (the same GEMM on gathered windows) but those float32 runs by Winograd; and which of
    /// the float32 layers the blob stores as int8 levels, widened at load: those of the blocks. The layout, the
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
    /// 0.42 -> 0.27 of the float32 blob, mean relative logit error 0.022 -> 0.023). The stem's and the classifier's weights
    /// stay float32: the stem's 27 taps per channel as levels doubled that error (0.049) for 3 KB; with 1000 classes the
    /// classifier's logits lie closer than the rounding moves them (seeded B0: top-5 overlap with float32 fell to 82 %).
    /// </remarks>
#if EFFNET_RUNTIME
    public
#endif
    static class QuantizationPolicy
    {
        /// <summary>Part of an Int8 network's fingerprint: a blob quantised under another rule is refused.</summary>
        public const int Version = 3;

        /// <summary>Whether <paramref name="layer"/> (of <paramref name="block"/>, or the head when null) runs in int8 in an Int8 network.</summary>
        public static bool Quantizes(ConvLayer layer, BlockLayout? block)
            => layer.InChannels % 4 == 0 // the int8 GEMM takes input channels in fours; every EfficientNet width is a multiple of 8
               && (layer.Kind == LayerKind.Pointwise && !(block != null && ReferenceEquals(layer, block.Expand) && KernelChoices.StreamsExpansion(block))
                   || layer.Kind == LayerKind.Convolution && block != null && !KernelChoices.WinogradShape(block)); // a Fused-MBConv's conv; the stem (3 channels) stays fp32

        /// <summary>
        /// Whether a float32 layer (of <paramref name="block"/>, or outside the blocks when null) of an Int8 network stores its
        /// weights as s8 levels, widened to float32 at load: every layer of the blocks. The stem and the classifier keep
        /// float32 weights.
        /// </summary>
        public static bool StoresLevels(ConvLayer layer, BlockLayout? block) => block != null;
    }
}
