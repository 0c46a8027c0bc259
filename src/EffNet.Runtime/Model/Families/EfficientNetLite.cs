using EffNet.Kernels;

namespace EffNet.Model
{
    /// <summary>
    /// EfficientNet-Lite0..4 as timm builds them (<c>tf_efficientnet_lite*</c>, <c>efficientnet_lite0</c>): B0's stages with
    /// ReLU6 and no squeeze-excitation, stem and head fixed at 32 and 1280 channels, first and last stage never repeated.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    static class EfficientNetLite
    {
        public static readonly FamilySpec Spec = new FamilySpec
        {
            Family = ModelFamily.EfficientNetLite,
            Name = "EfficientNet-Lite",
            AttributeName = "EfficientNetLite",
            MemberPrefix = "EfficientNet-Lite",
            Stages = EfficientNetB.Spec.Stages,
            // TensorFlow's width and depth; the resolutions are timm's evaluation sizes (Lite3 and Lite4 above TF's 280 and 300).
            Members = new[]
            {
                new Coefficients(1.0, 1.0, 224, 0.2),
                new Coefficients(1.0, 1.1, 240, 0.2),
                new Coefficients(1.1, 1.2, 260, 0.3),
                new Coefficients(1.2, 1.4, 300, 0.3),
                new Coefficients(1.4, 1.8, 380, 0.3),
            },
            StemChannels = 32,
            ScalesStem = false,
            HeadChannels = 1280,
            KeepsFirstAndLastRepeats = true,
            Activation = Activation.ReLU6,
            SqueezeDivisor = 0,
            Keys = KeyStyle.Timm,
            ReferenceFormat = "timm {1}efficientnet_lite{0}",
            Normalisation = "mean 0.5 and std 0.5 (timm's Lite weights)",
            FingerprintTag = "effnet-lite-v1",
        };
    }
}
