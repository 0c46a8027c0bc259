using System;
using System.Collections.Generic;
using System.Linq;
using EffNet.Kernels;
using EffNet.Model;

namespace EffNet.Planning
{
    /// <summary>The activation tensors one MBConv block reads and writes, and the kernel calls that compute it.</summary>
    sealed class BlockPlan
    {
        public BlockPlan(BlockLayout block, PlannedTensor input, PlannedTensor? expanded, PlannedTensor depthwise, PlannedTensor output,
                         PlannedTensor? panel, IReadOnlyList<KernelCall> calls)
        {
            Block = block; Input = input; Expanded = expanded; Depthwise = depthwise; Output = output; Panel = panel; Calls = calls;
        }

        public BlockLayout Block { get; }
        public PlannedTensor Input { get; }

        /// <summary>The whole expanded map; null without an expand conv or when it streams through row buffers (<see cref="FusesExpand"/>).</summary>
        public PlannedTensor? Expanded { get; }

        public PlannedTensor Depthwise { get; }
        public PlannedTensor Output { get; }

        /// <summary>Scratch for the projection's gate-scaled weights; null when the gate scales the depthwise map in place.</summary>
        public PlannedTensor? Panel { get; }

        /// <summary>In order: [expand], depthwise (or both fused), squeeze-excitation, [gate map], project.</summary>
        public IReadOnlyList<KernelCall> Calls { get; }

        /// <summary>The expand conv streams into the depthwise conv through row buffers; <see cref="Expanded"/> is null.</summary>
        public bool FusesExpand => Calls[0].Operation == Operation.ExpandDepthwise;
    }

    /// <summary>
    /// The forward pass as a sequence of kernel calls over named tensors, with every tensor's place in the arena. Both the
    /// generator (which prints the calls as C#) and the runtime model (which runs them) take the calls from here.
    /// Lifetime steps: stem; per block expand, depthwise (+ squeeze-excitation in place), project; head; pool; classifier.
    /// Blocks with a large expanded map run expand and depthwise as one step (<see cref="KernelChoices.StreamsExpansion"/>).
    /// A tensor lives from the step of the call that writes it to the step of the last call that reads it.
    /// </summary>
    sealed class ForwardPlan
    {
        ForwardPlan(NetworkLayout layout)
        {
            Layout = layout;
            int step = 0;
            StemLayout stem = layout.Stem;
            Image = new PlannedTensor("image", "the caller's CHW image", stem.InHeight, stem.InWidth, BlockTable.InputChannels, step);
            StemOutput = new PlannedTensor("stem", "features.0", stem.OutHeight, stem.OutWidth, stem.OutChannels, step);
            Stem = new KernelCall(Operation.Stem, step, stem.Conv, Image, StemOutput)
            {
                Stride = BlockTable.StemStride, PadTop = stem.PadTop, PadLeft = stem.PadLeft, Activation = Activation.SiLU, Stage = "features.0",
            };
            var tensors = new List<PlannedTensor> { StemOutput };
            var blocks = new List<BlockPlan>();

            PlannedTensor current = StemOutput;
            foreach (BlockLayout b in layout.Blocks)
            {
                BlockPlan block = PlanBlock(b, current, ref step);
                blocks.Add(block);
                if (block.Expanded != null) tensors.Add(block.Expanded);
                tensors.Add(block.Depthwise);
                tensors.Add(block.Output);
                if (block.Panel != null) tensors.Add(block.Panel);
                current = block.Output;
            }

            HeadLayout head = layout.Head;
            HeadOutput = new PlannedTensor("head", "features.8", head.Height, head.Width, head.OutChannels, ++step);
            Head = new KernelCall(Operation.Head, step, head.Conv, current, HeadOutput) { Activation = Activation.SiLU, Stage = "features.8" };
            Features = new PlannedTensor("features", "avgpool", 1, 1, layout.FeatureCount, ++step);
            Pool = new KernelCall(Operation.Pool, step, null, HeadOutput, Features) { Stage = "avgpool" };
            Classifier = new KernelCall(Operation.Classify, ++step, layout.Classifier, Features, null);
            tensors.Add(HeadOutput);
            tensors.Add(Features);

            Blocks = blocks;
            ForwardCalls = new[] { Stem }.Concat(blocks.SelectMany(b => b.Calls)).Concat(new[] { Head, Pool }).ToArray();
            foreach (KernelCall call in ForwardCalls.Concat(new[] { Classifier }))
            {
                call.Input.ReadAt(call.Step);
                call.Residual?.ReadAt(call.Step);
            }
            Tensors = tensors;
            ArenaFloats = ArenaPlanner.Place(tensors);
            Largest = tensors.Where(t => !t.IsScratch).OrderByDescending(t => t.Floats).First();
            GateFloats = layout.Blocks.Max(b => b.MidChannels);
            SqueezeFloats = layout.Blocks.Max(b => b.SqueezeChannels);
        }

        BlockPlan PlanBlock(BlockLayout b, PlannedTensor input, ref int step)
        {
            string name = "block" + b.Index;
            var calls = new List<KernelCall>();
            PlannedTensor? expanded = null;
            bool fuses = KernelChoices.StreamsExpansion(b);
            if (fuses)
                RowBufferFloats = Math.Max(RowBufferFloats, ArenaPlanner.AlignUp(KernelChoices.RowBufferFloats(b.Kernel, b.InWidth, b.MidChannels)));
            else if (b.Expand != null)
            {
                expanded = new PlannedTensor(name + "Expanded", b.Module + " expand", b.InHeight, b.InWidth, b.MidChannels, ++step);
                calls.Add(new KernelCall(Operation.Expand, step, b.Expand, input, expanded) { Activation = Activation.SiLU });
            }

            var depthwise = new PlannedTensor(name + "Depthwise", b.Module + " depthwise", b.OutHeight, b.OutWidth, b.MidChannels, ++step);
            calls.Add(fuses
                ? new KernelCall(Operation.ExpandDepthwise, step, b.Expand, input, depthwise)
                  { SecondWeights = b.Depthwise, Stride = b.Stride, PadTop = b.PadTop, PadLeft = b.PadLeft, Activation = Activation.SiLU }
                : new KernelCall(Operation.Depthwise, step, b.Depthwise, expanded ?? input, depthwise)
                  { Stride = b.Stride, PadTop = b.PadTop, PadLeft = b.PadLeft, Activation = Activation.SiLU });
            calls.Add(new KernelCall(Operation.SqueezeExcitation, step, b.SqueezeReduce, depthwise, null) { SecondWeights = b.SqueezeExpand });
            bool gatesMap = KernelChoices.GatesMapInPlace(b);
            if (gatesMap)
                calls.Add(new KernelCall(Operation.GateMap, step, null, depthwise, depthwise));

            var output = new PlannedTensor(name + "Output", b.Module, b.OutHeight, b.OutWidth, b.OutChannels, ++step);
            // Scratch for the projection's weights scaled by the SE gate: live only while the projection runs.
            PlannedTensor? panel = gatesMap ? null
                : new PlannedTensor(name + "Panel", b.Module + " gate-scaled projection weights", 1, 1, b.MidChannels * b.OutChannels, step, isScratch: true);
            calls.Add(new KernelCall(Operation.Project, step, b.Project, depthwise, output)
            {
                Residual = b.HasResidual ? input : null, Panel = panel, Activation = Activation.None,
                Stage = b.EndsStage ? "features." + b.Stage : null,
            });
            return new BlockPlan(b, input, expanded, depthwise, output, panel, calls);
        }

        public static ForwardPlan Create(NetworkLayout layout) => new ForwardPlan(layout);

        public NetworkLayout Layout { get; }

        /// <summary>The caller's image: the stem's input, not in the arena (its offset stays -1).</summary>
        public PlannedTensor Image { get; }

        public PlannedTensor StemOutput { get; }
        public IReadOnlyList<BlockPlan> Blocks { get; }
        public PlannedTensor HeadOutput { get; }
        public PlannedTensor Features { get; }

        public KernelCall Stem { get; }
        public KernelCall Head { get; }
        public KernelCall Pool { get; }
        public KernelCall Classifier { get; }

        /// <summary>Image to pooled features, in order: the stem, every block's calls, the head and the pool (the classifier is separate).</summary>
        public IReadOnlyList<KernelCall> ForwardCalls { get; }

        /// <summary>The activation tensors and scratch placed in the arena (not the image).</summary>
        public IReadOnlyList<PlannedTensor> Tensors { get; }

        public long ArenaFloats { get; }
        /// <summary>Floats of row buffers each thread needs after the arena (0 when no block fuses its expand conv).</summary>
        public long RowBufferFloats { get; private set; }
        /// <summary>The largest activation tensor (scratch not counted).</summary>
        public PlannedTensor Largest { get; }

        /// <summary>Floats of the largest block's SE gate (its expanded channels) and of its squeeze scratch.</summary>
        public int GateFloats { get; }
        public int SqueezeFloats { get; }
    }
}
