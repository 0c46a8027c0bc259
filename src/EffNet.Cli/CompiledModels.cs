using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using EffNet.Model;

namespace EffNet.Cli
{
    // The networks this tool can run: B0..B7 at their native resolutions with 1000 classes, in both padding styles.
    [EfficientNet(Phi = 0)] partial class B0;
    [EfficientNet(Phi = 1)] partial class B1;
    [EfficientNet(Phi = 2)] partial class B2;
    [EfficientNet(Phi = 3)] partial class B3;
    [EfficientNet(Phi = 4)] partial class B4;
    [EfficientNet(Phi = 5)] partial class B5;
    [EfficientNet(Phi = 6)] partial class B6;
    [EfficientNet(Phi = 7)] partial class B7;
    // torchvision evaluates its B2 weights at 288 pixels, not the native 260.
    [EfficientNet(Phi = 2, Resolution = 288)] partial class B2At288;
    [EfficientNet(Phi = 0, Padding = EfficientNetPadding.Same)] partial class B0Same;
    [EfficientNet(Phi = 1, Padding = EfficientNetPadding.Same)] partial class B1Same;
    [EfficientNet(Phi = 2, Padding = EfficientNetPadding.Same)] partial class B2Same;
    [EfficientNet(Phi = 3, Padding = EfficientNetPadding.Same)] partial class B3Same;
    [EfficientNet(Phi = 4, Padding = EfficientNetPadding.Same)] partial class B4Same;
    [EfficientNet(Phi = 5, Padding = EfficientNetPadding.Same)] partial class B5Same;
    [EfficientNet(Phi = 6, Padding = EfficientNetPadding.Same)] partial class B6Same;
    [EfficientNet(Phi = 7, Padding = EfficientNetPadding.Same)] partial class B7Same;
    [EfficientNet(Phi = 2, Resolution = 288, Padding = EfficientNetPadding.Same)] partial class B2At288Same;

    /// <summary>Finds the compiled class for a weight blob by its fingerprint.</summary>
    static class CompiledModels
    {
        static readonly (ulong Fingerprint, long ArenaBytes, Func<string, IEfficientNetModel> Load)[] All =
        {
            (B0.Fingerprint, B0.ArenaBytes, p => B0.Load(p)), (B1.Fingerprint, B1.ArenaBytes, p => B1.Load(p)),
            (B2.Fingerprint, B2.ArenaBytes, p => B2.Load(p)), (B3.Fingerprint, B3.ArenaBytes, p => B3.Load(p)),
            (B4.Fingerprint, B4.ArenaBytes, p => B4.Load(p)), (B5.Fingerprint, B5.ArenaBytes, p => B5.Load(p)),
            (B6.Fingerprint, B6.ArenaBytes, p => B6.Load(p)), (B7.Fingerprint, B7.ArenaBytes, p => B7.Load(p)),
            (B0Same.Fingerprint, B0Same.ArenaBytes, p => B0Same.Load(p)), (B1Same.Fingerprint, B1Same.ArenaBytes, p => B1Same.Load(p)),
            (B2Same.Fingerprint, B2Same.ArenaBytes, p => B2Same.Load(p)), (B3Same.Fingerprint, B3Same.ArenaBytes, p => B3Same.Load(p)),
            (B4Same.Fingerprint, B4Same.ArenaBytes, p => B4Same.Load(p)), (B5Same.Fingerprint, B5Same.ArenaBytes, p => B5Same.Load(p)),
            (B6Same.Fingerprint, B6Same.ArenaBytes, p => B6Same.Load(p)), (B7Same.Fingerprint, B7Same.ArenaBytes, p => B7Same.Load(p)),
            (B2At288.Fingerprint, B2At288.ArenaBytes, p => B2At288.Load(p)), (B2At288Same.Fingerprint, B2At288Same.ArenaBytes, p => B2At288Same.Load(p)),
        };

        /// <summary>The planned arena of the compiled model with this fingerprint, or null when the tool has none.</summary>
        public static long? ArenaBytes(ulong fingerprint)
            => All.Where(m => m.Fingerprint == fingerprint).Select(m => (long?)m.ArenaBytes).FirstOrDefault();

        /// <summary>Loads <paramref name="path"/> into the compiled model it was made for.</summary>
        /// <exception cref="UserException">The blob is valid but for a network this tool does not carry.</exception>
        public static IEfficientNetModel Load(string path)
        {
            WeightBlobInfo info = WeightBlob.ReadInfo(path);
            foreach (var model in All)
                if (model.Fingerprint == info.Fingerprint)
                    return model.Load(path);
            throw new UserException(
                $"{path} holds weights for {info.ModelDescription}; the effnet tool runs EfficientNet-B0..B7 at their native " +
                "resolutions (and B2 at 288) with 1000 classes. Compile that model with [EfficientNet(...)] in your own project to run it.");
        }
    }
}
