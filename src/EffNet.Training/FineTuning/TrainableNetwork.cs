using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics.Tensors;
using EffNet.Kernels;
using EffNet.Model;
using EffNet.Training.Kernels;

namespace EffNet.Training
{
    /// <summary>
    /// The part of a network fine-tuning trains: its last blocks, the head conv and the classifier, with a forward pass
    /// that keeps what the backward pass reads (a <see cref="Tape"/>) and that backward pass. It reads the same
    /// <see cref="NetworkLayout"/> as inference: each block's layers, shapes, strides, padding and activation, and each
    /// layer's place in the weight buffer, which the parameters and their gradients share.
    /// </summary>
    /// <remarks>
    /// BatchNorm is frozen: the folded weights and biases of the blob are trained directly, so the network trained is the
    /// one inference runs (docs/training.md). The frozen layers before <see cref="FirstBlock"/> are not here: their output
    /// for each image (<see cref="EfficientNetModel.BlockInput"/>) is this network's input.
    /// </remarks>
    sealed class TrainableNetwork
    {
        readonly BlockLayout[] _blocks;
        // The trained 1x1 convs' weights in the kernels' panel order, and their transposes (the input gradient's GEMM),
        // at each layer's own offset; refreshed by PrepareStep after the parameters change.
        readonly float[] _panels, _transposedPanels, _transposeScratch;

        /// <param name="parameters">the whole weight buffer of <paramref name="layout"/>, in blob order; trained in place</param>
        public TrainableNetwork(NetworkLayout layout, int unfrozenBlocks, float[] parameters)
        {
            Check(layout, unfrozenBlocks);
            if (parameters.LongLength != layout.WeightFloats)
                throw new ArgumentException($"{layout.Config.DisplayName} takes {layout.WeightFloats:N0} floats of weights; got {parameters.LongLength:N0}.", nameof(parameters));
            Layout = layout;
            FirstBlock = layout.Blocks.Count - unfrozenBlocks;
            _blocks = layout.Blocks.Skip(FirstBlock).ToArray();
            Parameters = parameters;
            TrainedLayers = _blocks.SelectMany(b => b.Layers).Append(layout.Head.Conv).Append(layout.Classifier).ToArray();
            _panels = new float[parameters.Length];
            _transposedPanels = new float[parameters.Length];
            _transposeScratch = new float[TrainedLayers.Where(l => l.Kind == LayerKind.Pointwise).Max(l => l.WeightLength)];
            PrepareStep();
        }

        /// <summary>Throws, saying what to do instead, unless the last <paramref name="unfrozenBlocks"/> blocks of <paramref name="layout"/> can be trained.</summary>
        public static void Check(NetworkLayout layout, int unfrozenBlocks)
        {
            if (layout.Config.Precision != EfficientNetPrecision.Float32)
                throw new ArgumentException($"{layout.Config.DisplayName} is an int8 model; fine-tune the float32 model, then quantise the result (effnet quantize).");
            if (unfrozenBlocks < 1 || unfrozenBlocks > layout.Blocks.Count)
                throw new ArgumentException($"{layout.Config.DisplayName} has {layout.Blocks.Count} blocks: unfreeze 1 to {layout.Blocks.Count} of them, not {unfrozenBlocks}.");
            BlockLayout[] trained = layout.Blocks.Skip(layout.Blocks.Count - unfrozenBlocks).ToArray();
            if (trained.LastOrDefault(b => b.Kind != BlockKind.MBConv) is BlockLayout fused)
                throw new ArgumentException(
                    $"Block {fused.Index} ({fused.Module}) is a Fused-MBConv block, which fine-tuning cannot train yet (no backward pass for its dense conv). " +
                    $"Unfreeze at most {layout.Blocks.Count - 1 - fused.Index} blocks.");
        }

        public NetworkLayout Layout { get; }

        /// <summary>Index of the first trained block; the blocks before it are frozen.</summary>
        public int FirstBlock { get; }

        /// <summary>The weight buffer in blob order: the trained layers' entries change, the others stay the base's.</summary>
        public float[] Parameters { get; }

        /// <summary>The layers whose weights and biases are trained.</summary>
        public IReadOnlyList<ConvLayer> TrainedLayers { get; }

        public long TrainedParameterCount => TrainedLayers.Sum(l => l.WeightLength + l.BiasLength);

        /// <summary>Floats of one input: the first trained block's input map.</summary>
        public int InputLength => _blocks[0].InHeight * _blocks[0].InWidth * _blocks[0].InChannels;

        public int Classes => Layout.Classifier.OutChannels;

        /// <summary>This network's input for one image: what <paramref name="baseModel"/>'s frozen layers make of it.</summary>
        public void InputFrom(EfficientNetModel baseModel, ReadOnlySpan<float> image, Span<float> input)
            => baseModel.BlockInput(image, FirstBlock, input);

        /// <summary>Re-packs the trained 1x1 convs for the kernels; call after changing <see cref="Parameters"/>.</summary>
        public void PrepareStep()
        {
            foreach (ConvLayer layer in TrainedLayers)
            {
                if (layer.Kind != LayerKind.Pointwise) continue;
                PointwiseConvolution.PackPanels(Weights(layer), Panels(layer), layer.InChannels, layer.OutChannels);
                PointwiseConvolutionBackward.PackTransposed(Weights(layer), TransposedPanels(layer), _transposeScratch, layer.InChannels, layer.OutChannels);
            }
        }

        /// <summary>One image's activations through the trained layers, and scratch for its backward pass; one per thread.</summary>
        public Tape CreateTape() => new Tape(this);

        /// <summary>The logits of one image from <paramref name="input"/> (the first trained block's input); <paramref name="tape"/> keeps what <see cref="Backward"/> needs.</summary>
        public void Forward(Tape tape, ReadOnlySpan<float> input, Span<float> logits)
        {
            input.CopyTo(tape.Input);
            for (int i = 0; i < _blocks.Length; i++)
                ForwardBlock(_blocks[i], tape.Blocks[i]);

            HeadLayout head = Layout.Head;
            int pixels = head.Height * head.Width;
            PointwiseConvolution.Run(tape.Blocks[^1].Output, Panels(head.Conv), Bias(head.Conv), tape.HeadInput,
                pixels, head.InChannels, head.OutChannels, Activation.None);
            ActivationBackward.Forward(tape.HeadInput, tape.HeadMap, head.Activation);
            Span<float> features = tape.Features;
            features.Clear();
            for (int p = 0; p < pixels; p++)
                TensorPrimitives.Add(features, tape.HeadMap.AsSpan(p * head.OutChannels, head.OutChannels), features);
            TensorPrimitives.Multiply(features, 1f / pixels, features);
            ConvLayer fc = Layout.Classifier;
            FullyConnected.Run(features, Weights(fc), Bias(fc), logits, fc.InChannels, fc.OutChannels);
        }

        void ForwardBlock(BlockLayout b, BlockTape t)
        {
            int inPixels = b.InHeight * b.InWidth, outPixels = b.OutHeight * b.OutWidth;
            if (b.Expand is ConvLayer expand)
            {
                PointwiseConvolution.Run(t.Input, Panels(expand), Bias(expand), t.ExpandedInput!, inPixels, b.InChannels, b.MidChannels, Activation.None);
                ActivationBackward.Forward(t.ExpandedInput, t.Expanded!, b.Activation);
            }
            ConvLayer dw = b.Depthwise!;
            DepthwiseConvolution.Run(t.DepthwiseSource, b.InHeight, b.InWidth, b.MidChannels, Weights(dw), Bias(dw), dw.Kernel,
                b.Stride, b.PadTop, b.PadLeft, t.DepthwiseInput, b.OutHeight, b.OutWidth, Activation.None, default);
            ActivationBackward.Forward(t.DepthwiseInput, t.Depthwise, b.Activation);
            if (b.HasSqueezeExcitation)
                SqueezeExcitationBackward.Forward(t.Depthwise, outPixels, b.MidChannels, Weights(b.SqueezeReduce!), Bias(b.SqueezeReduce!),
                    Weights(b.SqueezeExpand!), Bias(b.SqueezeExpand!), b.SqueezeChannels, t.Squeeze!, t.Gated);
            ConvLayer project = b.Project!;
            PointwiseConvolution.Run(t.Gated, Panels(project), Bias(project), t.Output, outPixels, b.MidChannels, b.OutChannels, Activation.None,
                residual: b.HasResidual ? t.Input : default);
        }

        /// <summary>
        /// Adds to <paramref name="gradients"/> (indexed as <see cref="Parameters"/>) the gradient of the loss of the image
        /// <paramref name="tape"/> last ran forward, given the loss's gradient with respect to its logits.
        /// </summary>
        public void Backward(Tape tape, ReadOnlySpan<float> gradLogits, float[] gradients)
        {
            HeadLayout head = Layout.Head;
            ConvLayer fc = Layout.Classifier;
            int pixels = head.Height * head.Width;
            Span<float> gradFeatures = tape.GradFeatures;
            ClassifierBackward.Linear(tape.Features, Weights(fc), gradLogits, Slice(gradients, fc.WeightOffset, fc.WeightLength),
                Slice(gradients, fc.BiasOffset, fc.BiasLength), gradFeatures);
            Span<float> gradHead = tape.GradMiddle.AsSpan(0, pixels * head.OutChannels);
            ClassifierBackward.Pool(gradFeatures, pixels, gradHead);
            ActivationBackward.Run(tape.HeadInput, gradHead, head.Activation);

            Span<float> gradOutput = tape.GradA.AsSpan(0, pixels * head.InChannels);
            PointwiseConvolutionBackward.Run(tape.Blocks[^1].Output, gradHead, TransposedPanels(head.Conv), gradOutput,
                GradWeights(gradients, head.Conv), GradBias(gradients, head.Conv), pixels, head.InChannels, head.OutChannels, tape.PointwiseScratch);

            float[] current = tape.GradA, other = tape.GradB;
            for (int i = _blocks.Length - 1; i >= 0; i--)
            {
                BlockLayout b = _blocks[i];
                // The first trained block's input comes from frozen layers: nothing needs its gradient.
                Span<float> gradInput = i == 0 ? default : other.AsSpan(0, b.InHeight * b.InWidth * b.InChannels);
                BackwardBlock(b, tape.Blocks[i], current.AsSpan(0, b.OutHeight * b.OutWidth * b.OutChannels), gradInput, gradients, tape);
                (current, other) = (other, current);
            }
        }

        void BackwardBlock(BlockLayout b, BlockTape t, ReadOnlySpan<float> gradOutput, Span<float> gradInput, float[] gradients, Tape tape)
        {
            int inPixels = b.InHeight * b.InWidth, outPixels = b.OutHeight * b.OutWidth;
            ConvLayer project = b.Project!, dw = b.Depthwise!;

            // Projection: its input is the gated map.
            Span<float> grad = tape.GradMiddle.AsSpan(0, outPixels * b.MidChannels);
            PointwiseConvolutionBackward.Run(t.Gated, gradOutput, TransposedPanels(project), grad,
                GradWeights(gradients, project), GradBias(gradients, project), outPixels, b.MidChannels, b.OutChannels, tape.PointwiseScratch);

            if (b.HasSqueezeExcitation)
            {
                ConvLayer reduce = b.SqueezeReduce!, expandFc = b.SqueezeExpand!;
                SqueezeExcitationBackward.Run(t.Depthwise, outPixels, b.MidChannels, b.SqueezeChannels, t.Squeeze!,
                    Weights(reduce), Weights(expandFc), grad, GradWeights(gradients, reduce), GradBias(gradients, reduce),
                    GradWeights(gradients, expandFc), GradBias(gradients, expandFc), tape.SqueezeScratch);
            }
            ActivationBackward.Run(t.DepthwiseInput, grad, b.Activation);

            // Depthwise: its input is the expanded map, or the block input when the block does not expand.
            Span<float> gradSource = b.Expand != null ? tape.GradSecond.AsSpan(0, inPixels * b.MidChannels) : gradInput;
            DepthwiseConvolutionBackward.Run(t.DepthwiseSource, b.InHeight, b.InWidth, b.MidChannels, Weights(dw), dw.Kernel, b.Stride,
                b.PadTop, b.PadLeft, grad, b.OutHeight, b.OutWidth, gradSource, GradWeights(gradients, dw), GradBias(gradients, dw));

            if (b.Expand is ConvLayer expand)
            {
                ActivationBackward.Run(t.ExpandedInput, gradSource, b.Activation);
                PointwiseConvolutionBackward.Run(t.Input, gradSource, TransposedPanels(expand), gradInput,
                    GradWeights(gradients, expand), GradBias(gradients, expand), inPixels, b.InChannels, b.MidChannels, tape.PointwiseScratch);
            }
            if (b.HasResidual && !gradInput.IsEmpty)
                TensorPrimitives.Add(gradInput, gradOutput, gradInput);
        }

        Span<float> Weights(ConvLayer layer) => Parameters.AsSpan((int)layer.WeightOffset, (int)layer.WeightLength);
        Span<float> Bias(ConvLayer layer) => Parameters.AsSpan((int)layer.BiasOffset, (int)layer.BiasLength);
        Span<float> Panels(ConvLayer layer) => _panels.AsSpan((int)layer.WeightOffset, (int)layer.WeightLength);
        Span<float> TransposedPanels(ConvLayer layer) => _transposedPanels.AsSpan((int)layer.WeightOffset, (int)layer.WeightLength);
        static Span<float> GradWeights(float[] gradients, ConvLayer layer) => Slice(gradients, layer.WeightOffset, layer.WeightLength);
        static Span<float> GradBias(float[] gradients, ConvLayer layer) => Slice(gradients, layer.BiasOffset, layer.BiasLength);
        static Span<float> Slice(float[] buffer, long offset, long length) => buffer.AsSpan((int)offset, (int)length);

        /// <summary>One trained block's saved maps: each conv's output before its activation and after it.</summary>
        internal sealed class BlockTape
        {
            public BlockTape(BlockLayout b, float[] input)
            {
                int inPixels = b.InHeight * b.InWidth, outPixels = b.OutHeight * b.OutWidth;
                Input = input;
                if (b.Expand != null)
                {
                    ExpandedInput = new float[inPixels * b.MidChannels];
                    Expanded = new float[inPixels * b.MidChannels];
                }
                DepthwiseInput = new float[outPixels * b.MidChannels];
                Depthwise = new float[outPixels * b.MidChannels];
                if (b.HasSqueezeExcitation)
                {
                    Squeeze = new SqueezeExcitationBackward.Saved(b.MidChannels, b.SqueezeChannels);
                    Gated = new float[outPixels * b.MidChannels];
                }
                else Gated = Depthwise;
                Output = new float[outPixels * b.OutChannels];
            }

            public float[] Input { get; }
            /// <summary>The expand conv's output before and after its activation (null without expansion).</summary>
            public float[]? ExpandedInput { get; }
            public float[]? Expanded { get; }
            public float[] DepthwiseSource => Expanded ?? Input;
            /// <summary>The depthwise conv's output before and after its activation.</summary>
            public float[] DepthwiseInput { get; }
            public float[] Depthwise { get; }
            public SqueezeExcitationBackward.Saved? Squeeze { get; }
            /// <summary>The projection's input: the depthwise map times the gate (the depthwise map itself without squeeze-excitation).</summary>
            public float[] Gated { get; }
            public float[] Output { get; }
        }

        /// <summary>A forward pass's saved maps and the backward pass's scratch, for one image at a time on one thread.</summary>
        internal sealed class Tape
        {
            public Tape(TrainableNetwork network)
            {
                BlockLayout[] blocks = network._blocks;
                HeadLayout head = network.Layout.Head;
                Input = new float[network.InputLength];
                Blocks = new BlockTape[blocks.Length];
                float[] input = Input;
                for (int i = 0; i < blocks.Length; i++)
                {
                    Blocks[i] = new BlockTape(blocks[i], input);
                    input = Blocks[i].Output;
                }
                int headPixels = head.Height * head.Width;
                HeadInput = new float[headPixels * head.OutChannels];
                HeadMap = new float[headPixels * head.OutChannels];
                Features = new float[head.OutChannels];
                GradFeatures = new float[head.OutChannels];

                long boundary = headPixels * head.InChannels, middle = headPixels * head.OutChannels, second = 0;
                long pointwise = PointwiseConvolutionBackward.ScratchFloats(headPixels, head.InChannels, head.OutChannels);
                int squeeze = 0;
                foreach (BlockLayout b in blocks)
                {
                    int inPixels = b.InHeight * b.InWidth, outPixels = b.OutHeight * b.OutWidth;
                    boundary = Math.Max(boundary, Math.Max((long)inPixels * b.InChannels, (long)outPixels * b.OutChannels));
                    middle = Math.Max(middle, (long)outPixels * b.MidChannels);
                    second = Math.Max(second, (long)inPixels * b.MidChannels);
                    pointwise = Math.Max(pointwise, PointwiseConvolutionBackward.ScratchFloats(outPixels, b.MidChannels, b.OutChannels));
                    if (b.Expand != null)
                        pointwise = Math.Max(pointwise, PointwiseConvolutionBackward.ScratchFloats(inPixels, b.InChannels, b.MidChannels));
                    squeeze = Math.Max(squeeze, b.MidChannels + b.SqueezeChannels);
                }
                GradA = new float[boundary];
                GradB = new float[boundary];
                GradMiddle = new float[middle];
                GradSecond = new float[second];
                PointwiseScratch = new float[pointwise];
                SqueezeScratch = new float[squeeze];
            }

            public float[] Input { get; }
            public BlockTape[] Blocks { get; }
            /// <summary>The head conv's output before and after its activation, and its pooled features.</summary>
            public float[] HeadInput { get; }
            public float[] HeadMap { get; }
            public float[] Features { get; }

            // Backward scratch: the gradients at block boundaries (two, in turn), inside a block, and the kernels'.
            public float[] GradFeatures { get; }
            public float[] GradA { get; }
            public float[] GradB { get; }
            public float[] GradMiddle { get; }
            public float[] GradSecond { get; }
            public float[] PointwiseScratch { get; }
            public float[] SqueezeScratch { get; }
        }
    }
}
