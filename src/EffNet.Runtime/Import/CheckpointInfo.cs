using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using EffNet.Model;

namespace EffNet.Import
{
    /// <summary>Who trained a checkpoint's weights, as far as it decides the padding and BatchNorm epsilon they need.</summary>
    public enum WeightSource
    {
        /// <summary>torchvision <c>efficientnet_b*</c>: symmetric padding; eps 1e-5 for B0..B4 and other sizes, 1e-3 for B5..B7.</summary>
        Torchvision,

        /// <summary>timm <c>efficientnet_b*</c> (trained in PyTorch): symmetric padding, eps 1e-5.</summary>
        Timm,

        /// <summary>timm <c>tf_efficientnet_*</c> (ported from TensorFlow): TF SAME padding, eps 1e-3.</summary>
        TimmTensorFlow,
    }

    /// <summary>The padding and epsilon each <see cref="WeightSource"/> trains with (architecture reference 3.1, 3.2).</summary>
    public static class WeightSources
    {
        public static EfficientNetPadding Padding(this WeightSource source)
            => source == WeightSource.TimmTensorFlow ? EfficientNetPadding.Same : EfficientNetPadding.Symmetric;

        /// <summary>
        /// The BatchNorm epsilon of <paramref name="source"/>'s member <paramref name="phi"/> of <paramref name="family"/> (-1:
        /// another size): torchvision's V2 uses 1e-3 throughout.
        /// </summary>
        public static float Epsilon(this WeightSource source, int phi, ModelFamily family = ModelFamily.EfficientNet) => source switch
        {
            WeightSource.Torchvision when family != ModelFamily.EfficientNet => BatchNormFolding.TensorFlowEpsilon,
            WeightSource.Torchvision when phi >= 0 => BatchNormFolding.TorchvisionEpsilon(phi),
            WeightSource.TimmTensorFlow => BatchNormFolding.TensorFlowEpsilon,
            _ => BatchNormFolding.PyTorchEpsilon,
        };

        /// <summary>"torchvision", "timm efficientnet_b*", "timm tf_efficientnet_*".</summary>
        public static string DisplayName(this WeightSource source) => source switch
        {
            WeightSource.Torchvision => "torchvision",
            WeightSource.Timm => "timm efficientnet_b*",
            _ => "timm tf_efficientnet_*",
        };
    }

    /// <summary>
    /// What a checkpoint holds, told from its key names and tensor shapes before any tensor is read
    /// (<see cref="CheckpointImporter.Inspect(string)"/>).
    /// </summary>
    /// <param name="Format">The file format.</param>
    /// <param name="Layout">Whose key names it uses.</param>
    /// <param name="WrapperPrefix">The <c>module.</c> / <c>model.</c> prefix every key had ("" when none).</param>
    /// <param name="Source">Who trained the weights: from the key names, and for timm names from the file's metadata when it names the architecture.</param>
    /// <param name="SourceAssumed">
    /// True when <paramref name="Source"/> is a guess: timm names are the same for <c>efficientnet_b*</c> and
    /// <c>tf_efficientnet_*</c>, so without metadata naming the architecture a timm checkpoint is taken as <c>efficientnet_b*</c>.
    /// </param>
    /// <param name="Phi">0..7 when the shapes are exactly EfficientNet-B0..B7's; -1 otherwise.</param>
    /// <param name="Widths">The width multipliers that reproduce the channel counts: the official one for B0..B7, otherwise every multiple of 0.05 up to 4 that does (none, one or several).</param>
    /// <param name="Depths">The depth multipliers that reproduce the blocks per stage: the official one for B0..B7, otherwise every multiple of 0.1 up to 8 that does.</param>
    public sealed record CheckpointInfo(CheckpointFormat Format, KeyLayout Layout, string WrapperPrefix, WeightSource Source, bool SourceAssumed,
                                        int Phi, IReadOnlyList<double> Widths, IReadOnlyList<double> Depths, NetworkShape Shape)
    {
        /// <summary>The family: the B-series, EfficientNet-Lite (timm names without squeeze-excitation) or a V2 size.</summary>
        public ModelFamily Family { get; init; } = ModelFamily.EfficientNet;

        /// <summary>The grid steps of <see cref="Widths"/> and <see cref="Depths"/> for a network that is none of B0..B7.</summary>
        public const double WidthStep = 0.05, DepthStep = 0.1;

        public int NumClasses => Shape.NumClasses;

        /// <summary>The width multiplier, when the shapes pin it down to one.</summary>
        public double? Width => Widths.Count == 1 ? Widths[0] : null;

        /// <summary>The depth multiplier, when the shapes pin it down to one.</summary>
        public double? Depth => Depths.Count == 1 ? Depths[0] : null;

        /// <summary>
        /// The model the checkpoint holds, at its native resolution (224 for a custom size) with its source's padding;
        /// null when the shapes leave the width or depth open.
        /// </summary>
        public ModelConfig? Config => Width is not null && Depth is not null ? AnyFittingConfig : null;

        /// <summary>
        /// A model whose tensors have the checkpoint's shapes: <see cref="Config"/>, or when the shapes leave the width or
        /// depth open, the first that gives them (all build the same network); null when none does.
        /// </summary>
        internal ModelConfig? AnyFittingConfig => Family != ModelFamily.EfficientNet
            ? ModelConfig.ForMember(Family, Phi, null, NumClasses, Source.Padding())
            : Widths.Count > 0 && Depths.Count > 0
            ? new ModelConfig(Widths[0], Depths[0], Phi >= 0 ? Scaling.ResolutionOf(Phi) : Scaling.ResolutionOf(0), NumClasses, Source.Padding())
            : null;

        /// <summary>The BatchNorm epsilon its source trains with.</summary>
        public float DefaultEpsilon => Source.Epsilon(Phi, Family);

        /// <summary>"EfficientNet-B0 with 5 classes", "EfficientNet (width 0.5, depth 0.6) with 10 classes", or the shapes themselves.</summary>
        public string ModelName => Phi >= 0
            ? string.Format(CultureInfo.InvariantCulture, "{0} with {1} classes", FamilySpec.Of(Family).MemberName(Phi), NumClasses)
            : Width is double width && Depth is double depth
                ? string.Format(CultureInfo.InvariantCulture, "EfficientNet (width {0}, depth {1}) with {2} classes", width, depth, NumClasses)
                : "an EfficientNet with " + Shape.Describe();

        /// <summary>Where <see cref="Source"/> comes from, for messages: "torchvision key names", "timm key names (assumed efficientnet_b*...)".</summary>
        public string SourceEvidence => Layout == KeyLayout.Torchvision
            ? "torchvision key names"
            : SourceAssumed
                ? "timm key names, which do not tell efficientnet_b* from tf_efficientnet_*"
                : "timm key names and its metadata";

        /// <summary>Reads what the checkpoint is from its torchvision-named shapes; <paramref name="metadata"/> may name a timm architecture.</summary>
        internal static CheckpointInfo Infer(CheckpointFormat format, KeyLayout layout, string prefix, IReadOnlyDictionary<string, int[]> shapes,
                                             IReadOnlyDictionary<string, string> metadata, string? file)
        {
            NetworkShape shape = NetworkShape.Read(shapes, file);
            (WeightSource source, bool assumed) = layout == KeyLayout.Torchvision
                ? (WeightSource.Torchvision, false)
                : SourceNamedIn(metadata, "tf_efficientnet_", "efficientnet_b") is WeightSource named ? (named, false) : (WeightSource.Timm, true);

            for (int phi = Scaling.MinPhi; phi <= Scaling.MaxPhi; phi++)
                if (shape.SameBody(NetworkShape.Of(Scaling.WidthOf(phi), Scaling.DepthOf(phi))))
                    return new CheckpointInfo(format, layout, prefix, source, assumed, phi, new[] { Scaling.WidthOf(phi) }, new[] { Scaling.DepthOf(phi) }, shape);

            double[] widths = Grid(WidthStep, ModelConfig.MaxWidth).Where(w => shape.SameChannels(NetworkShape.Of(w, 1.0))).ToArray();
            double[] depths = Grid(DepthStep, ModelConfig.MaxDepth).Where(d => shape.SameRepeats(NetworkShape.Of(1.0, d))).ToArray();
            return new CheckpointInfo(format, layout, prefix, source, assumed, -1, widths, depths, shape);
        }

        /// <summary>
        /// Reads which member of <paramref name="families"/> (Lite0..4, or V2 S/M/L) a checkpoint is: the one whose every
        /// tensor has the checkpoint's shape, with the classifier's class count. A Lite's padding cannot be read from shapes:
        /// timm's <c>tf_efficientnet_lite*</c> (TF SAME) is assumed unless the metadata names <c>efficientnet_lite</c> without "tf_".
        /// </summary>
        internal static CheckpointInfo InferMember(IReadOnlyList<ModelFamily> families, CheckpointFormat format, KeyLayout layout, string prefix,
                                                   IReadOnlyDictionary<string, int[]> shapes, IReadOnlyDictionary<string, string> metadata, string? file)
        {
            FamilySpec first = FamilySpec.Of(families[0]);
            string what = first.Family == ModelFamily.EfficientNetLite
                ? "timm names without squeeze-excitation, as EfficientNet-Lite has"
                : "torchvision names with a dense first block, as EfficientNetV2 has";
            string classifier = ModuleNames.Classifier(first.Keys) + ".weight";
            if (!shapes.TryGetValue(classifier, out int[]? fc) || fc.Length != 2)
                throw new WeightFormatException(file, $"it has {what}, but no 2-D '{classifier}' to count its classes.");
            (WeightSource source, bool assumed) = layout == KeyLayout.Torchvision
                ? (WeightSource.Torchvision, false)
                : SourceNamedIn(metadata, "tf_efficientnet_lite", "efficientnet_lite") is WeightSource named ? (named, false) : (WeightSource.TimmTensorFlow, true);
            foreach (ModelFamily family in families)
            {
                FamilySpec spec = FamilySpec.Of(family);
                for (int phi = 0; phi < spec.Members.Count; phi++)
                {
                    var model = NetworkLayout.Create(ModelConfig.ForMember(family, phi, numClasses: fc[0]));
                    if (model.ReferenceStateDict().All(t => t.Value.Length == 0 || (shapes.TryGetValue(t.Key, out int[]? shape) && shape.SequenceEqual(t.Value))))
                        return new CheckpointInfo(format, layout, prefix, source, assumed, phi, new[] { spec.Members[phi].Width },
                                                  new[] { spec.Members[phi].Depth }, NetworkShape.Of(model)) { Family = family };
                }
            }
            string names = string.Join(", ", families.Select(f => FamilySpec.Of(f)).SelectMany(f => Enumerable.Range(0, f.Members.Count).Select(f.MemberName)));
            throw new WeightFormatException(file, $"it has {what}, but its shapes are none of {names}'s (with any class count): it is another network, or one with tensors missing.");
        }

        /// <summary>step, 2 step, ... up to max, each rounded to the step's decimals so that 0.3 is the double 0.3.</summary>
        static IEnumerable<double> Grid(double step, double max)
        {
            for (int i = 1; i * step <= max + 1e-9; i++)
                yield return Math.Round(i * step, 2);
        }

        /// <summary>
        /// The timm source a metadata value names (under "architecture", say): <paramref name="tensorflow"/> anywhere in it
        /// (<c>tf_efficientnet_b0</c>) is a TensorFlow port, a value starting with <paramref name="pytorch"/>
        /// (<c>efficientnet_b0.ra_in1k</c>) was trained in PyTorch; null when no value names either.
        /// </summary>
        static WeightSource? SourceNamedIn(IReadOnlyDictionary<string, string> metadata, string tensorflow, string pytorch)
        {
            foreach (string value in metadata.Values)
            {
                if (value.Contains(tensorflow, StringComparison.OrdinalIgnoreCase))
                    return WeightSource.TimmTensorFlow;
                if (value.StartsWith(pytorch, StringComparison.OrdinalIgnoreCase))
                    return WeightSource.Timm;
            }
            return null;
        }
    }

    /// <summary>
    /// The shapes that tell EfficientNets apart: stem channels, each stage's output channels and blocks, head channels
    /// and classes. Read from a checkpoint's (torchvision-named) tensors or built from a width and depth.
    /// </summary>
    public sealed class NetworkShape
    {
        NetworkShape(int stem, int[] stageChannels, int[] blocksPerStage, int head, int numClasses)
        {
            StemChannels = stem; StageChannels = stageChannels; BlocksPerStage = blocksPerStage; HeadChannels = head; NumClasses = numClasses;
        }

        public int StemChannels { get; }
        public IReadOnlyList<int> StageChannels { get; }
        public IReadOnlyList<int> BlocksPerStage { get; }
        public int HeadChannels { get; }
        public int NumClasses { get; }

        public static NetworkShape Of(NetworkLayout layout)
        {
            ArgumentNullException.ThrowIfNull(layout);
            int stages = layout.Config.FamilySpec.Stages.Count;
            var channels = new int[stages];
            var blocks = new int[stages];
            foreach (BlockLayout block in layout.Blocks)
            {
                channels[block.Stage] = block.OutChannels;
                blocks[block.Stage]++;
            }
            return new NetworkShape(layout.Stem.OutChannels, channels, blocks, layout.Head.OutChannels, layout.Config.NumClasses);
        }

        /// <summary>
        /// The shape of the network <paramref name="width"/> and <paramref name="depth"/> make (1000 classes), by the rules
        /// <see cref="NetworkLayout"/> builds with but without building one: inference tries some 170 of them.
        /// </summary>
        internal static NetworkShape Of(double width, double depth)
        {
            FamilySpec family = EfficientNetB.Spec;
            int[] channels = Enumerable.Range(0, family.Stages.Count).Select(s => family.StageWidth(s, width)).ToArray();
            int[] blocks = Enumerable.Range(0, family.Stages.Count).Select(s => family.Repeats(s, depth)).ToArray();
            return new NetworkShape(family.StemWidth(width), channels, blocks, family.HeadWidth(channels[^1]), ModelConfig.DefaultNumClasses);
        }

        /// <summary>
        /// Reads the shape from torchvision-named tensor shapes; refuses a state dict that lacks a part the shape needs. A
        /// layer's width comes from its weight or, when that is lost, from the BatchNorm after it, so that one missing tensor
        /// is reported by name by the shape check instead of making the network unrecognisable.
        /// </summary>
        internal static NetworkShape Read(IReadOnlyDictionary<string, int[]> shapes, string? file)
        {
            int Outputs(params string[] keys) // the first dimension of the first of these tensors there is
            {
                foreach (string key in keys)
                    if (shapes.TryGetValue(key, out int[]? shape) && shape.Length > 0)
                        return shape[0];
                throw new WeightFormatException(file, $"cannot tell which EfficientNet this is: it has no '{keys[0]}'.");
            }
            string[] ConvAndBatchNorm(string module) // torchvision's Conv2dNormActivation: module.0 the conv, module.1 its BatchNorm
                => NetworkLayout.BatchNormFields.Select(field => module + ".1." + field).Prepend(module + ".0.weight").ToArray();

            int stages = EfficientNetB.Spec.Stages.Count;
            var blocks = new int[stages];
            var projection = new int[stages]; // the highest "block.N" of each stage's first block: its projection
            foreach (string key in shapes.Keys)
            {
                string[] parts = key.Split('.', 6);
                if (parts.Length < 4 || parts[0] != "features" || !SmallNumber(parts[1], out int stage) || stage < 1 || stage > stages ||
                    !SmallNumber(parts[2], out int block))
                    continue;
                blocks[stage - 1] = Math.Max(blocks[stage - 1], block + 1);
                if (block == 0 && parts.Length == 6 && parts[3] == "block" && SmallNumber(parts[4], out int layer))
                    projection[stage - 1] = Math.Max(projection[stage - 1], layer);
            }
            var channels = new int[stages];
            for (int s = 0; s < stages; s++)
                channels[s] = Outputs(ConvAndBatchNorm($"features.{s + 1}.0.block.{projection[s]}"));
            return new NetworkShape(Outputs(ConvAndBatchNorm("features.0")), channels, blocks, Outputs(ConvAndBatchNorm("features.8")),
                                    Outputs("classifier.1.weight", "classifier.1.bias"));
        }

        static bool SmallNumber(string text, out int value)
            => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value < 10_000;

        /// <summary>Equal stem, stage and head channels.</summary>
        public bool SameChannels(NetworkShape other)
            => StemChannels == other.StemChannels && HeadChannels == other.HeadChannels && StageChannels.SequenceEqual(other.StageChannels);

        /// <summary>Equal blocks per stage.</summary>
        public bool SameRepeats(NetworkShape other) => BlocksPerStage.SequenceEqual(other.BlocksPerStage);

        /// <summary>The same network up to the classifier.</summary>
        public bool SameBody(NetworkShape other) => SameChannels(other) && SameRepeats(other);

        /// <summary>"a 32-channel stem, stages of 16/24/40/80/112/192/320 channels and 1/2/2/3/3/4/1 blocks, a 1280-channel head and 5 classes".</summary>
        public string Describe() => string.Format(CultureInfo.InvariantCulture,
            "a {0}-channel stem, stages of {1} channels and {2} blocks, a {3}-channel head and {4} classes",
            StemChannels, string.Join("/", StageChannels), string.Join("/", BlocksPerStage), HeadChannels, NumClasses);
    }
}
