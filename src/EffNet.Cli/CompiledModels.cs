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
        static readonly (ulong Fingerprint, long ArenaBytes, Func<Stream, IEfficientNetModel> Load)[] All =
        {
            (B0.Fingerprint, B0.ArenaBytes, s => B0.Load(s)), (B1.Fingerprint, B1.ArenaBytes, s => B1.Load(s)),
            (B2.Fingerprint, B2.ArenaBytes, s => B2.Load(s)), (B3.Fingerprint, B3.ArenaBytes, s => B3.Load(s)),
            (B4.Fingerprint, B4.ArenaBytes, s => B4.Load(s)), (B5.Fingerprint, B5.ArenaBytes, s => B5.Load(s)),
            (B6.Fingerprint, B6.ArenaBytes, s => B6.Load(s)), (B7.Fingerprint, B7.ArenaBytes, s => B7.Load(s)),
            (B0Same.Fingerprint, B0Same.ArenaBytes, s => B0Same.Load(s)), (B1Same.Fingerprint, B1Same.ArenaBytes, s => B1Same.Load(s)),
            (B2Same.Fingerprint, B2Same.ArenaBytes, s => B2Same.Load(s)), (B3Same.Fingerprint, B3Same.ArenaBytes, s => B3Same.Load(s)),
            (B4Same.Fingerprint, B4Same.ArenaBytes, s => B4Same.Load(s)), (B5Same.Fingerprint, B5Same.ArenaBytes, s => B5Same.Load(s)),
            (B6Same.Fingerprint, B6Same.ArenaBytes, s => B6Same.Load(s)), (B7Same.Fingerprint, B7Same.ArenaBytes, s => B7Same.Load(s)),
            (B2At288.Fingerprint, B2At288.ArenaBytes, s => B2At288.Load(s)), (B2At288Same.Fingerprint, B2At288Same.ArenaBytes, s => B2At288Same.Load(s)),
        };

        /// <summary>The planned arena of the compiled model with this fingerprint, or null when the tool has none.</summary>
        public static long? ArenaBytes(ulong fingerprint)
            => All.Where(m => m.Fingerprint == fingerprint).Select(m => (long?)m.ArenaBytes).FirstOrDefault();

        /// <summary>
        /// Loads <paramref name="path"/> into the compiled model it was made for. The file is opened once and read straight
        /// through (the header chooses the model, then the model reads it all), so a pipe, a FIFO or /dev/stdin works.
        /// </summary>
        /// <exception cref="UserException">The blob is valid but for a network this tool does not carry.</exception>
        public static IEfficientNetModel Load(string path)
        {
            using FileStream file = WeightBlob.OpenFile(path);
            var blob = new ReplayStream(file);
            WeightBlobInfo info = WeightBlob.ReadInfo(blob, path);
            blob.Replay();
            foreach (var model in All)
                if (model.Fingerprint == info.Fingerprint)
                {
                    try
                    {
                        return model.Load(blob);
                    }
                    catch (WeightFormatException e) when (e.Path is null)
                    {
                        throw new WeightFormatException(path, e.Message); // the model saw a stream without a name
                    }
                }
            throw new UserException(
                $"{path} holds weights for {info.ModelDescription}; the effnet tool runs EfficientNet-B0..B7 at their native " +
                "resolutions (and B2 at 288) with 1000 classes. Compile that model with [EfficientNet(...)] in your own project to run it.");
        }
    }
}
