using System;
using EffNet.Blocks;
using EffNet.Kernels;
using EffNet.Model;
using EffNet.Threading;

namespace EffNet.Planning
{
    /// <summary>
    /// Runs the kernel calls of a <see cref="ForwardPlan"/>: the calls generated code makes with literals, with the numbers
    /// read from the plan. The generator's <c>ModelEmitter.WriteCall</c> prints the same calls; the two must pass the same
    /// arguments, which the tests check by comparing every output bit with the generated classes'. Allocates nothing.
    /// </summary>
    static class PlanExecutor
    {
        /// <summary>Image to pooled features (left at <see cref="ForwardPlan.Features"/> in the arena); stage outputs go to the observer.</summary>
        /// <param name="beforeCall">sees each call's input just before it runs (the quantiser's calibration), or null</param>
        public static void Forward(ForwardPlan plan, ReadOnlySpan<float> image, ReadOnlySpan<float> w, Span<float> arena,
                                   WorkerPool? workers, StageObserver? observer, CallInputObserver? beforeCall = null)
            => ForwardCalls(plan, plan.ForwardCalls.Count, image, w, arena, workers, observer, beforeCall);

        /// <summary>
        /// The forward pass up to the input of block <paramref name="block"/>, which it leaves at that block's
        /// <see cref="BlockPlan.Input"/> in the arena (fine-tuning's frozen trunk).
        /// </summary>
        public static void ForwardToBlock(ForwardPlan plan, int block, ReadOnlySpan<float> image, ReadOnlySpan<float> w, Span<float> arena, WorkerPool? workers)
        {
            KernelCall first = plan.Blocks[block].Calls[0];
            int end = 0;
            while (plan.ForwardCalls[end] != first) end++;
            ForwardCalls(plan, end, image, w, arena, workers, null, null);
        }

        // The first <paramref name="end"/> calls of the forward pass.
        static void ForwardCalls(ForwardPlan plan, int end, ReadOnlySpan<float> image, ReadOnlySpan<float> w, Span<float> arena,
                            WorkerPool? workers, StageObserver? observer, CallInputObserver? beforeCall)
        {
            // The SE gate and squeeze scratch of the widest block, on the stack as in generated code; each block uses the
            // front of them. The depthwise kernels clear the sums they write, so nothing carries over from the block before.
            Span<float> gate = stackalloc float[plan.GateFloats];
            Span<float> squeeze = stackalloc float[plan.SqueezeFloats];
            Span<float> rowBuffers = arena.Slice(checked((int)plan.ArenaFloats));
            var buffers = new Scratch(gate, squeeze, rowBuffers);
            for (int i = 0; i < end; i++) // an index, not foreach: no enumerator is allocated
            {
                KernelCall call = plan.ForwardCalls[i];
                if (beforeCall != null && call.Input != plan.Image)
                    beforeCall(call, Slice(arena, call.Input), call.GatesInput ? gate.Slice(0, call.Input.Channels) : default);
                Run(call, image, w, arena, buffers, workers);
                if (call.Stage != null && call.Output is PlannedTensor output)
                    observer?.Invoke(call.Stage, Slice(arena, output), output.Height, output.Width, output.Channels);
            }
        }

        /// <summary>
        /// The input of a kernel call just before the call runs, with the squeeze-excitation gate the call multiplies it by
        /// (empty when none): what the quantiser's calibration measures.
        /// </summary>
        public delegate void CallInputObserver(KernelCall call, ReadOnlySpan<float> input, ReadOnlySpan<float> gate);

        /// <summary>
        /// One call of the forward pass alone, on whatever the arena holds (the benchmark's per-layer breakdown): the scratch
        /// is sized as <see cref="Forward"/> sizes it; the classifier writes <paramref name="logits"/>.
        /// </summary>
        public static void RunOne(ForwardPlan plan, KernelCall call, ReadOnlySpan<float> image, ReadOnlySpan<float> w, Span<float> arena,
                                  Span<float> logits, WorkerPool? workers)
        {
            if (call.Operation == Operation.Classify)
            {
                Classify(plan, w, arena, logits, workers);
                return;
            }
            Span<float> gate = stackalloc float[plan.GateFloats];
            Span<float> squeeze = stackalloc float[plan.SqueezeFloats];
            Run(call, image, w, arena, new Scratch(gate, squeeze, arena.Slice(checked((int)plan.ArenaFloats))), workers);
        }

        /// <summary>The classifier on the pooled features <see cref="Forward"/> left in the arena.</summary>
        public static void Classify(ForwardPlan plan, ReadOnlySpan<float> w, Span<float> arena, Span<float> logits, WorkerPool? workers)
        {
            KernelCall call = plan.Classifier;
            ConvLayer fc = call.Weights!;
            FullyConnected.Run(Slice(arena, call.Input), Weights(w, fc), Bias(w, fc), logits, call.Input.Channels, fc.OutChannels, workers);
        }

        /// <summary>The buffers outside the arena's planned tensors: the current block's gate and squeeze, and the row buffers.</summary>
        readonly ref struct Scratch
        {
            public Scratch(Span<float> gate, Span<float> squeeze, Span<float> rowBuffers)
            {
                Gate = gate; Squeeze = squeeze; RowBuffers = rowBuffers;
            }

            public Span<float> Gate { get; }
            public Span<float> Squeeze { get; }
            public Span<float> RowBuffers { get; }
        }

        static void Run(KernelCall call, ReadOnlySpan<float> image, ReadOnlySpan<float> w, Span<float> arena, in Scratch scratch, WorkerPool? workers)
        {
            PlannedTensor input = call.Input;
            switch (call.Operation)
            {
                case Operation.Stem:
                {
                    ConvLayer conv = call.Weights!;
                    PlannedTensor output = call.Output!;
                    StemConvolution.Run(image, input.Channels, input.Height, input.Width, Weights(w, conv), Bias(w, conv),
                        conv.Kernel, call.Stride, call.PadTop, call.PadLeft,
                        Slice(arena, output), output.Height, output.Width, output.Channels, call.Activation, workers);
                    break;
                }
                case Operation.Convolution:
                {
                    ConvLayer conv = call.Weights!;
                    PlannedTensor output = call.Output!;
                    if (conv.Precision == EfficientNetPrecision.Int8)
                    {
                        ConvolutionInt8.RunLayer(Slice(arena, input), input.Height, input.Width, input.Channels, InputQuantization(w, conv),
                            StoredWeights(w, conv), WeightScales(w, conv), Bias(w, conv),
                            conv.Kernel, call.Stride, call.PadTop, call.PadLeft, Slice(arena, output), output.Height, output.Width, output.Channels,
                            call.Activation, call.Residual != null ? Slice(arena, call.Residual) : default, Slice(arena, call.QuantizedInput!),
                            scratch.RowBuffers, workers);
                        break;
                    }
                    Convolution.Run(Slice(arena, input), input.Height, input.Width, input.Channels, Weights(w, conv), Bias(w, conv),
                        conv.Kernel, call.Stride, call.PadTop, call.PadLeft, Slice(arena, output), output.Height, output.Width, output.Channels,
                        call.Activation, call.Residual != null ? Slice(arena, call.Residual) : default, workers);
                    break;
                }
                case Operation.ConvolutionWinograd:
                {
                    ConvLayer conv = call.Weights!;
                    PlannedTensor output = call.Output!;
                    ConvolutionWinograd2x2.Run(Slice(arena, input), input.Height, input.Width, input.Channels, Weights(w, conv), Bias(w, conv),
                        call.PadTop, call.PadLeft, Slice(arena, output), output.Height, output.Width, output.Channels, call.Activation,
                        call.Residual != null ? Slice(arena, call.Residual) : default, Slice(arena, call.Panel!), scratch.RowBuffers, workers);
                    break;
                }
                case Operation.Expand:
                case Operation.Project:
                case Operation.Head:
                {
                    ConvLayer conv = call.Weights!;
                    PlannedTensor output = call.Output!;
                    if (conv.Precision == EfficientNetPrecision.Int8)
                    {
                        RunInt8(call, w, arena, scratch, workers);
                        break;
                    }
                    bool gated = call.Panel != null;
                    PointwiseConvolution.Run(Slice(arena, input), Weights(w, conv), Bias(w, conv), Slice(arena, output),
                        input.Pixels, input.Channels, output.Channels, call.Activation,
                        residual: call.Residual != null ? Slice(arena, call.Residual) : default,
                        inputScale: gated ? scratch.Gate.Slice(0, input.Channels) : default,
                        panelScratch: gated ? Slice(arena, call.Panel!) : default,
                        workers: workers);
                    break;
                }
                case Operation.ExpandDepthwise:
                {
                    ConvLayer expand = call.Weights!, dw = call.SecondWeights!;
                    PlannedTensor output = call.Output!;
                    ExpandDepthwise.Run(Slice(arena, input), input.Height, input.Width, input.Channels,
                        Weights(w, expand), Bias(w, expand), output.Channels,
                        Weights(w, dw), Bias(w, dw), dw.Kernel, call.Stride, call.PadTop, call.PadLeft,
                        Slice(arena, output), output.Height, output.Width, call.Activation, Sums(call, scratch), scratch.RowBuffers, workers);
                    break;
                }
                case Operation.Depthwise:
                {
                    ConvLayer dw = call.Weights!;
                    PlannedTensor output = call.Output!;
                    DepthwiseConvolution.Run(Slice(arena, input), input.Height, input.Width, input.Channels,
                        Weights(w, dw), Bias(w, dw), dw.Kernel, call.Stride, call.PadTop, call.PadLeft,
                        Slice(arena, output), output.Height, output.Width, call.Activation, Sums(call, scratch), workers);
                    break;
                }
                case Operation.SqueezeExcitation:
                {
                    ConvLayer reduce = call.Weights!, expand = call.SecondWeights!;
                    SqueezeExcitation.Run(scratch.Gate.Slice(0, input.Channels), input.Pixels, input.Channels,
                        Weights(w, reduce), Bias(w, reduce), Weights(w, expand), Bias(w, expand),
                        reduce.OutChannels, scratch.Squeeze.Slice(0, reduce.OutChannels));
                    break;
                }
                case Operation.GateMap:
                    SqueezeExcitation.ScaleChannels(Slice(arena, call.Output!), scratch.Gate.Slice(0, input.Channels), input.Pixels, input.Channels);
                    break;
                case Operation.Pool:
                    GlobalAveragePool.Run(Slice(arena, input), input.Pixels, input.Channels, Slice(arena, call.Output!));
                    break;
                default:
                    throw new InvalidOperationException($"The forward pass has no kernel for {call.Operation}.");
            }
        }

        // An int8 1x1 conv: the call the generated code prints for it (ModelEmitter.WritePointwise).
        static void RunInt8(KernelCall call, ReadOnlySpan<float> w, Span<float> arena, in Scratch scratch, WorkerPool? workers)
        {
            ConvLayer conv = call.Weights!;
            PlannedTensor input = call.Input;
            PointwiseConvolutionInt8.RunLayer(Slice(arena, input), input.Pixels, input.Channels,
                call.GatesInput ? scratch.Gate.Slice(0, input.Channels) : default, InputQuantization(w, conv),
                StoredWeights(w, conv), WeightScales(w, conv), Bias(w, conv),
                conv.OutChannels, call.Activation, Slice(arena, call.Output!), call.Residual != null ? Slice(arena, call.Residual) : default,
                Slice(arena, call.QuantizedInput!), workers);
        }

        // The gate buffer the depthwise call sums into, or nothing when no squeeze-excitation follows.
        static Span<float> Sums(KernelCall call, in Scratch scratch) => call.SumsChannels ? scratch.Gate.Slice(0, call.Output!.Channels) : default;

        static Span<float> Slice(Span<float> arena, PlannedTensor t) => arena.Slice((int)t.Offset, (int)t.Floats);

        static ReadOnlySpan<float> Weights(ReadOnlySpan<float> w, ConvLayer layer) => w.Slice((int)layer.WeightOffset, (int)layer.WeightLength);

        static ReadOnlySpan<float> Bias(ReadOnlySpan<float> w, ConvLayer layer) => w.Slice((int)layer.BiasOffset, (int)layer.BiasLength);

        // An int8 layer's tensors (docs/weight-format.md): its input's scale and zero point, its weights' floats (the s8
        // levels, four to a float) and its per-channel weight scales.
        static ReadOnlySpan<float> InputQuantization(ReadOnlySpan<float> w, ConvLayer layer) => w.Slice((int)layer.InputQuantizationOffset, 2);

        static ReadOnlySpan<float> StoredWeights(ReadOnlySpan<float> w, ConvLayer layer) => w.Slice((int)layer.WeightOffset, (int)layer.WeightFloats);

        static ReadOnlySpan<float> WeightScales(ReadOnlySpan<float> w, ConvLayer layer) => w.Slice((int)layer.WeightScaleOffset, layer.OutChannels);
    }
}
