using System;
using System.Collections.Generic;
using System.Text;
using EffNet.Model;
using EffNet.Planning;

namespace EffNet.Blocks
{
    /// <summary>
    /// Everything the pipeline knows about one kind of block, in one place: its layers and their names in every key style
    /// (layout, weight writer, key mapping), its fingerprint text, its multiply-adds, its kernel calls and tensor lifetimes
    /// (planner, emitter, runtime executor) and its one-line description (emitted comments, bench). Adding a block kind is
    /// a subclass here and the kernels it calls.
    /// </summary>
    abstract class BlockLowering
    {
        public static BlockLowering For(BlockKind kind) => kind switch
        {
            BlockKind.MBConv => MBConvBlock.Instance,
            BlockKind.FusedMBConv => FusedMBConvBlock.Instance,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No lowering for this block kind."),
        };

        /// <summary>Whether blocks of this kind take the family's squeeze-excitation (Fused-MBConv never does).</summary>
        public abstract bool TakesSqueezeExcitation { get; }

        /// <summary>Creates the block's weighted layers, named in <paramref name="keys"/>' style, and sets <see cref="BlockLayout.Layers"/>.</summary>
        public abstract void AddLayers(BlockLayout block, KeyStyle keys);

        /// <summary>Multiply-accumulates of the block's convolutions for one image.</summary>
        public abstract long MultiplyAdds(BlockLayout block);

        /// <summary>Appends every shape-determining number of the block to the fingerprint text.</summary>
        public abstract void Describe(BlockLayout block, StringBuilder text);

        /// <summary>"MBConv6, 5x5 depthwise stride 2, 40 -> 240 -> 80 channels, ...": the block in one line.</summary>
        public abstract string Summary(BlockLayout block);

        /// <summary>The block's kernel calls from <paramref name="input"/>, each at the next lifetime step of <paramref name="steps"/>.</summary>
        public abstract BlockPlan Plan(BlockLayout block, PlannedTensor input, PlanSteps steps);
    }

    /// <summary>The lifetime step counter of a forward plan, and the per-thread row buffers its blocks ask for.</summary>
    sealed class PlanSteps
    {
        public int Step { get; private set; }

        public long RowBufferFloats { get; private set; }

        public int Next() => ++Step;

        public void NeedRowBuffers(long floats) => RowBufferFloats = Math.Max(RowBufferFloats, floats);
    }

    /// <summary>A tensor a block's emitted method names with a local span.</summary>
    sealed class BlockTensor
    {
        public BlockTensor(string local, PlannedTensor tensor, bool readOnly = false)
        {
            Local = local; Tensor = tensor; ReadOnly = readOnly;
        }

        public string Local { get; }
        public PlannedTensor Tensor { get; }
        public bool ReadOnly { get; }
    }

    /// <summary>The activation tensors one block reads and writes, its stack scratch, and the kernel calls that compute it.</summary>
    sealed class BlockPlan
    {
        public BlockPlan(BlockLayout block, PlannedTensor input, PlannedTensor output, IReadOnlyList<BlockTensor> locals,
                         IReadOnlyList<KernelCall> calls, int gateFloats, int squeezeFloats)
        {
            Block = block; Input = input; Output = output; Locals = locals; Calls = calls;
            GateFloats = gateFloats; SqueezeFloats = squeezeFloats;
        }

        public BlockLayout Block { get; }
        public PlannedTensor Input { get; }
        public PlannedTensor Output { get; }

        /// <summary>The tensors the emitted method declares, in order (input first).</summary>
        public IReadOnlyList<BlockTensor> Locals { get; }

        public IReadOnlyList<KernelCall> Calls { get; }

        /// <summary>Floats of the channel-sum and gate buffer the block's calls share (0: none).</summary>
        public int GateFloats { get; }

        /// <summary>Floats of the squeeze-excitation's reduced vector (0: none).</summary>
        public int SqueezeFloats { get; }

        /// <summary>The tensor declared as <paramref name="local"/>, or null when the block has none.</summary>
        public PlannedTensor? Local(string local)
        {
            foreach (BlockTensor t in Locals)
                if (t.Local == local) return t.Tensor;
            return null;
        }

        /// <summary>The tensors placed in the arena, the input excepted (it belongs to the block before).</summary>
        public IEnumerable<PlannedTensor> Tensors
        {
            get
            {
                foreach (BlockTensor t in Locals)
                    if (t.Tensor != Input) yield return t.Tensor;
            }
        }
    }
}
