using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace EffNet.Model
{
    /// <summary>The stem: 3x3 stride-2 conv + BN + SiLU, reading the CHW image and writing an HWC map.</summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed class StemLayout
    {
        public StemLayout(int inSize, int outSize, int outChannels, int pad, ConvLayer conv)
        {
            InHeight = InWidth = inSize; OutHeight = OutWidth = outSize;
            OutChannels = outChannels; PadTop = PadLeft = pad; Conv = conv;
        }

        public int InHeight { get; }
        public int InWidth { get; }
        public int OutHeight { get; }
        public int OutWidth { get; }
        public int OutChannels { get; }
        public int PadTop { get; }
        public int PadLeft { get; }
        public ConvLayer Conv { get; }
    }

    /// <summary>One MBConv block after scaling: [expand 1x1] -> depthwise k x k -> squeeze-excitation -> project 1x1 [+ input].</summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed class BlockLayout
    {
        public int Index { get; internal set; }
        public int Stage { get; internal set; }
        public int IndexInStage { get; internal set; }
        public int InChannels { get; internal set; }
        public int ExpandRatio { get; internal set; }
        public int MidChannels { get; internal set; }
        public int Kernel { get; internal set; }
        public int Stride { get; internal set; }
        public int SqueezeChannels { get; internal set; }
        public int OutChannels { get; internal set; }
        public int InHeight { get; internal set; }
        public int InWidth { get; internal set; }
        public int OutHeight { get; internal set; }
        public int OutWidth { get; internal set; }
        public int PadTop { get; internal set; }
        public int PadLeft { get; internal set; }

        /// <summary>torchvision omits the expansion conv when it would not change the channel count (expand ratio 1).</summary>
        public bool HasExpansion => MidChannels != InChannels;

        /// <summary>The input is added to the output when shapes agree: stride 1 and equal channels.</summary>
        public bool HasResidual => Stride == 1 && InChannels == OutChannels;

        public ConvLayer? Expand { get; internal set; }
        public ConvLayer Depthwise { get; internal set; } = null!;
        public ConvLayer SqueezeReduce { get; internal set; } = null!;
        public ConvLayer SqueezeExpand { get; internal set; } = null!;
        public ConvLayer Project { get; internal set; } = null!;

        /// <summary>torchvision module path, e.g. "features.2.1".</summary>
        public string Module => "features." + Stage.ToString(CultureInfo.InvariantCulture) + "." + IndexInStage.ToString(CultureInfo.InvariantCulture);

        /// <summary>Is this the last block of its stage (where torchvision's features.N ends)?</summary>
        public bool EndsStage { get; internal set; }
    }

    /// <summary>The head: 1x1 conv + BN + SiLU, then global average pooling.</summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed class HeadLayout
    {
        public HeadLayout(int height, int width, int inChannels, int outChannels, ConvLayer conv)
        {
            Height = height; Width = width; InChannels = inChannels; OutChannels = outChannels; Conv = conv;
        }

        public int Height { get; }
        public int Width { get; }
        public int InChannels { get; }
        public int OutChannels { get; }
        public ConvLayer Conv { get; }
    }

    /// <summary>
    /// A fully expanded EfficientNet: every layer's shape, padding and weight offset. Built from a
    /// <see cref="ModelConfig"/> by the scaling rules in <see cref="Scaling"/> and the table in <see cref="BlockTable"/>.
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
            var layers = new List<ConvLayer>();
            var blocks = new List<BlockLayout>();
            EfficientNetPadding padding = config.Padding;

            // Stem.
            int stemChannels = Scaling.RoundFilters(BlockTable.StemChannels, config.Width);
            int size = Scaling.OutputSize(config.Resolution, BlockTable.StemStride);
            var stemConv = Add(layers, new ConvLayer(LayerKind.Stem, "features.0.0", "features.0.1", BlockTable.InputChannels, stemChannels, BlockTable.StemKernel));
            Stem = new StemLayout(config.Resolution, size, stemChannels,
                Scaling.PadBefore(config.Resolution, BlockTable.StemKernel, BlockTable.StemStride, padding), stemConv);

            // Stages 1..7.
            int channels = stemChannels;
            for (int s = 0; s < BlockTable.Stages.Length; s++)
            {
                BaseStage stage = BlockTable.Stages[s];
                int stageOut = Scaling.RoundFilters(stage.OutChannels, config.Width);
                int repeats = Scaling.RoundRepeats(stage.Repeats, config.Depth);
                for (int j = 0; j < repeats; j++)
                {
                    int stride = j == 0 ? stage.Stride : 1;
                    int outSize = Scaling.OutputSize(size, stride);
                    var block = new BlockLayout
                    {
                        Index = blocks.Count,
                        Stage = s + 1,
                        IndexInStage = j,
                        InChannels = channels,
                        ExpandRatio = stage.ExpandRatio,
                        MidChannels = Scaling.MakeDivisible((double)channels * stage.ExpandRatio, 8),
                        Kernel = stage.Kernel,
                        Stride = stride,
                        SqueezeChannels = Math.Max(1, channels / BlockTable.SqueezeDivisor),
                        OutChannels = stageOut,
                        InHeight = size, InWidth = size,
                        OutHeight = outSize, OutWidth = outSize,
                        PadTop = Scaling.PadBefore(size, stage.Kernel, stride, padding),
                        PadLeft = Scaling.PadBefore(size, stage.Kernel, stride, padding),
                        EndsStage = j == repeats - 1,
                    };
                    AddBlockLayers(layers, block);
                    blocks.Add(block);
                    channels = stageOut;
                    size = outSize;
                }
            }

            // Head and classifier.
            int head = BlockTable.HeadExpansion * channels;
            Head = new HeadLayout(size, size, channels, head,
                Add(layers, new ConvLayer(LayerKind.Pointwise, "features.8.0", "features.8.1", channels, head, 1)));
            Classifier = Add(layers, new ConvLayer(LayerKind.Classifier, "classifier.1", null, head, config.NumClasses, 1));

            Blocks = blocks;
            Layers = layers;

            long offset = 0;
            foreach (ConvLayer layer in layers)
            {
                layer.WeightOffset = offset;
                offset = AlignUp(offset + layer.WeightLength);
                layer.BiasOffset = offset;
                offset = AlignUp(offset + layer.BiasLength);
            }
            WeightFloats = offset;

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
                {
                    if (b.Expand != null) macs += (long)b.InHeight * b.InWidth * b.Expand.WeightLength;
                    macs += (long)b.OutHeight * b.OutWidth * b.Depthwise.WeightLength;
                    macs += b.SqueezeReduce.WeightLength + b.SqueezeExpand.WeightLength;
                    macs += (long)b.OutHeight * b.OutWidth * b.Project.WeightLength;
                }
                macs += (long)Head.Height * Head.Width * Head.Conv.WeightLength;
                macs += Classifier.WeightLength;
                return macs;
            }
        }

        /// <summary>The text the fingerprint hashes: every shape-determining number of the network.</summary>
        public string CanonicalArchitecture { get; }

        /// <summary>64-bit FNV-1a of <see cref="CanonicalArchitecture"/>.</summary>
        public ulong Fingerprint { get; }

        /// <summary>The tensors a torchvision <c>state_dict()</c> of this network holds, in its order, with shapes.</summary>
        public IEnumerable<KeyValuePair<string, int[]>> TorchvisionStateDict()
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

        /// <summary>The float tensors of a BatchNorm in state-dict order (num_batches_tracked, an int64, follows them).</summary>
        public static readonly string[] BatchNormFields = { "weight", "bias", "running_mean", "running_var" };

        static void AddBlockLayers(List<ConvLayer> layers, BlockLayout b)
        {
            // torchvision numbers the block's submodules consecutively, so without an expansion everything shifts down by one.
            string p = b.Module + ".block.";
            int i = 0;
            if (b.HasExpansion)
            {
                b.Expand = Add(layers, new ConvLayer(LayerKind.Pointwise, p + i + ".0", p + i + ".1", b.InChannels, b.MidChannels, 1));
                i++;
            }
            b.Depthwise = Add(layers, new ConvLayer(LayerKind.Depthwise, p + i + ".0", p + i + ".1", b.MidChannels, b.MidChannels, b.Kernel));
            i++;
            b.SqueezeReduce = Add(layers, new ConvLayer(LayerKind.SqueezeReduce, p + i + ".fc1", null, b.MidChannels, b.SqueezeChannels, 1));
            b.SqueezeExpand = Add(layers, new ConvLayer(LayerKind.SqueezeExpand, p + i + ".fc2", null, b.SqueezeChannels, b.MidChannels, 1));
            i++;
            b.Project = Add(layers, new ConvLayer(LayerKind.Pointwise, p + i + ".0", p + i + ".1", b.MidChannels, b.OutChannels, 1));
        }

        static ConvLayer Add(List<ConvLayer> layers, ConvLayer layer)
        {
            layers.Add(layer);
            return layer;
        }

        static long AlignUp(long floats) => (floats + WeightAlignmentFloats - 1) / WeightAlignmentFloats * WeightAlignmentFloats;

        string Describe()
        {
            var text = new StringBuilder();
            text.Append("effnet-v1 layout=").Append(WeightLayoutVersion)
                .Append(" res=").Append(Config.Resolution)
                .Append(" classes=").Append(Config.NumClasses)
                .Append(" padding=").Append(Config.Padding == EfficientNetPadding.Same ? "same" : "symmetric")
                .Append(" stem=").Append(Stem.OutChannels)
                .Append(" blocks=");
            foreach (BlockLayout b in Blocks)
                text.Append(b.InChannels).Append('/').Append(b.MidChannels).Append('/').Append(b.Kernel).Append('/')
                    .Append(b.Stride).Append('/').Append(b.SqueezeChannels).Append('/').Append(b.OutChannels).Append(';');
            text.Append(" head=").Append(Head.OutChannels);
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
