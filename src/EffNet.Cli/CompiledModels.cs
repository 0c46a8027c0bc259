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
    [EfficientNet(Phi = 0, Padding = EfficientNetPadding.Same)] partial class B0Same;
    [EfficientNet(Phi = 1, Padding = EfficientNetPadding.Same)] partial class B1Same;
    [EfficientNet(Phi = 2, Padding = EfficientNetPadding.Same)] partial class B2Same;
    [EfficientNet(Phi = 3, Padding = EfficientNetPadding.Same)] partial class B3Same;
    [EfficientNet(Phi = 4, Padding = EfficientNetPadding.Same)] partial class B4Same;
    [EfficientNet(Phi = 5, Padding = EfficientNetPadding.Same)] partial class B5Same;
    [EfficientNet(Phi = 6, Padding = EfficientNetPadding.Same)] partial class B6Same;
    [EfficientNet(Phi = 7, Padding = EfficientNetPadding.Same)] partial class B7Same;

    /// <summary>Finds the compiled class for a weight blob by its fingerprint.</summary>
    static class CompiledModels
    {
        static readonly (ulong Fingerprint, Func<string, IEfficientNetModel> Load)[] All =
        {
            (B0.Fingerprint, p => B0.Load(p)), (B1.Fingerprint, p => B1.Load(p)), (B2.Fingerprint, p => B2.Load(p)),
            (B3.Fingerprint, p => B3.Load(p)), (B4.Fingerprint, p => B4.Load(p)), (B5.Fingerprint, p => B5.Load(p)),
            (B6.Fingerprint, p => B6.Load(p)), (B7.Fingerprint, p => B7.Load(p)),
            (B0Same.Fingerprint, p => B0Same.Load(p)), (B1Same.Fingerprint, p => B1Same.Load(p)), (B2Same.Fingerprint, p => B2Same.Load(p)),
            (B3Same.Fingerprint, p => B3Same.Load(p)), (B4Same.Fingerprint, p => B4Same.Load(p)), (B5Same.Fingerprint, p => B5Same.Load(p)),
            (B6Same.Fingerprint, p => B6Same.Load(p)), (B7Same.Fingerprint, p => B7Same.Load(p)),
        };

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
                "resolutions with 1000 classes. Compile that model with [EfficientNet(...)] in your own project to run it.");
        }
    }
}
