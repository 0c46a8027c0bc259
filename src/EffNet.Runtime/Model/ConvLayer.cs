namespace EffNet.Model
{
    /// <summary>The kinds of weighted layer, each with its own packed weight layout.</summary>
#if EFFNET_RUNTIME
    public
#endif
    enum LayerKind
    {
        /// <summary>Dense k x k conv: the stem (3 -> C) and a Fused-MBConv's expand conv. Packed [kh, kw, in, out] ("HWIO").</summary>
        Convolution,

        /// <summary>1x1 conv (expand, project, head). Packed [in, out] ("IO").</summary>
        Pointwise,

        /// <summary>k x k depthwise conv. Packed [kh, kw, channels] ("HWC").</summary>
        Depthwise,

        /// <summary>Squeeze-excitation reduce (fc1), C -> S with bias. Packed [S, C] ("OI").</summary>
        SqueezeReduce,

        /// <summary>Squeeze-excitation expand (fc2), S -> C with bias. Packed [S, C] ("IO").</summary>
        SqueezeExpand,

        /// <summary>The final Linear, features -> classes with bias. Packed [classes, features] ("OI").</summary>
        Classifier,
    }

    /// <summary>How the elements of a weight blob's tensor are stored.</summary>
#if EFFNET_RUNTIME
    public
#endif
    enum TensorElementType : byte
    {
        Float32 = 1,
        Int8 = 2,
        Int16 = 3,
    }

    /// <summary>One tensor of a layout's weight blob: its name, shape, element type and place (in floats from the buffer's start).</summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed record LayoutTensor(string Name, int[] Shape, TensorElementType Type, long OffsetFloats)
    {
        public long Elements
        {
            get
            {
                long n = 1;
                foreach (int d in Shape) n *= d;
                return n;
            }
        }

        public long Bytes => Elements * ElementBytes(Type);

        /// <summary>Bytes of one element of <paramref name="type"/>.</summary>
        public static int ElementBytes(TensorElementType type) => type switch { TensorElementType.Int8 => 1, TensorElementType.Int16 => 2, _ => sizeof(float) };
    }

    /// <summary>
    /// One weighted layer as it sits in the weight blob: the conv (or linear) weight with BatchNorm folded into it,
    /// and its bias. Offsets and lengths count floats from the start of the weight buffer.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    sealed class ConvLayer
    {
        public ConvLayer(LayerKind kind, string module, string? batchNorm, int inChannels, int outChannels, int kernel)
        {
            Kind = kind; Module = module; BatchNorm = batchNorm;
            InChannels = inChannels; OutChannels = outChannels; Kernel = kernel;
        }

        public LayerKind Kind { get; }

        /// <summary>Float32, or Int8 where <see cref="QuantizationPolicy"/> quantises the layer of an Int8 network.</summary>
        public EfficientNetPrecision Precision { get; internal set; } = EfficientNetPrecision.Float32;

        /// <summary>torchvision module path of the conv or linear, e.g. "features.2.0.block.1.0".</summary>
        public string Module { get; }

        /// <summary>torchvision module path of the BatchNorm folded into it, or null when the layer has its own bias.</summary>
        public string? BatchNorm { get; }

        public int InChannels { get; }
        public int OutChannels { get; }
        public int Kernel { get; }

        public long WeightOffset { get; internal set; }
        public long BiasOffset { get; internal set; }

        /// <summary>Int8 layers: [out] fp32, each output channel's weight scale (weight = scale x level).</summary>
        public long WeightScaleOffset { get; internal set; } = -1;

        /// <summary>Int8 layers: 2 fp32, the input's scale and zero point (input = scale x (level - zero point)).</summary>
        public long InputQuantizationOffset { get; internal set; } = -1;

        /// <summary>Floats the weight takes in the weight buffer: one per element, or one per four int8 levels.</summary>
        public long WeightFloats => Precision == EfficientNetPrecision.Int8 ? (WeightLength + 3) / 4 : WeightLength;

        /// <summary>
        /// A float32 layer of an Int8 network whose weights the blob stores as levels with one scale per output channel,
        /// widened to float32 at load (<see cref="QuantizationPolicy.StoredLevelBytes"/>): a quarter (or half) of the bytes
        /// on disk, the same arithmetic as a float32 layer.
        /// </summary>
        public bool StoredAsLevels => Precision == EfficientNetPrecision.Float32 && LevelBytes > 0;

        /// <summary>Bytes per stored level: 1 (s8) for an int8 layer and most layers stored as levels, 2 (s16) for the classifier, 0 for float32 weights.</summary>
        public int LevelBytes { get; internal set; }

        /// <summary>Whether the blob holds the weight as levels (an int8 layer, or one stored as levels).</summary>
        public bool StoresLevels => LevelBytes > 0;

        /// <summary>The element type of the weight tensor in the blob.</summary>
        public TensorElementType StoredWeightType => LevelBytes switch { 1 => TensorElementType.Int8, 2 => TensorElementType.Int16, _ => TensorElementType.Float32 };

        // Where the layer's tensors sit in the blob's data section, in floats. The same as in memory, except in an Int8
        // network with layers stored as levels: their weights take a quarter of the floats there, and their scales follow
        // their bias (-1: no such tensor).
        public long StoredWeightOffset { get; internal set; }
        public long StoredBiasOffset { get; internal set; }
        public long StoredWeightScaleOffset { get; internal set; } = -1;
        public long StoredInputQuantizationOffset { get; internal set; } = -1;

        /// <summary>Floats the weight takes in the blob.</summary>
        public long StoredWeightFloats => StoresLevels ? (WeightLength * LevelBytes + 3) / 4 : WeightLength;

        /// <summary>Whether the output channel is the last index of <see cref="PackedWeightShape"/> (else the first).</summary>
        public bool OutputChannelLast => Kind is not (LayerKind.SqueezeReduce or LayerKind.Classifier);

        /// <summary>Elements in the weight (equal in torchvision's and our layout).</summary>
        public long WeightLength => Kind == LayerKind.Depthwise
            ? (long)OutChannels * Kernel * Kernel
            : (long)OutChannels * InChannels * Kernel * Kernel;

        public long BiasLength => OutChannels;

        /// <summary>Learnable parameters in torchvision's count (a BatchNorm brings gamma and beta).</summary>
        public long ParameterCount => WeightLength + (BatchNorm != null ? 2L * OutChannels : OutChannels);

        public string WeightName => Module + ".weight";
        public string BiasName => Module + ".bias";
        public string WeightScaleName => Module + ".weight_scale";
        public string InputQuantizationName => Module + ".input_quantization";

        /// <summary>Shape of the weight in the PyTorch state dict (OIHW for convs, [out, in] for Linear).</summary>
        public int[] SourceWeightShape => Kind switch
        {
            LayerKind.Classifier => new[] { OutChannels, InChannels },
            LayerKind.Depthwise => new[] { OutChannels, 1, Kernel, Kernel },
            _ => new[] { OutChannels, InChannels, Kernel, Kernel },
        };

        /// <summary>Shape of the weight in the blob, in the order the kernels read it.</summary>
        public int[] PackedWeightShape => Kind switch
        {
            LayerKind.Convolution => new[] { Kernel, Kernel, InChannels, OutChannels },
            LayerKind.Pointwise => new[] { InChannels, OutChannels },
            LayerKind.Depthwise => new[] { Kernel, Kernel, OutChannels },
            LayerKind.SqueezeReduce => new[] { OutChannels, InChannels },
            LayerKind.SqueezeExpand => new[] { InChannels, OutChannels },
            _ => new[] { OutChannels, InChannels },
        };

        /// <summary>Axis names of <see cref="PackedWeightShape"/>.</summary>
        public string PackedLayout => Kind switch
        {
            LayerKind.Convolution => "HWIO",
            LayerKind.Pointwise => "IO",
            LayerKind.Depthwise => "HWC",
            LayerKind.SqueezeExpand => "IO",
            _ => "OI",
        };
    }
}
