using System.Collections.Generic;
using System.Globalization;
using System.Text;
using EffNet.Kernels;
using EffNet.Model;
using EffNet.Planning;

namespace EffNet.Blocks
{
    /// <summary>
    /// EfficientNetV2's Fused-MBConv: expand k x k + activation -> project 1x1 [+ input]; at expand ratio 1 a single
    /// k x k conv + activation [+ input]. No depthwise conv and no squeeze-excitation: the expansion runs as a dense
    /// convolution (EffNet.Kernels.Convolution), which suits the early, large maps better than depthwise work.
    /// </summary>
    sealed class FusedMBConvBlock : BlockLowering
    {
        public static readonly FusedMBConvBlock Instance = new FusedMBConvBlock();

        public override bool TakesSqueezeExcitation => false;

        // torchvision names both convs block.N.0 with their BatchNorm at block.N.1; there is no timm V2 layout here.
        public override void AddLayers(BlockLayout b, KeyStyle keys)
        {
            var layers = new List<ConvLayer>();
            string p = b.Module + ".block.";
            if (b.HasExpansion)
            {
                b.Expand = new ConvLayer(LayerKind.Convolution, p + "0.0", p + "0.1", b.InChannels, b.MidChannels, b.Kernel);
                b.Project = new ConvLayer(LayerKind.Pointwise, p + "1.0", p + "1.1", b.MidChannels, b.OutChannels, 1);
                layers.Add(b.Expand);
                layers.Add(b.Project);
            }
            else
            {
                b.Expand = new ConvLayer(LayerKind.Convolution, p + "0.0", p + "0.1", b.InChannels, b.OutChannels, b.Kernel);
                layers.Add(b.Expand);
            }
            b.Layers = layers;
        }

        public override long MultiplyAdds(BlockLayout b)
            => (long)b.OutHeight * b.OutWidth * (b.Expand!.WeightLength + (b.Project?.WeightLength ?? 0));

        // "F" and in/mid/kernel/stride/out: a fused block never has squeeze-excitation.
        public override void Describe(BlockLayout b, StringBuilder text)
            => text.Append('F').Append(b.InChannels).Append('/').Append(b.MidChannels).Append('/').Append(b.Kernel).Append('/')
                   .Append(b.Stride).Append('/').Append(b.OutChannels).Append(';');

        public override string Summary(BlockLayout b)
            => (b.HasExpansion
                   ? $"Fused-MBConv{b.ExpandRatio}, {b.Kernel}x{b.Kernel} expand stride {b.Stride} and 1x1 project, {b.InChannels} -> {b.MidChannels} -> {b.OutChannels} channels"
                   : $"Fused-MBConv1, one {b.Kernel}x{b.Kernel} conv stride {b.Stride}, {b.InChannels} -> {b.OutChannels} channels") +
               $", {b.InHeight}x{b.InWidth} -> {b.OutHeight}x{b.OutWidth}, {b.Activation}{(b.HasResidual ? ", residual" : "")}";

        public override BlockPlan Plan(BlockLayout b, PlannedTensor input, PlanSteps steps)
        {
            string name = "block" + b.Index.ToString(CultureInfo.InvariantCulture);
            var calls = new List<KernelCall>();
            var locals = new List<BlockTensor> { new BlockTensor("input", input, readOnly: true) };
            PlannedTensor? residual = b.HasResidual ? input : null;
            PlannedTensor output;
            if (b.HasExpansion)
            {
                var expanded = new PlannedTensor(name + "Expanded", b.Module + " expand", b.OutHeight, b.OutWidth, b.MidChannels, steps.Next());
                locals.Add(new BlockTensor("expanded", expanded));
                PlannedTensor? convLevels = ConvolutionLevels(b, input, name, steps);
                if (convLevels != null) locals.Add(new BlockTensor("convLevels", convLevels));
                PlannedTensor? transformed = WinogradWeights(b, name, steps);
                if (transformed != null) locals.Add(new BlockTensor("transformed", transformed));
                calls.Add(new KernelCall(transformed != null ? Operation.ConvolutionWinograd : Operation.Convolution, steps.Step, b.Expand, input, expanded)
                          { Stride = b.Stride, PadTop = b.PadTop, PadLeft = b.PadLeft, Activation = b.Activation, QuantizedInput = convLevels, Panel = transformed });
                output = new PlannedTensor(name + "Output", b.Module, b.OutHeight, b.OutWidth, b.OutChannels, steps.Next());
                locals.Add(new BlockTensor("output", output));
                PlannedTensor? levels = KernelCall.QuantizedInputFor(b.Project, expanded, name + "ProjectLevels", steps.Step);
                if (levels != null) locals.Add(new BlockTensor("projectLevels", levels));
                calls.Add(new KernelCall(Operation.Project, steps.Step, b.Project, expanded, output)
                          { Residual = residual, Activation = Activation.None, Stage = b.StageOutput, QuantizedInput = levels });
            }
            else
            {
                output = new PlannedTensor(name + "Output", b.Module, b.OutHeight, b.OutWidth, b.OutChannels, steps.Next());
                locals.Add(new BlockTensor("output", output));
                PlannedTensor? convLevels = ConvolutionLevels(b, input, name, steps);
                if (convLevels != null) locals.Add(new BlockTensor("convLevels", convLevels));
                PlannedTensor? transformed = WinogradWeights(b, name, steps);
                if (transformed != null) locals.Add(new BlockTensor("transformed", transformed));
                calls.Add(new KernelCall(transformed != null ? Operation.ConvolutionWinograd : Operation.Convolution, steps.Step, b.Expand, input, output)
                          { Stride = b.Stride, PadTop = b.PadTop, PadLeft = b.PadLeft, Activation = b.Activation, Residual = residual, Stage = b.StageOutput,
                            QuantizedInput = convLevels, Panel = transformed });
            }
            return new BlockPlan(b, input, output, locals, calls, gateFloats: 0, squeezeFloats: 0);
        }

        // A Winograd conv's transformed weights (scratch during the call) and its tiles' row buffers, or null for the direct conv.
        static PlannedTensor? WinogradWeights(BlockLayout b, string name, PlanSteps steps)
        {
            if (!KernelChoices.ConvolvesByWinograd(b))
                return null;
            ConvLayer conv = b.Expand!;
            steps.NeedRowBuffers(ArenaPlanner.AlignUp(KernelChoices.WinogradRowBufferFloats(conv.InChannels, conv.OutChannels)));
            return new PlannedTensor(name + "Transformed", b.Module + " Winograd-transformed conv weights", 1, 1,
                                     checked((int)KernelChoices.WinogradWeightFloats(conv.InChannels, conv.OutChannels)), steps.Step, isScratch: true);
        }

        // An int8 conv's input as u8 levels (scratch during the call), and a row of gathered windows per thread.
        static PlannedTensor? ConvolutionLevels(BlockLayout b, PlannedTensor input, string name, PlanSteps steps)
        {
            PlannedTensor? levels = KernelCall.QuantizedInputFor(b.Expand, input, name + "ConvLevels", steps.Step);
            if (levels != null)
                steps.NeedRowBuffers(KernelChoices.WindowRowFloats(b.OutWidth, b.Kernel, b.InChannels));
            return levels;
        }
    }
}
