using EffNet.Kernels;
using EffNet.Model;

namespace EffNet.Planning
{
    /// <summary>
    /// What one call of the forward pass does, and so which kernel it runs. The SE gate ("gate") is a per-block buffer of
    /// the block's expanded channels outside the arena: the depthwise call writes channel sums into it, the squeeze-excitation
    /// call turns them into the gate, and the gate-map or projection call applies it.
    /// </summary>
    enum Operation
    {
        /// <summary>StemConvolution: the CHW image (<see cref="KernelCall.Input"/>) to an HWC map.</summary>
        Stem,

        /// <summary>Convolution: a dense k x k conv on an HWC map (a Fused-MBConv's expand conv), optionally adding <see cref="KernelCall.Residual"/>.</summary>
        Convolution,

        /// <summary>
        /// ConvolutionWinograd2x2: a Fused-MBConv's 3x3 stride-1 conv by Winograd's F(2x2, 3x3), its weights transformed
        /// into <see cref="KernelCall.Panel"/> and its tiles through the row buffers; optionally adding <see cref="KernelCall.Residual"/>.
        /// </summary>
        ConvolutionWinograd,

        /// <summary>PointwiseConvolution: a block's expand conv, whole map to whole map.</summary>
        Expand,

        /// <summary>ExpandDepthwise: expand and depthwise convs in one pass through per-thread row buffers; channel sums to the gate.</summary>
        ExpandDepthwise,

        /// <summary>DepthwiseConvolution; channel sums to the gate.</summary>
        Depthwise,

        /// <summary>SqueezeExcitation.Run: the gate's channel sums of <see cref="KernelCall.Input"/> become the gate.</summary>
        SqueezeExcitation,

        /// <summary>SqueezeExcitation.ScaleChannels: the gate scales <see cref="KernelCall.Output"/> in place.</summary>
        GateMap,

        /// <summary>PointwiseConvolution: a block's projection, optionally adding <see cref="KernelCall.Residual"/> and scaling its weights by the gate into <see cref="KernelCall.Panel"/>.</summary>
        Project,

        /// <summary>PointwiseConvolution: the head conv.</summary>
        Head,

        /// <summary>GlobalAveragePool: the head's map to the pooled features.</summary>
        Pool,

        /// <summary>FullyConnected: the pooled features to the logits (the caller's span, so <see cref="KernelCall.Output"/> is null).</summary>
        Classify,
    }

    /// <summary>
    /// One kernel call of the forward pass: which kernel (<see cref="Operation"/>), which planned tensors it reads and
    /// writes, which weights, and the constants no tensor shape carries. The generator prints these calls as C# and the
    /// runtime model runs them, so a block's sequence of kernels is decided in one place, <see cref="ForwardPlan"/>.
    /// Shapes come from the tensors: a call's pixels and channels are those of <see cref="Input"/>, its output size that of
    /// <see cref="Output"/>.
    /// </summary>
    sealed class KernelCall
    {
        public KernelCall(Operation operation, int step, ConvLayer? weights, PlannedTensor input, PlannedTensor? output)
        {
            Operation = operation; Step = step; Weights = weights; Input = input; Output = output;
        }

        public Operation Operation { get; }

        /// <summary>The lifetime step (<see cref="PlannedTensor.FirstStep"/>) at which the call reads its inputs and writes its outputs.</summary>
        public int Step { get; }

        /// <summary>The conv's weights and bias; the expand conv of <see cref="Operation.ExpandDepthwise"/>; the reduce fc of squeeze-excitation; null for the gate map and the pool.</summary>
        public ConvLayer? Weights { get; }

        /// <summary>The depthwise conv of <see cref="Operation.ExpandDepthwise"/>; the expand fc of squeeze-excitation.</summary>
        public ConvLayer? SecondWeights { get; init; }

        /// <summary>The tensor read (for the stem, <see cref="ForwardPlan.Image"/>, which is not in the arena).</summary>
        public PlannedTensor Input { get; }

        /// <summary>The tensor written; null when the result is the gate (squeeze-excitation) or the logits (classifier).</summary>
        public PlannedTensor? Output { get; }

        /// <summary>Added to the projection's output (the block input), or null.</summary>
        public PlannedTensor? Residual { get; init; }

        /// <summary>
        /// Scratch for weights the call rewrites each time: the projection's weights scaled by the gate, or a Winograd conv's
        /// transformed weights; null otherwise.
        /// </summary>
        public PlannedTensor? Panel { get; init; }

        /// <summary>The depthwise call sums each output channel into the gate buffer, for the squeeze-excitation after it.</summary>
        public bool SumsChannels { get; init; }

        /// <summary>
        /// The projection multiplies its input channels by the squeeze-excitation gate: through <see cref="Panel"/> in
        /// float32, while quantising the input in int8.
        /// </summary>
        public bool GatesInput { get; init; }

        /// <summary>An int8 layer's input as u8 levels (scratch, live only during the call), or null for a float32 layer.</summary>
        public PlannedTensor? QuantizedInput { get; init; }

        /// <summary>The scratch <see cref="QuantizedInput"/> of <paramref name="layer"/> reading <paramref name="input"/>, or null when it runs in float32.</summary>
        public static PlannedTensor? QuantizedInputFor(ConvLayer? layer, PlannedTensor input, string name, int step)
            => layer?.Precision == EfficientNetPrecision.Int8
                ? new PlannedTensor(name, layer.Module + " input as u8 levels", 1, 1, checked((int)(((long)input.Pixels * input.Channels + 3) / 4)), step, isScratch: true)
                : null;

        public int Stride { get; init; } = 1;
        public int PadTop { get; init; }
        public int PadLeft { get; init; }
        public Activation Activation { get; init; }

        /// <summary>The torchvision stage ("features.3", "avgpool") whose output <see cref="Output"/> is once this call returns, or null.</summary>
        public string? Stage { get; init; }
    }
}
