using System;
using System.Collections.Generic;
using System.Linq;
using EffNet.Model;

namespace EffNet.Generator.Planning
{
    /// <summary>The activation tensors one MBConv block reads and writes.</summary>
    sealed class BlockTensors
    {
        public BlockTensors(BlockLayout block, PlannedTensor input, PlannedTensor? expanded, bool fusesExpand, PlannedTensor depthwise, PlannedTensor output, PlannedTensor? panel)
        {
            Block = block; Input = input; Expanded = expanded; FusesExpand = fusesExpand; Depthwise = depthwise; Output = output; Panel = panel;
        }

        /// <summary>The expand conv streams into the depthwise conv through row buffers; <see cref="Expanded"/> is null.</summary>
        public bool FusesExpand { get; }

        /// <summary>Scratch for the projection's gate-scaled weights; null when the gate scales the depthwise map in place.</summary>
        public PlannedTensor? Panel { get; }

        public BlockLayout Block { get; }
        public PlannedTensor Input { get; }
        public PlannedTensor? Expanded { get; }
        public PlannedTensor Depthwise { get; }
        public PlannedTensor Output { get; }
    }

    /// <summary>
    /// The forward pass as a sequence of steps over named tensors, with every tensor's place in the arena.
    /// Step order: stem; per block expand, depthwise (+ squeeze-excitation in place), project; head; pool; classifier.
    /// Blocks with a large expanded map run expand and depthwise as one step (<see cref="KernelChoices.StreamsExpansion"/>).
    /// </summary>
    sealed class ForwardPlan
    {
        ForwardPlan(NetworkLayout layout)
        {
            Layout = layout;
            int step = 0;
            StemOutput = new PlannedTensor("stem", "features.0", layout.Stem.OutHeight, layout.Stem.OutWidth, layout.Stem.OutChannels, step);
            var tensors = new List<PlannedTensor> { StemOutput };
            var blocks = new List<BlockTensors>();

            PlannedTensor current = StemOutput;
            foreach (BlockLayout b in layout.Blocks)
            {
                string name = "block" + b.Index;
                PlannedTensor? expanded = null;
                bool fuses = KernelChoices.StreamsExpansion(b);
                if (fuses)
                    RowBufferFloats = Math.Max(RowBufferFloats, ArenaPlanner.AlignUp(KernelChoices.RowBufferFloats(b.Kernel, b.InWidth, b.MidChannels)));
                else if (b.HasExpansion)
                {
                    step++;
                    current.ReadAt(step);
                    expanded = new PlannedTensor(name + "Expanded", b.Module + " expand", b.InHeight, b.InWidth, b.MidChannels, step);
                }
                step++;
                (expanded ?? current).ReadAt(step);
                var depthwise = new PlannedTensor(name + "Depthwise", b.Module + " depthwise", b.OutHeight, b.OutWidth, b.MidChannels, step);
                step++;
                depthwise.ReadAt(step);
                if (b.HasResidual) current.ReadAt(step);
                var output = new PlannedTensor(name + "Output", b.Module, b.OutHeight, b.OutWidth, b.OutChannels, step);
                // Scratch for the projection's weights scaled by the SE gate: live only while the projection runs.
                PlannedTensor? panel = KernelChoices.GatesMapInPlace(b) ? null
                    : new PlannedTensor(name + "Panel", b.Module + " gate-scaled projection weights", 1, 1, b.MidChannels * b.OutChannels, step, isScratch: true);

                blocks.Add(new BlockTensors(b, current, expanded, fuses, depthwise, output, panel));
                if (expanded != null) tensors.Add(expanded);
                tensors.Add(depthwise);
                tensors.Add(output);
                if (panel != null) tensors.Add(panel);
                current = output;
            }

            step++;
            current.ReadAt(step);
            HeadOutput = new PlannedTensor("head", "features.8", layout.Head.Height, layout.Head.Width, layout.Head.OutChannels, step);
            step++;
            HeadOutput.ReadAt(step);
            Features = new PlannedTensor("features", "avgpool", 1, 1, layout.FeatureCount, step);
            Features.ReadAt(step + 1); // the classifier reads it
            tensors.Add(HeadOutput);
            tensors.Add(Features);


            Blocks = blocks;
            Tensors = tensors;
            ArenaFloats = ArenaPlanner.Place(tensors);
            Largest = tensors.Where(t => !t.IsScratch).OrderByDescending(t => t.Floats).First();
        }

        public static ForwardPlan Create(NetworkLayout layout) => new ForwardPlan(layout);



        public NetworkLayout Layout { get; }
        public PlannedTensor StemOutput { get; }
        public IReadOnlyList<BlockTensors> Blocks { get; }
        public PlannedTensor HeadOutput { get; }
        public PlannedTensor Features { get; }
        public IReadOnlyList<PlannedTensor> Tensors { get; }
        public long ArenaFloats { get; }
        /// <summary>Floats of row buffers each thread needs after the arena (0 when no block fuses its expand conv).</summary>
        public long RowBufferFloats { get; }
        /// <summary>The largest activation tensor (scratch not counted).</summary>
        public PlannedTensor Largest { get; }
    }
}
