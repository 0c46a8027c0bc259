namespace EffNet.Model
{
    /// <summary>
    /// Which kernels the generated code runs for a block, decided from its shapes alone. The generator's planner and the
    /// benchmark's per-layer breakdown both ask here, so they cannot disagree.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    static class KernelChoices
    {
        /// <summary>
        /// Expanded maps at least this large (128K floats = 512 KB, half of a Zen core's L2) stream through row buffers
        /// instead of being written whole: written whole, they leave the cache before the depthwise conv reads them back.
        /// Smaller ones stay cached, and streaming them would only add the rows each thread recomputes at its band's edges
        /// (3x3 kernels split by bands of rows; 5x5 ones by weight panels, see EffNet.Kernels.ExpandDepthwise).
        /// </summary>
        public const long StreamExpandedFloats = 128 * 1024;

        /// <summary>
        /// Streaming blocks need this many output rows: each thread recomputes kernel - stride expanded rows at the edges of
        /// its band, and the kernel gives a thread at least 8 rows, so shorter maps would not be split over two threads.
        /// </summary>
        public const int StreamMinOutputRows = 16;

        /// <summary>Whether the block's expand conv streams row by row into its depthwise conv (EffNet.Kernels.ExpandDepthwise).</summary>
        public static bool StreamsExpansion(BlockLayout b)
            => b.HasExpansion && (long)b.InHeight * b.InWidth * b.MidChannels >= StreamExpandedFloats && b.OutHeight >= StreamMinOutputRows;

        /// <summary>Floats of one thread's ring for a streaming block: <paramref name="kernel"/> expanded rows.</summary>
        public static long RowBufferFloats(int kernel, int inWidth, int midChannels) => (long)kernel * inWidth * midChannels;

        /// <summary>
        /// Floats of one thread's row of gathered windows for an int8 k x k conv (EffNet.Kernels.ConvolutionInt8): a byte
        /// per tap, 64-byte aligned so threads share no cache line.
        /// </summary>
        public static long WindowRowFloats(int outWidth, int kernel, int inChannels) => ((long)outWidth * kernel * kernel * inChannels + 63) / 64 * 16;

        /// <summary>
        /// Whether a Fused-MBConv block's dense conv runs by Winograd's F(2x2, 3x3) (EffNet.Kernels.ConvolutionWinograd2x2):
        /// 3x3 at stride 1 in float32, 16 multiplies per output pair of channels and 2x2 outputs instead of 36. Measured on
        /// V2-S's shapes, one thread: 2.84 -> 1.77 ms (192², 24 -> 24), 7.8-8.2 -> 4.1 ms (96², 48 -> 192), 3.3 -> 1.8 ms
        /// (48², 64 -> 256). Stride-2 convs keep the direct kernel.
        /// </summary>
        public static bool ConvolvesByWinograd(BlockLayout b) => WinogradShape(b) && b.Expand?.Precision == EfficientNetPrecision.Float32;

        /// <summary>A Fused-MBConv block whose dense conv is 3x3 at stride 1: the shape Winograd's F(2x2, 3x3) takes.</summary>
        public static bool WinogradShape(BlockLayout b) => b.Kind == BlockKind.FusedMBConv && b.Kernel == 3 && b.Stride == 1;

        /// <summary>Tiles of a Winograd conv transformed and multiplied at once: a multiple of the GEMM's 6-pixel register tile.</summary>
        public const int WinogradTileChunk = 24;

        /// <summary>Floats of a Winograd conv's scratch for its transformed weights: 16 matrices [in, out] and a zero bias.</summary>
        public static long WinogradWeightFloats(int inChannels, int outChannels) => 16L * inChannels * outChannels + outChannels;

        /// <summary>Floats of one thread's row buffer for a Winograd conv: a chunk's 16 transformed input and output planes, and one input patch.</summary>
        public static long WinogradRowBufferFloats(int inChannels, int outChannels)
            => 16L * WinogradTileChunk * (inChannels + outChannels) + 16L * inChannels;

        /// <summary>
        /// Whether the squeeze-excitation gate scales the depthwise map in place (pixels x mid multiplies) rather than the
        /// projection's weights (mid x out multiplies, written to scratch): the cheaper of the two, which in the last
        /// stages, with few pixels and many output channels, is the map.
        /// </summary>
        public static bool GatesMapInPlace(BlockLayout b) => (long)b.OutHeight * b.OutWidth < b.OutChannels;
    }
}
