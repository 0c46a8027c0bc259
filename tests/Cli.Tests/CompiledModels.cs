using EffNet;

namespace EffNet.Cli.Tests
{
    // Compiled by the generator, as references for what the effnet tool computes with its runtime-planned model.
    [EfficientNet(Phi = 0)] partial class B0;
    [EfficientNet(Phi = 0, Resolution = 256, NumClasses = 10)] partial class B0At256With10Classes;
}
