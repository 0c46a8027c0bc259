using System.Collections.Generic;
using System.Linq;
using EffNet.Blocks;
using EffNet.Model;
using EffNet.Planning;
using Xunit;

// EffNet.Model here is the generator's internal copy (the runtime's public copy is behind the "runtime" extern alias).
namespace EffNet.Generator.Tests
{
    /// <summary>
    /// The static arena plan of <see cref="ArenaPlanner"/> / <see cref="ForwardPlan"/>: tensors alive at the same time
    /// never share bytes, every offset is 64-byte aligned, and the arena is between the largest tensor and the sum of all.
    /// </summary>
    public class ArenaPlannerTests
    {
        public static IEnumerable<object[]> Phis => Enumerable.Range(Scaling.MinPhi, Scaling.MaxPhi - Scaling.MinPhi + 1).Select(p => new object[] { p });

        static ForwardPlan PlanFor(int phi) => ForwardPlan.Create(NetworkLayout.Create(ModelConfig.ForPhi(phi)));

        static ForwardPlan PlanFor(double width, double depth, int resolution) =>
            ForwardPlan.Create(NetworkLayout.Create(new ModelConfig(width, depth, resolution, 10, EfficientNetPadding.Symmetric)));

        [Theory]
        [MemberData(nameof(Phis))]
        public void Tensors_alive_at_the_same_time_never_share_arena_bytes(int phi) => AssertNoLiveOverlap(PlanFor(phi));

        [Theory]
        [MemberData(nameof(Phis))]
        public void Every_tensor_offset_is_16_float_aligned_and_inside_the_arena(int phi) => AssertAlignedAndInside(PlanFor(phi));

        [Theory]
        [MemberData(nameof(Phis))]
        public void Arena_is_at_least_the_largest_tensor_and_at_most_the_sum_of_all(int phi) => AssertArenaBounds(PlanFor(phi));

        [Theory]
        [MemberData(nameof(Phis))]
        public void Every_tensor_is_alive_at_each_step_that_reads_it(int phi) => AssertLifetimesCoverReads(PlanFor(phi));

        [Theory]
        [MemberData(nameof(Phis))]
        [InlineData(-1)] // B0 with TF-SAME padding
        public void Every_kernel_call_finds_its_tensors_alive_and_each_block_runs_its_kernels_in_order(int phi)
            => AssertCallsReadLiveTensors(phi >= 0 ? PlanFor(phi)
                : ForwardPlan.Create(NetworkLayout.Create(ModelConfig.ForPhi(0, padding: EfficientNetPadding.Same))));

        [Theory]
        [InlineData(0.5, 0.6, 128)]
        [InlineData(0.25, 0.3, 32)]
        [InlineData(1.3, 1.5, 257)]
        [InlineData(4.0, 1.0, 97)]
        public void Custom_models_get_a_valid_plan(double width, double depth, int resolution)
        {
            ForwardPlan plan = PlanFor(width, depth, resolution);
            AssertNoLiveOverlap(plan);
            AssertAlignedAndInside(plan);
            AssertArenaBounds(plan);
            AssertLifetimesCoverReads(plan);
            AssertCallsReadLiveTensors(plan);
        }

        [Fact]
        public void B0_plan_reuses_memory_well_below_the_sum_of_its_tensors()
        {
            ForwardPlan plan = PlanFor(0);
            long sum = plan.Tensors.Sum(t => t.Floats);

            // 3,211,264 bytes for B0: the stem output and block 0's depthwise output (112 x 112 x 32 each), alive together,
            // which is also the least any plan can do. The larger expanded maps of blocks 1-4 stream through row buffers.
            Assert.Equal(802_816, plan.ArenaFloats);
            Assert.Equal(LiveFloatsAtPeak(plan), plan.ArenaFloats);
            Assert.True(plan.ArenaFloats * 3 < sum, $"arena {plan.ArenaFloats} floats vs {sum} floats in all tensors");
        }

        [Fact]
        public void Tall_blocks_with_expanded_maps_of_512_KB_or_more_stream_them_through_row_buffers_sized_for_the_widest_ring()
        {
            ForwardPlan plan = PlanFor(0);
            // B0's expanded maps: features.2.0 [112, 112, 96], 2.1 and 3.0 [56, 56, 144] and 3.1 [28, 28, 240] are at least
            // 128K floats with at least 16 output rows. 4.0 [28, 28, 240] has stride 2, so 14 output rows, like 5.1 and 5.2
            // [14, 14, 672].
            var fused = plan.Blocks.Where(FusesExpand).Select(b => b.Block.Module).ToArray();
            Assert.Equal(new[] { "features.2.0", "features.2.1", "features.3.0", "features.3.1" }, fused);
            Assert.All(plan.Blocks.Where(FusesExpand), b => Assert.Null(b.Local("expanded")));
            // The widest ring: features.3.0, 5 rows of 56 x 144.
            Assert.Equal(5L * 56 * 144, plan.RowBufferFloats);
        }

        [Fact]
        public void Blocks_with_fewer_pixels_than_outputs_gate_the_map_in_place_and_plan_no_weight_scratch()
        {
            ForwardPlan plan = PlanFor(0);
            // B0's 7x7 blocks: 49 pixels x 1152 channels to scale, against 1152 x 192 (or 320) weights.
            var inPlace = plan.Blocks.Where(b => b.Local("panel") == null).Select(b => b.Block.Module).ToArray();
            Assert.Equal(new[] { "features.6.0", "features.6.1", "features.6.2", "features.6.3", "features.7.0" }, inPlace);
            Assert.DoesNotContain(plan.Tensors, t => t.Name.EndsWith("Panel") && inPlace.Any(m => t.Description.StartsWith(m + " ")));
        }

        [Fact]
        public void Planner_packs_disjoint_lifetimes_into_the_same_bytes_and_separates_overlapping_ones()
        {
            var a = new PlannedTensor("a", "a", 1, 1, 100, firstStep: 0);
            a.ReadAt(1);
            var b = new PlannedTensor("b", "b", 1, 1, 40, firstStep: 1);
            b.ReadAt(2);
            var c = new PlannedTensor("c", "c", 1, 1, 50, firstStep: 2); // alive with b only, so it may reuse a's bytes

            long arena = ArenaPlanner.Place(new[] { a, b, c });

            Assert.Equal(0, a.Offset);
            Assert.Equal(112, b.Offset);          // after a (100), aligned up to 16 floats
            Assert.Equal(0, c.Offset);            // a is dead by step 2
            Assert.Equal(160, arena);             // 112 + 40 = 152, aligned up
            AssertNoLiveOverlap(new[] { a, b, c });

            // And the check itself catches a clash: move c onto b, with which it is alive at step 2.
            c.Offset = 96;
            Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertNoLiveOverlap(new[] { a, b, c }));
        }

        // The least any arena can be: the most floats alive at one step (each tensor rounded up to the alignment).
        static long LiveFloatsAtPeak(ForwardPlan plan)
        {
            int last = plan.Tensors.Max(t => t.LastStep);
            return Enumerable.Range(0, last + 1)
                .Max(step => plan.Tensors.Where(t => t.FirstStep <= step && step <= t.LastStep)
                                         .Sum(t => ArenaPlanner.AlignUp(t.Floats)));
        }

        [Theory]
        [MemberData(nameof(Phis))]
        public void Arena_is_within_an_eighth_of_the_most_floats_alive_at_one_step(int phi)
        {
            ForwardPlan plan = PlanFor(phi);
            long bound = LiveFloatsAtPeak(plan);
            Assert.InRange(plan.ArenaFloats, bound, bound + bound / 8);
        }

        static void AssertNoLiveOverlap(ForwardPlan plan) => AssertNoLiveOverlap(plan.Tensors);

        static void AssertNoLiveOverlap(IReadOnlyList<PlannedTensor> tensors)
        {
            var clashes = new List<string>();
            for (int i = 0; i < tensors.Count; i++)
                for (int j = i + 1; j < tensors.Count; j++)
                {
                    PlannedTensor x = tensors[i], y = tensors[j];
                    bool liveTogether = x.FirstStep <= y.LastStep && y.FirstStep <= x.LastStep;
                    bool shareBytes = x.Offset < y.End && y.Offset < x.End;
                    if (liveTogether && shareBytes)
                        clashes.Add($"{x.Name} [{x.Offset}, {x.End}) steps {x.FirstStep}..{x.LastStep} overlaps " +
                                    $"{y.Name} [{y.Offset}, {y.End}) steps {y.FirstStep}..{y.LastStep}");
                }
            Assert.True(clashes.Count == 0, string.Join("\n", clashes));
        }

        static void AssertAlignedAndInside(ForwardPlan plan)
        {
            Assert.All(plan.Tensors, t =>
            {
                Assert.True(t.Offset >= 0, $"{t.Name} was not placed (offset {t.Offset})");
                Assert.True(t.Offset % ArenaPlanner.AlignmentFloats == 0, $"{t.Name} at {t.Offset} is not 16-float aligned");
                Assert.True(t.End <= plan.ArenaFloats, $"{t.Name} ends at {t.End}, past the arena of {plan.ArenaFloats}");
            });
            Assert.Equal(0, plan.ArenaFloats % ArenaPlanner.AlignmentFloats);
        }

        static void AssertArenaBounds(ForwardPlan plan)
        {
            long largest = plan.Tensors.Max(t => t.Floats);
            long sum = plan.Tensors.Sum(t => t.Floats);
            Assert.Equal(plan.Tensors.Where(t => !t.IsScratch).Max(t => t.Floats), plan.Largest.Floats); // the largest activation
            Assert.InRange(plan.ArenaFloats, largest, sum);
        }

        static bool FusesExpand(BlockPlan block) => block.Calls[0].Operation == Operation.ExpandDepthwise;

        /// <summary>The steps ForwardPlan documents: stem; per block [expand], depthwise (+SE), project [+ residual]; head; pool; classifier.</summary>
        static void AssertLifetimesCoverReads(ForwardPlan plan)
        {
            foreach (BlockPlan block in plan.Blocks)
            {
                string name = block.Block.Module;
                PlannedTensor? expanded = block.Local("expanded");
                PlannedTensor depthwise = block.Local("depthwise")!;
                Assert.Equal(block.Block.HasExpansion && !FusesExpand(block), expanded != null);
                if (FusesExpand(block))
                    Assert.True(block.Block.HasExpansion, $"{name}: fuses an expand conv it does not have");
                if (expanded != null)
                    Assert.True(block.Input.LastStep >= expanded.FirstStep, $"{name}: input dies before the expand reads it");
                PlannedTensor depthwiseInput = expanded ?? block.Input;
                Assert.True(depthwiseInput.LastStep >= depthwise.FirstStep, $"{name}: depthwise input dies before it is read");
                Assert.True(depthwise.LastStep >= block.Output.FirstStep, $"{name}: depthwise output dies before the projection reads it");
                if (block.Block.HasResidual)
                    Assert.True(block.Input.LastStep >= block.Output.FirstStep, $"{name}: block input dies before the residual add reads it");
            }
            for (int i = 1; i < plan.Blocks.Count; i++)
                Assert.Same(plan.Blocks[i - 1].Output, plan.Blocks[i].Input);
            Assert.Same(plan.StemOutput, plan.Blocks[0].Input);

            PlannedTensor lastBlockOutput = plan.Blocks[plan.Blocks.Count - 1].Output;
            Assert.True(lastBlockOutput.LastStep >= plan.HeadOutput.FirstStep, "the last block's output dies before the head reads it");
            Assert.True(plan.HeadOutput.LastStep >= plan.Features.FirstStep, "the head output dies before pooling reads it");
            Assert.True(plan.Features.LastStep > plan.Features.FirstStep, "the pooled features die before the classifier reads them");
            Assert.Equal(plan.Features.LastStep, plan.Tensors.Max(t => t.LastStep));
        }
    
        /// <summary>
        /// The kernel calls (which the generator prints and the runtime model runs) against the lifetimes: every tensor a
        /// call reads or writes is alive at its step, and a block's calls are [expand] depthwise (or both fused), SE,
        /// [gate map], project, the last writing the block's output.
        /// </summary>
        static void AssertCallsReadLiveTensors(ForwardPlan plan)
        {
            foreach (KernelCall call in plan.ForwardCalls.Concat(new[] { plan.Classifier }))
            {
                var used = new[] { call.Input, call.Output, call.Residual, call.Panel }.OfType<PlannedTensor>().Where(t => t != plan.Image);
                foreach (PlannedTensor t in used)
                    Assert.True(t.FirstStep <= call.Step && call.Step <= t.LastStep,
                        $"{call.Operation} at step {call.Step} uses {t.Name}, alive only at steps {t.FirstStep}..{t.LastStep}");
                if (call.Output != null && call.Operation != Operation.GateMap)
                    Assert.Equal(call.Step, call.Output.FirstStep); // written by this call, not before
            }
            Assert.Same(plan.Image, plan.Stem.Input);
            foreach (BlockPlan block in plan.Blocks)
            {
                string sequence = string.Join(" ", block.Calls.Select(c => c.Operation));
                Assert.Matches("^(Expand Depthwise|Depthwise|ExpandDepthwise) SqueezeExcitation (GateMap )?Project$", sequence);
                Assert.Equal(block.Block.HasExpansion, block.Calls[0].Operation != Operation.Depthwise);
                Assert.Same(block.Output, block.Calls[block.Calls.Count - 1].Output);
            }
            Assert.Equal(1 + plan.Blocks.Sum(b => b.Calls.Count) + 2, plan.ForwardCalls.Count); // stem, blocks, head, pool
        }
    }
}
