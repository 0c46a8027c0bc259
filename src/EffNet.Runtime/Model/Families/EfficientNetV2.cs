using EffNet.Kernels;

namespace EffNet.Model
{
    /// <summary>
    /// EfficientNetV2-S, -M and -L as torchvision 0.14 builds them: Fused-MBConv stages, then MBConv stages with
    /// squeeze-excitation (input channels / 4); every kernel 3x3; SiLU; head 1280. Each size has its own table, unscaled.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    static class EfficientNetV2
    {
        const BlockKind F = BlockKind.FusedMBConv, M = BlockKind.MBConv;

        public static readonly FamilySpec Small = Spec(ModelFamily.EfficientNetV2S, "EfficientNetV2-S", "s", stem: 24,
            new Coefficients(1.0, 1.0, 384, 0.2),
            //           expand kernel stride out repeats
            new StageRow(F, 1, 3, 1, 24, 2),
            new StageRow(F, 4, 3, 2, 48, 4),
            new StageRow(F, 4, 3, 2, 64, 4),
            new StageRow(M, 4, 3, 2, 128, 6),
            new StageRow(M, 6, 3, 1, 160, 9),
            new StageRow(M, 6, 3, 2, 256, 15));

        public static readonly FamilySpec Medium = Spec(ModelFamily.EfficientNetV2M, "EfficientNetV2-M", "m", stem: 24,
            new Coefficients(1.0, 1.0, 480, 0.3),
            new StageRow(F, 1, 3, 1, 24, 3),
            new StageRow(F, 4, 3, 2, 48, 5),
            new StageRow(F, 4, 3, 2, 80, 5),
            new StageRow(M, 4, 3, 2, 160, 7),
            new StageRow(M, 6, 3, 1, 176, 14),
            new StageRow(M, 6, 3, 2, 304, 18),
            new StageRow(M, 6, 3, 1, 512, 5));

        public static readonly FamilySpec Large = Spec(ModelFamily.EfficientNetV2L, "EfficientNetV2-L", "l", stem: 32,
            new Coefficients(1.0, 1.0, 480, 0.4),
            new StageRow(F, 1, 3, 1, 32, 4),
            new StageRow(F, 4, 3, 2, 64, 7),
            new StageRow(F, 4, 3, 2, 96, 7),
            new StageRow(M, 4, 3, 2, 192, 10),
            new StageRow(M, 6, 3, 1, 224, 19),
            new StageRow(M, 6, 3, 2, 384, 25),
            new StageRow(M, 6, 3, 1, 640, 7));

        static FamilySpec Spec(ModelFamily family, string name, string size, int stem, Coefficients member, params StageRow[] stages) => new FamilySpec
        {
            Family = family,
            Name = name,
            AttributeName = "EfficientNetV2",
            MemberPrefix = name,
            Stages = stages,
            Members = new[] { member },
            StemChannels = stem,
            ScalesStem = false,
            HeadChannels = 1280,
            Activation = Activation.SiLU,
            SqueezeDivisor = 4,
            Keys = KeyStyle.Torchvision,
            ReferenceFormat = "torchvision efficientnet_v2_" + size,
            Normalisation = size == "l" ? "mean 0.5 and std 0.5 (torchvision's V2-L weights)" : "the ImageNet mean and std",
            FingerprintTag = "effnetv2-" + size + "-v1",
        };
    }
}
