using System;
using System.Collections.Generic;
using System.Linq;
using EffNet.Blocks;
using EffNet.Model;

namespace EffNet.Planning
{
    /// <summary>
    /// The forward pass as a sequence of kernel calls over named tensors, with every tensor's place in the arena. Both the
    /// generator (which prints the calls as C#) and the runtime model (which runs them) take the calls from here.
    /// Lifetime steps: stem; each block's steps, from the lowering of its kind (EffNet.Blocks); head; pool; classifier.
    /// A tensor lives from the step of the call that writes it to the step of the last call that reads it.
    /// </summary>
    sealed class ForwardPlan
    {
        ForwardPlan(NetworkLayout layout)
        {
            Layout = layout;
            var steps = new PlanSteps();
            StemLayout stem = layout.Stem;
            string stemStage = ModuleNames.StemStage(layout.Config.FamilySpec.Keys);
            Image = new PlannedTensor("image", "the caller's CHW image", stem.InHeight, stem.InWidth, FamilySpec.InputChannels, steps.Step);
            StemOutput = new PlannedTensor("stem", stemStage, stem.OutHeight, stem.OutWidth, stem.OutChannels, steps.Step);
            Stem = new KernelCall(Operation.Stem, steps.Step, stem.Conv, Image, StemOutput)
            {
                Stride = FamilySpec.StemStride, PadTop = stem.PadTop, PadLeft = stem.PadLeft, Activation = stem.Activation, Stage = stemStage,
            };
            var tensors = new List<PlannedTensor> { StemOutput };
            var blocks = new List<BlockPlan>();

            PlannedTensor current = StemOutput;
            foreach (BlockLayout b in layout.Blocks)
            {
                BlockPlan block = BlockLowering.For(b.Kind).Plan(b, current, steps);
                blocks.Add(block);
                tensors.AddRange(block.Tensors);
                current = block.Output;
            }

            HeadLayout head = layout.Head;
            string pool = ModuleNames.Pool(layout.Config.FamilySpec.Keys);
            HeadOutput = new PlannedTensor("head", head.Stage, head.Height, head.Width, head.OutChannels, steps.Next());
            PlannedTensor? headLevels = KernelCall.QuantizedInputFor(head.Conv, current, "headLevels", steps.Step);
            Head = new KernelCall(Operation.Head, steps.Step, head.Conv, current, HeadOutput)
            {
                Activation = head.Activation, Stage = head.Stage, QuantizedInput = headLevels,
            };
            Features = new PlannedTensor("features", pool, 1, 1, layout.FeatureCount, steps.Next());
            Pool = new KernelCall(Operation.Pool, steps.Step, null, HeadOutput, Features) { Stage = pool };
            Classifier = new KernelCall(Operation.Classify, steps.Next(), layout.Classifier, Features, null);
            tensors.Add(HeadOutput);
            if (headLevels != null) tensors.Add(headLevels);
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
            RowBufferFloats = steps.RowBufferFloats;
            Largest = tensors.Where(t => !t.IsScratch).OrderByDescending(t => t.Floats).First();
            GateFloats = blocks.Max(b => b.GateFloats);
            SqueezeFloats = blocks.Max(b => b.SqueezeFloats);
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
        public long RowBufferFloats { get; }
        /// <summary>The largest activation tensor (scratch not counted).</summary>
        public PlannedTensor Largest { get; }

        /// <summary>Floats of the largest block's SE gate (its expanded channels) and of its squeeze scratch.</summary>
        public int GateFloats { get; }
        public int SqueezeFloats { get; }
    }
}
