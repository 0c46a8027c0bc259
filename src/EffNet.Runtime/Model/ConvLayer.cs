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

    /// <summary>
    /// The number format of a layer's weights and arithmetic. Float32 is all the kernels run today; the int8 1x1 conv
    /// (EffNet.Kernels.PointwiseConvolutionInt8) is the first of the layers a quantised model will mark otherwise.
    /// </summary>
#if EFFNET_RUNTIME
    public
#endif
    enum Precision
    {
        Float32 = 0,
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

        /// <summary>Float32 for every layer of the models compiled today.</summary>
        public Precision Precision { get; init; } = Precision.Float32;

        /// <summary>torchvision module path of the conv or linear, e.g. "features.2.0.block.1.0".</summary>
        public string Module { get; }

        /// <summary>torchvision module path of the BatchNorm folded into it, or null when the layer has its own bias.</summary>
        public string? BatchNorm { get; }

        public int InChannels { get; }
        public int OutChannels { get; }
        public int Kernel { get; }

        public long WeightOffset { get; internal set; }
        public long BiasOffset { get; internal set; }

        /// <summary>Elements in the weight (equal in torchvision's and our layout).</summary>
        public long WeightLength => Kind == LayerKind.Depthwise
            ? (long)OutChannels * Kernel * Kernel
            : (long)OutChannels * InChannels * Kernel * Kernel;

        public long BiasLength => OutChannels;

        /// <summary>Learnable parameters in torchvision's count (a BatchNorm brings gamma and beta).</summary>
        public long ParameterCount => WeightLength + (BatchNorm != null ? 2L * OutChannels : OutChannels);

        public string WeightName => Module + ".weight";
        public string BiasName => Module + ".bias";

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
