namespace EffNet.Model
{
    /// <summary>The kinds of block a family's stages are made of; each has one lowering in EffNet.Blocks.</summary>
#if EFFNET_RUNTIME
    public
#endif
    enum BlockKind
    {
        /// <summary>Inverted residual: [expand 1x1] -> depthwise k x k -> [squeeze-excitation] -> project 1x1 [+ input].</summary>
        MBConv = 0,

        /// <summary>EfficientNetV2's fused block: expand k x k -> project 1x1 [+ input], or one k x k conv [+ input] at ratio 1.</summary>
        FusedMBConv = 1,
    }

    /// <summary>One stage of a family's base network, before scaling: its block kind and the numbers of its first block.</summary>
#if EFFNET_RUNTIME
    public
#endif
    readonly struct StageRow
    {
        public StageRow(BlockKind kind, int expandRatio, int kernel, int stride, int outChannels, int repeats)
        {
            Kind = kind; ExpandRatio = expandRatio; Kernel = kernel; Stride = stride; OutChannels = outChannels; Repeats = repeats;
        }

        public BlockKind Kind { get; }
        public int ExpandRatio { get; }
        public int Kernel { get; }

        /// <summary>Stride of the stage's first block; the others have stride 1.</summary>
        public int Stride { get; }

        public int OutChannels { get; }
        public int Repeats { get; }
    }
}
