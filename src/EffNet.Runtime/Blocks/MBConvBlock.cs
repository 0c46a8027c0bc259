using System.Collections.Generic;
using System.Globalization;
using System.Text;
using EffNet.Kernels;
using EffNet.Model;
using EffNet.Planning;

namespace EffNet.Blocks
{
    /// <summary>
    /// The inverted-residual block (MBConv): [expand 1x1 + activation] -> depthwise k x k + activation ->
    /// [squeeze-excitation] -> project 1x1 [+ input]. B-series and Lite blocks are all of this kind.
    /// </summary>
    sealed class MBConvBlock : BlockLowering
    {
        public static readonly MBConvBlock Instance = new MBConvBlock();

        public override bool TakesSqueezeExcitation => true;

        internal enum Role { Expand, Depthwise, SqueezeReduce, SqueezeExpand, Project }

        /// <summary>One weighted layer of the block: its kind, and its module and BatchNorm names relative to the block.</summary>
        internal sealed class Part
        {
            public Part(Role role, LayerKind kind, string torchvision, string? torchvisionNorm, string timm, string? timmNorm)
            {
                Role = role; Kind = kind; Torchvision = torchvision; TorchvisionNorm = torchvisionNorm; Timm = timm; TimmNorm = timmNorm;
            }

            public Role Role { get; }
            public LayerKind Kind { get; }
            public string Torchvision { get; }
            public string? TorchvisionNorm { get; }
            public string Timm { get; }
            public string? TimmNorm { get; }

            public string Module(KeyStyle keys) => keys == KeyStyle.Timm ? Timm : Torchvision;
            public string? Norm(KeyStyle keys) => keys == KeyStyle.Timm ? TimmNorm : TorchvisionNorm;
        }

        /// <summary>
        /// The block's layers in state-dict order. torchvision numbers the submodules of <c>block</c> consecutively, so a
        /// missing expansion shifts the rest down by one; timm calls a block without expansion a depthwise-separable conv,
        /// whose <c>conv_pw</c> is the projection rather than the expansion.
        /// </summary>
        internal static IReadOnlyList<Part> Parts(bool expansion, bool squeeze)
        {
            var parts = new List<Part>();
            int i = 0;
            string Tv(string suffix) => "block." + i.ToString(CultureInfo.InvariantCulture) + suffix;
            if (expansion)
            {
                parts.Add(new Part(Role.Expand, LayerKind.Pointwise, Tv(".0"), Tv(".1"), "conv_pw", "bn1"));
                i++;
            }
            parts.Add(new Part(Role.Depthwise, LayerKind.Depthwise, Tv(".0"), Tv(".1"), "conv_dw", expansion ? "bn2" : "bn1"));
            i++;
            if (squeeze)
            {
                parts.Add(new Part(Role.SqueezeReduce, LayerKind.SqueezeReduce, Tv(".fc1"), null, "se.conv_reduce", null));
                parts.Add(new Part(Role.SqueezeExpand, LayerKind.SqueezeExpand, Tv(".fc2"), null, "se.conv_expand", null));
                i++;
            }
            parts.Add(new Part(Role.Project, LayerKind.Pointwise, Tv(".0"), Tv(".1"), expansion ? "conv_pwl" : "conv_pw", expansion ? "bn3" : "bn2"));
            return parts;
        }

        public override void AddLayers(BlockLayout b, KeyStyle keys)
        {
            var layers = new List<ConvLayer>();
            foreach (Part part in Parts(b.HasExpansion, b.HasSqueezeExcitation))
            {
                var (inChannels, outChannels, kernel) = part.Role switch
                {
                    Role.Expand => (b.InChannels, b.MidChannels, 1),
                    Role.Depthwise => (b.MidChannels, b.MidChannels, b.Kernel),
                    Role.SqueezeReduce => (b.MidChannels, b.SqueezeChannels, 1),
                    Role.SqueezeExpand => (b.SqueezeChannels, b.MidChannels, 1),
                    _ => (b.MidChannels, b.OutChannels, 1),
                };
                string? norm = part.Norm(keys);
                var layer = new ConvLayer(part.Kind, b.Module + "." + part.Module(keys), norm == null ? null : b.Module + "." + norm,
                                          inChannels, outChannels, kernel);
                layers.Add(layer);
                switch (part.Role)
                {
                    case Role.Expand: b.Expand = layer; break;
                    case Role.Depthwise: b.Depthwise = layer; break;
                    case Role.SqueezeReduce: b.SqueezeReduce = layer; break;
                    case Role.SqueezeExpand: b.SqueezeExpand = layer; break;
                    default: b.Project = layer; break;
                }
            }
            b.Layers = layers;
        }

        public override long MultiplyAdds(BlockLayout b)
        {
            long macs = 0;
            if (b.Expand != null) macs += (long)b.InHeight * b.InWidth * b.Expand.WeightLength;
            macs += (long)b.OutHeight * b.OutWidth * b.Depthwise!.WeightLength;
            if (b.SqueezeReduce != null) macs += b.SqueezeReduce.WeightLength + b.SqueezeExpand!.WeightLength;
            macs += (long)b.OutHeight * b.OutWidth * b.Project!.WeightLength;
            return macs;
        }

        // in/mid/kernel/stride/squeeze/out; the first release's text, kept so B-series blobs keep their fingerprints.
        public override void Describe(BlockLayout b, StringBuilder text)
            => text.Append(b.InChannels).Append('/').Append(b.MidChannels).Append('/').Append(b.Kernel).Append('/')
                   .Append(b.Stride).Append('/').Append(b.SqueezeChannels).Append('/').Append(b.OutChannels).Append(';');

        public override string Summary(BlockLayout b)
            => $"MBConv{b.ExpandRatio}, {b.Kernel}x{b.Kernel} depthwise stride {b.Stride}, " +
               $"{b.InChannels} -> {b.MidChannels} -> {b.OutChannels} channels, {b.InHeight}x{b.InWidth} -> {b.OutHeight}x{b.OutWidth}, " +
               (b.HasSqueezeExcitation ? $"squeeze-excitation {b.SqueezeChannels}" : "no squeeze-excitation") +
               $", {b.Activation}{(b.HasResidual ? ", residual" : "")}";

        /// <summary>
        /// Calls: [expand], depthwise (or both fused, <see cref="KernelChoices.StreamsExpansion"/>), [squeeze-excitation,
        /// [gate map]], project. With squeeze-excitation, the depthwise call writes channel sums to the gate buffer for it;
        /// the gate then scales either the depthwise map in place or the projection's weights (written to a scratch panel).
        /// </summary>
        public override BlockPlan Plan(BlockLayout b, PlannedTensor input, PlanSteps steps)
        {
            string name = "block" + b.Index.ToString(CultureInfo.InvariantCulture);
            var calls = new List<KernelCall>();
            var locals = new List<BlockTensor> { new BlockTensor("input", input, readOnly: true) };
            PlannedTensor? expanded = null;
            bool fuses = KernelChoices.StreamsExpansion(b);
            if (fuses)
                steps.NeedRowBuffers(ArenaPlanner.AlignUp(KernelChoices.RowBufferFloats(b.Kernel, b.InWidth, b.MidChannels)));
            else if (b.Expand != null)
            {
                expanded = new PlannedTensor(name + "Expanded", b.Module + " expand", b.InHeight, b.InWidth, b.MidChannels, steps.Next());
                locals.Add(new BlockTensor("expanded", expanded));
                PlannedTensor? expandLevels = KernelCall.QuantizedInputFor(b.Expand, input, name + "ExpandLevels", steps.Step);
                if (expandLevels != null) locals.Add(new BlockTensor("expandLevels", expandLevels));
                calls.Add(new KernelCall(Operation.Expand, steps.Step, b.Expand, input, expanded) { Activation = b.Activation, QuantizedInput = expandLevels });
            }

            var depthwise = new PlannedTensor(name + "Depthwise", b.Module + " depthwise", b.OutHeight, b.OutWidth, b.MidChannels, steps.Next());
            locals.Add(new BlockTensor("depthwise", depthwise));
            calls.Add(fuses
                ? new KernelCall(Operation.ExpandDepthwise, steps.Step, b.Expand, input, depthwise)
                  { SecondWeights = b.Depthwise, Stride = b.Stride, PadTop = b.PadTop, PadLeft = b.PadLeft, Activation = b.Activation, SumsChannels = b.HasSqueezeExcitation }
                : new KernelCall(Operation.Depthwise, steps.Step, b.Depthwise, expanded ?? input, depthwise)
                  { Stride = b.Stride, PadTop = b.PadTop, PadLeft = b.PadLeft, Activation = b.Activation, SumsChannels = b.HasSqueezeExcitation });

            bool gatesMap = false;
            if (b.HasSqueezeExcitation)
            {
                calls.Add(new KernelCall(Operation.SqueezeExcitation, steps.Step, b.SqueezeReduce, depthwise, null) { SecondWeights = b.SqueezeExpand });
                gatesMap = KernelChoices.GatesMapInPlace(b);
                if (gatesMap)
                    calls.Add(new KernelCall(Operation.GateMap, steps.Step, null, depthwise, depthwise));
            }

            var output = new PlannedTensor(name + "Output", b.Module, b.OutHeight, b.OutWidth, b.OutChannels, steps.Next());
            locals.Add(new BlockTensor("output", output));
            // Scratch live only while the projection runs: its u8 input in int8, or in float32 its weights scaled by the gate.
            bool gatesInput = b.HasSqueezeExcitation && !gatesMap;
            PlannedTensor? levels = KernelCall.QuantizedInputFor(b.Project, depthwise, name + "ProjectLevels", steps.Step);
            PlannedTensor? panel = gatesInput && levels == null
                ? new PlannedTensor(name + "Panel", b.Module + " gate-scaled projection weights", 1, 1, b.MidChannels * b.OutChannels, steps.Step, isScratch: true)
                : null;
            if (panel != null)
                locals.Add(new BlockTensor("panel", panel));
            if (levels != null)
                locals.Add(new BlockTensor("projectLevels", levels));
            calls.Add(new KernelCall(Operation.Project, steps.Step, b.Project, depthwise, output)
            {
                Residual = b.HasResidual ? input : null, Panel = panel, GatesInput = gatesInput, QuantizedInput = levels,
                Activation = Activation.None, Stage = b.StageOutput,
            });
            // Without squeeze-excitation there is no gate: the depthwise call sums nothing.
            return new BlockPlan(b, input, output, locals, calls, gateFloats: b.HasSqueezeExcitation ? b.MidChannels : 0, squeezeFloats: b.SqueezeChannels);
        }
    }
}
