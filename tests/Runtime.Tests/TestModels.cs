using EffNet;

namespace EffNet.Runtime.Tests
{
    // The models the golden files describe (tools/make_golden.py), compiled by the generator at build time.
    [EfficientNet(Phi = 0)] public partial class B0;
    [EfficientNet(Phi = 1)] public partial class B1;
    [EfficientNet(Phi = 2)] public partial class B2;
    [EfficientNet(Phi = 3)] public partial class B3;
    [EfficientNet(Phi = 4)] public partial class B4;
    [EfficientNet(Phi = 5)] public partial class B5;
    [EfficientNet(Phi = 6)] public partial class B6;
    [EfficientNet(Phi = 7)] public partial class B7;
    [EfficientNet(Phi = 0, Resolution = 160)] public partial class B0At160;
    [EfficientNet(Phi = 0, Resolution = 257)] public partial class B0At257;
    [EfficientNet(Phi = 0, NumClasses = 10)] public partial class B0With10Classes;
    [EfficientNet(Width = 0.5, Depth = 0.6, Resolution = 128)] public partial class CustomSmall;
    [EfficientNet(Phi = 0, Padding = EfficientNetPadding.Same)] public partial class B0Same;

    // EfficientNet-Lite, as timm builds it (tools/lite_reference.py, tools/make_lite_golden.py).
    [EfficientNetLite(Phi = 0)] public partial class Lite0;
    [EfficientNetLite(Phi = 1)] public partial class Lite1;
    [EfficientNetLite(Phi = 2)] public partial class Lite2;
    [EfficientNetLite(Phi = 3)] public partial class Lite3;
    [EfficientNetLite(Phi = 4)] public partial class Lite4;
    [EfficientNetLite(Phi = 0, Padding = EfficientNetPadding.Symmetric)] public partial class Lite0Symmetric;

    // EfficientNetV2, as torchvision builds it (tools/make_golden.py v2_s v2_m v2_l).
    [EfficientNetV2(Size = EfficientNetV2Size.S)] public partial class V2S;
    [EfficientNetV2(Size = EfficientNetV2Size.M)] public partial class V2M;
    [EfficientNetV2(Size = EfficientNetV2Size.L)] public partial class V2L;

    // A fine-tuned model at another resolution: the runtime model must match it bit for bit (RuntimeModelTests).
    [EfficientNet(Phi = 0, Resolution = 256, NumClasses = 10)] public partial class B0At256With10Classes;

    // The models of the checkpoint fixtures (tools/make_checkpoints.py).
    [EfficientNet(Width = 0.5, Depth = 0.6, Resolution = 128, NumClasses = 10)] public partial class CustomSmall10;

    // Small and fast, for running thousands of inferences (the concurrency test).
    [EfficientNet(Width = 0.5, Depth = 0.6, Resolution = 64, NumClasses = 10)] public partial class Small64;

    // The smallest the attribute allows: the model of the v1 blob fixture (Fixtures/blob_v1/tiny_v1.effw) and of BlobBytes.Tiny.
    [EfficientNet(Width = 0.1, Depth = 0.1, Resolution = 32, NumClasses = 2)] public partial class Tiny;
}
