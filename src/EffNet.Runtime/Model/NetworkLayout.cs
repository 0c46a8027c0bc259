using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using EffNet.Blocks;

namespace EffNet.Model
{
    /// <summary>The stem: 3x3 stride-2 conv + BN + activation, reading the CHW image and writing an HWC map.</summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed class StemLayout
    {
        public StemLayout(int inSize, int outSize, int outChannels, int pad, ConvLayer conv, Kernels.Activation activation)
        {
            InHeight = InWidth = inSize; OutHeight = OutWidth = outSize;
            OutChannels = outChannels; PadTop = PadLeft = pad; Conv = conv; Activation = activation;
        }

        public int InHeight { get; }
        public int InWidth { get; }
        public int OutHeight { get; }
        public int OutWidth { get; }
        public int OutChannels { get; }
        public int PadTop { get; }
        public int PadLeft { get; }
        public ConvLayer Conv { get; }
        public Kernels.Activation Activation { get; }
    }

    /// <summary>
    /// One block after scaling: its kind, shapes and layers. Which layers it has, how they are named and how they run is
    /// decided by the lowering of its kind (EffNet.Blocks), which fills <see cref="Layers"/>.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed class BlockLayout
    {
        public BlockKind Kind { get; init; }
        public int Index { get; init; }

        /// <summary>0-based stage in the family's table.</summary>
        public int Stage { get; init; }

        public int IndexInStage { get; init; }
        public int InChannels { get; init; }
        public int ExpandRatio { get; init; }
        public int MidChannels { get; init; }
        public int Kernel { get; init; }
        public int Stride { get; init; }

        /// <summary>Squeeze-excitation width, or 0 when the block has none.</summary>
        public int SqueezeChannels { get; init; }

        public int OutChannels { get; init; }
        public int InHeight { get; init; }
        public int InWidth { get; init; }
        public int OutHeight { get; init; }
        public int OutWidth { get; init; }
        public int PadTop { get; init; }
        public int PadLeft { get; init; }

        /// <summary>The activation after the expand and depthwise convs (the projection has none).</summary>
        public Kernels.Activation Activation { get; init; }

        /// <summary>Module path in the family's key style, e.g. "features.2.1" or "blocks.1.1".</summary>
        public string Module { get; init; } = "";

        /// <summary>The stage name a traced run reports after this block when it ends its stage, otherwise null.</summary>
        public string? StageOutput { get; init; }

        /// <summary>The expansion conv is left out when it would not change the channel count (expand ratio 1).</summary>
        public bool HasExpansion => MidChannels != InChannels;

        public bool HasSqueezeExcitation => SqueezeChannels > 0;

        /// <summary>The input is added to the output when shapes agree: stride 1 and equal channels.</summary>
        public bool HasResidual => Stride == 1 && InChannels == OutChannels;

        // The layers by role, each null when the block's kind or shape has none (a Fused-MBConv has no depthwise conv).
        public ConvLayer? Expand { get; internal set; }
        public ConvLayer? Depthwise { get; internal set; }
        public ConvLayer? SqueezeReduce { get; internal set; }
        public ConvLayer? SqueezeExpand { get; internal set; }
        public ConvLayer? Project { get; internal set; }

        /// <summary>The block's weighted layers in state-dict order.</summary>
        public IReadOnlyList<ConvLayer> Layers { get; internal set; } = Array.Empty<ConvLayer>();
    }

    /// <summary>The head: 1x1 conv + BN + activation, then global average pooling.</summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed class HeadLayout
    {
        public HeadLayout(int height, int width, int inChannels, int outChannels, ConvLayer conv, Kernels.Activation activation, string stage)
        {
            Height = height; Width = width; InChannels = inChannels; OutChannels = outChannels; Conv = conv;
            Activation = activation; Stage = stage;
        }

        public int Height { get; }
        public int Width { get; }
        public int InChannels { get; }
        public int OutChannels { get; }
        public ConvLayer Conv { get; }
        public Kernels.Activation Activation { get; }

        /// <summary>The name a traced run reports for the head's output ("features.8", "bn2").</summary>
        public string Stage { get; }
    }

    /// <summary>
    /// A fully expanded EfficientNet: every layer's shape, padding and weight offset. Built from a
    /// <see cref="ModelConfig"/> by its family's table and rules (<see cref="FamilySpec"/>) and the lowering of each block kind.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed class NetworkLayout
    {
        /// <summary>Version of the packed weight layouts; part of the fingerprint, so blobs of another layout are refused.</summary>
        public const int WeightLayoutVersion = 1;

        /// <summary>Weight tensors start on 64-byte boundaries.</summary>
        public const int WeightAlignmentFloats = 16;

        NetworkLayout(ModelConfig config)
        {
            Config = config;
            FamilySpec family = config.FamilySpec;
            KeyStyle keys = family.Keys;
            var layers = new List<ConvLayer>();
            var blocks = new List<BlockLayout>();
            EfficientNetPadding padding = config.Padding;

            // Stem.
            int stemChannels = family.StemWidth(config.Width);
            int size = Scaling.OutputSize(config.Resolution, FamilySpec.StemStride);
            var stemConv = Add(layers, new ConvLayer(LayerKind.Convolution, ModuleNames.StemConv(keys), ModuleNames.StemBatchNorm(keys),
                FamilySpec.InputChannels, stemChannels, FamilySpec.StemKernel));
            Stem = new StemLayout(config.Resolution, size, stemChannels,
                Scaling.PadBefore(config.Resolution, FamilySpec.StemKernel, FamilySpec.StemStride, padding), stemConv, family.Activation);

            // Stages: each block's layers come from the lowering of its kind.
            int channels = stemChannels;
            for (int s = 0; s < family.Stages.Count; s++)
            {
                StageRow stage = family.Stages[s];
                int stageOut = family.StageWidth(s, config.Width);
                int repeats = family.Repeats(s, config.Depth);
                for (int j = 0; j < repeats; j++)
                {
                    int stride = j == 0 ? stage.Stride : 1;
                    int outSize = Scaling.OutputSize(size, stride);
                    int pad = Scaling.PadBefore(size, stage.Kernel, stride, padding);
                    var block = new BlockLayout
                    {
                        Kind = stage.Kind,
                        Index = blocks.Count,
                        Stage = s,
                        IndexInStage = j,
                        InChannels = channels,
                        ExpandRatio = stage.ExpandRatio,
                        MidChannels = Scaling.MakeDivisible((double)channels * stage.ExpandRatio, 8),
                        Kernel = stage.Kernel,
                        Stride = stride,
                        SqueezeChannels = BlockLowering.For(stage.Kind).TakesSqueezeExcitation ? family.SqueezeWidth(channels) : 0,
                        OutChannels = stageOut,
                        InHeight = size, InWidth = size,
                        OutHeight = outSize, OutWidth = outSize,
                        PadTop = pad, PadLeft = pad,
                        Activation = family.Activation,
                        Module = ModuleNames.Block(keys, s, j),
                        StageOutput = j == repeats - 1 ? ModuleNames.StageOutput(keys, s) : null,
                    };
                    BlockLowering.For(block.Kind).AddLayers(block, keys);
                    layers.AddRange(block.Layers);
                    blocks.Add(block);
                    channels = stageOut;
                    size = outSize;
                }
            }

            // Head and classifier.
            int head = family.HeadWidth(channels);
            int stages = family.Stages.Count;
            Head = new HeadLayout(size, size, channels, head,
                Add(layers, new ConvLayer(LayerKind.Pointwise, ModuleNames.HeadConv(keys, stages), ModuleNames.HeadBatchNorm(keys, stages), channels, head, 1)),
                family.Activation, ModuleNames.HeadStage(keys, stages));
            Classifier = Add(layers, new ConvLayer(LayerKind.Classifier, ModuleNames.Classifier(keys), null, head, config.NumClasses, 1));

            Blocks = blocks;
            Layers = layers;
            if (config.Precision == EfficientNetPrecision.Int8)
            {
                foreach (BlockLayout b in blocks)
                    foreach (ConvLayer layer in b.Layers)
                    {
                        if (QuantizationPolicy.Quantizes(layer, b)) layer.Precision = EfficientNetPrecision.Int8;
                        layer.LevelBytes = QuantizationPolicy.StoredLevelBytes(layer, b);
                    }
                if (QuantizationPolicy.Quantizes(Head.Conv, null)) Head.Conv.Precision = EfficientNetPrecision.Int8;
                foreach (ConvLayer layer in new[] { Stem.Conv, Head.Conv, Classifier })
                    layer.LevelBytes = QuantizationPolicy.StoredLevelBytes(layer, null);
            }

            // Each layer's tensors in memory (offset) and in the blob (stored): the same places unless the layer stores its
            // weights as levels that are widened at load.
            long offset = 0, stored = 0;
            long Place(ref long at, long floats)
            {
                long start = at;
                at = AlignUp(at + floats);
                return start;
            }
            foreach (ConvLayer layer in layers)
            {
                layer.WeightOffset = Place(ref offset, layer.WeightFloats);
                layer.StoredWeightOffset = Place(ref stored, layer.StoredWeightFloats);
                layer.BiasOffset = Place(ref offset, layer.BiasLength);
                layer.StoredBiasOffset = Place(ref stored, layer.BiasLength);
                if (layer.StoresLevels)
                    layer.StoredWeightScaleOffset = Place(ref stored, layer.OutChannels);
                if (layer.Precision != EfficientNetPrecision.Int8) continue;
                layer.WeightScaleOffset = Place(ref offset, layer.OutChannels);
                layer.InputQuantizationOffset = Place(ref offset, 2);
                layer.StoredInputQuantizationOffset = Place(ref stored, 2);
            }
            WeightFloats = offset;
            StoredFloats = stored;

            CanonicalArchitecture = Describe();
            Fingerprint = Fnv1a64(CanonicalArchitecture);
        }

        public static NetworkLayout Create(ModelConfig config) => new NetworkLayout(config.EnsureValid());

        public ModelConfig Config { get; }
        public StemLayout Stem { get; }
        public IReadOnlyList<BlockLayout> Blocks { get; }
        public HeadLayout Head { get; }
        public ConvLayer Classifier { get; }

        /// <summary>Every weighted layer in torchvision's state-dict order.</summary>
        public IReadOnlyList<ConvLayer> Layers { get; }

        /// <summary>Floats in the weight buffer, alignment padding included.</summary>
        public long WeightFloats { get; }

        /// <summary>
        /// Floats of the blob's data section: <see cref="WeightFloats"/>, the weights as they lie in memory, unless layers are
        /// stored as levels and widened at load (<see cref="WidensAtLoad"/>).
        /// </summary>
        public long StoredFloats { get; }

        /// <summary>Whether some layer's weights are stored as levels and widened to float32 at load.</summary>
        public bool WidensAtLoad => Layers.Any(l => l.StoredAsLevels);

        public int FeatureCount => Head.OutChannels;

        /// <summary>Learnable parameters, counted as torchvision's <c>sum(p.numel() for p in model.parameters())</c>.</summary>
        public long ParameterCount
        {
            get
            {
                long total = 0;
                foreach (ConvLayer layer in Layers) total += layer.ParameterCount;
                return total;
            }
        }

        /// <summary>Multiply-accumulates of every conv and the classifier (torchvision's GFLOPS convention).</summary>
        public long MultiplyAdds
        {
            get
            {
                long macs = (long)Stem.OutHeight * Stem.OutWidth * Stem.Conv.WeightLength;
                foreach (BlockLayout b in Blocks)
                    macs += BlockLowering.For(b.Kind).MultiplyAdds(b);
                macs += (long)Head.Height * Head.Width * Head.Conv.WeightLength;
                macs += Classifier.WeightLength;
                return macs;
            }
        }

        /// <summary>The text the fingerprint hashes: every shape-determining number of the network.</summary>
        public string CanonicalArchitecture { get; }

        /// <summary>64-bit FNV-1a of <see cref="CanonicalArchitecture"/>.</summary>
        public ulong Fingerprint { get; }

        /// <summary>The tensors the reference implementation's <c>state_dict()</c> holds (torchvision's; timm's for Lite), in its order, with shapes.</summary>
        public IEnumerable<KeyValuePair<string, int[]>> ReferenceStateDict()
        {
            foreach (ConvLayer layer in Layers)
            {
                yield return new KeyValuePair<string, int[]>(layer.WeightName, layer.SourceWeightShape);
                if (layer.BatchNorm == null)
                {
                    yield return new KeyValuePair<string, int[]>(layer.BiasName, new[] { layer.OutChannels });
                    continue;
                }
                foreach (string field in BatchNormFields)
                    yield return new KeyValuePair<string, int[]>(layer.BatchNorm + "." + field, new[] { layer.OutChannels });
                yield return new KeyValuePair<string, int[]>(layer.BatchNorm + ".num_batches_tracked", new int[0]);
            }
        }

        /// <summary>
        /// The tensors of this layout's weight blob, in directory order, at their offsets in its data section: each layer's
        /// weight and bias, the weight scales of a layer stored as levels, and an int8 layer's input quantisation. The blob
        /// writer writes this list and the reader checks against it.
        /// </summary>
        public IEnumerable<LayoutTensor> BlobTensors()
        {
            foreach (ConvLayer layer in Layers)
            {
                yield return new LayoutTensor(layer.WeightName, layer.PackedWeightShape, layer.StoredWeightType, layer.StoredWeightOffset);
                yield return new LayoutTensor(layer.BiasName, new[] { layer.OutChannels }, TensorElementType.Float32, layer.StoredBiasOffset);
                if (layer.StoresLevels)
                    yield return new LayoutTensor(layer.WeightScaleName, new[] { layer.OutChannels }, TensorElementType.Float32, layer.StoredWeightScaleOffset);
                if (layer.Precision == EfficientNetPrecision.Int8)
                    yield return new LayoutTensor(layer.InputQuantizationName, new[] { 2 }, TensorElementType.Float32, layer.StoredInputQuantizationOffset);
            }
        }

        /// <summary>The float tensors of a BatchNorm in state-dict order (num_batches_tracked, an int64, follows them).</summary>
        public static readonly string[] BatchNormFields = { "weight", "bias", "running_mean", "running_var" };

        static ConvLayer Add(List<ConvLayer> layers, ConvLayer layer)
        {
            layers.Add(layer);
            return layer;
        }

        static long AlignUp(long floats) => (floats + WeightAlignmentFloats - 1) / WeightAlignmentFloats * WeightAlignmentFloats;

        // The B-series text is that of the first release, so blobs made then keep loading. Other families start with their
        // own tag and name their activation, so no two families can share a fingerprint.
        string Describe()
        {
            FamilySpec family = Config.FamilySpec;
            var text = new StringBuilder();
            text.Append(family.FingerprintTag).Append(" layout=").Append(WeightLayoutVersion)
                .Append(" res=").Append(Config.Resolution)
                .Append(" classes=").Append(Config.NumClasses)
                .Append(" padding=").Append(Config.Padding == EfficientNetPadding.Same ? "same" : "symmetric");
            if (family.Family != ModelFamily.EfficientNet)
                text.Append(" activation=").Append(family.Activation);
            text.Append(" stem=").Append(Stem.OutChannels)
                .Append(" blocks=");
            foreach (BlockLayout b in Blocks)
                BlockLowering.For(b.Kind).Describe(b, text);
            text.Append(" head=").Append(Head.OutChannels);
            if (Config.Precision == EfficientNetPrecision.Int8)
                text.Append(" precision=int8/").Append(QuantizationPolicy.Version);
            return text.ToString();
        }

        /// <summary>64-bit FNV-1a over the UTF-8 bytes of <paramref name="text"/>.</summary>
        public static ulong Fnv1a64(string text)
        {
            ulong hash = 14695981039346656037UL;
            foreach (byte b in Encoding.UTF8.GetBytes(text))
            {
                hash ^= b;
                hash *= 1099511628211UL;
            }
            return hash;
        }
    }
}
