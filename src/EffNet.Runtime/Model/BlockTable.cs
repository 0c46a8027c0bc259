namespace EffNet.Model
{
    /// <summary>One stage of the EfficientNet-B0 base network, before scaling.</summary>
#if EFFNET_RUNTIME
    public
#endif
    readonly struct BaseStage
    {
        public BaseStage(int expandRatio, int kernel, int stride, int inChannels, int outChannels, int repeats)
        {
            ExpandRatio = expandRatio; Kernel = kernel; Stride = stride;
            InChannels = inChannels; OutChannels = outChannels; Repeats = repeats;
        }

        public int ExpandRatio { get; }
        public int Kernel { get; }
        public int Stride { get; }
        public int InChannels { get; }
        public int OutChannels { get; }
        public int Repeats { get; }
    }

    /// <summary>The B0 block table (Tan &amp; Le 2019, Table 1); every variant is this table scaled.</summary>
#if EFFNET_RUNTIME
    public
#endif
    static class BlockTable
    {
        public const int StemChannels = 32;
        public const int StemKernel = 3;
        public const int StemStride = 2;
        public const int InputChannels = 3;

        /// <summary>Head width as a multiple of the last stage's (rounded) output channels, as in torchvision.</summary>
        public const int HeadExpansion = 4;

        /// <summary>Squeeze-excitation width is max(1, block input channels / 4).</summary>
        public const int SqueezeDivisor = 4;

        public static readonly BaseStage[] Stages =
        {
            //           expand kernel stride  in  out repeats
            new BaseStage(1,     3,     1,     32,  16, 1),
            new BaseStage(6,     3,     2,     16,  24, 2),
            new BaseStage(6,     5,     2,     24,  40, 2),
            new BaseStage(6,     3,     2,     40,  80, 3),
            new BaseStage(6,     5,     1,     80, 112, 3),
            new BaseStage(6,     5,     2,    112, 192, 4),
            new BaseStage(6,     3,     1,    192, 320, 1),
        };
    }
}
