using EffNet.Kernels;

namespace EffNet.Model
{
    /// <summary>EfficientNet-B0..B7: the B0 table (Tan &amp; Le 2019, Table 1) under compound scaling, as torchvision builds it.</summary>
#if EFFNET_RUNTIME
    public
#endif
    static class EfficientNetB
    {
        public static readonly FamilySpec Spec = new FamilySpec
        {
            Family = ModelFamily.EfficientNet,
            Name = "EfficientNet",
            AttributeName = "EfficientNet",
            MemberPrefix = "EfficientNet-B",
            Stages = new[]
            {
                //                           expand kernel stride out repeats
                new StageRow(BlockKind.MBConv, 1,     3,     1,    16, 1),
                new StageRow(BlockKind.MBConv, 6,     3,     2,    24, 2),
                new StageRow(BlockKind.MBConv, 6,     5,     2,    40, 2),
                new StageRow(BlockKind.MBConv, 6,     3,     2,    80, 3),
                new StageRow(BlockKind.MBConv, 6,     5,     1,   112, 3),
                new StageRow(BlockKind.MBConv, 6,     5,     2,   192, 4),
                new StageRow(BlockKind.MBConv, 6,     3,     1,   320, 1),
            },
            // Width, depth, native resolution and classifier dropout (identical in torchvision, timm, TF, Keras).
            Members = new[]
            {
                new Coefficients(1.0, 1.0, 224, 0.2),
                new Coefficients(1.0, 1.1, 240, 0.2),
                new Coefficients(1.1, 1.2, 260, 0.3),
                new Coefficients(1.2, 1.4, 300, 0.3),
                new Coefficients(1.4, 1.8, 380, 0.4),
                new Coefficients(1.6, 2.2, 456, 0.4),
                new Coefficients(1.8, 2.6, 528, 0.5),
                new Coefficients(2.0, 3.1, 600, 0.5),
            },
            StemChannels = 32,
            ScalesStem = true,
            HeadExpansion = 4, // torchvision: 4 x the last stage's rounded channels
            Activation = Activation.SiLU,
            SqueezeDivisor = 4,
            Keys = KeyStyle.Torchvision,
            ReferenceFormat = "torchvision efficientnet_b{0}",
            Normalisation = "the ImageNet mean and std",
            FingerprintTag = "effnet-v1",
        };
    }
}
