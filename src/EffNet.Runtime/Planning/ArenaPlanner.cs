using System;
using System.Collections.Generic;
using System.Linq;

namespace EffNet.Planning
{
    /// <summary>An activation tensor with the steps of the forward pass during which it must stay intact.</summary>
    sealed class PlannedTensor
    {
        public PlannedTensor(string name, string description, int height, int width, int channels, int firstStep, bool isScratch = false)
        {
            Name = name; Description = description; Height = height; Width = width; Channels = channels;
            FirstStep = firstStep; LastStep = firstStep; IsScratch = isScratch;
        }

        /// <summary>Working memory of one kernel call rather than an activation of the network.</summary>
        public bool IsScratch { get; }

        /// <summary>Identifier-friendly name used in the emitted code and comments.</summary>
        public string Name { get; }

        /// <summary>What produces it, e.g. "features.2.0 expand".</summary>
        public string Description { get; }

        public int Height { get; }
        public int Width { get; }
        public int Channels { get; }
        public int Pixels => Height * Width;
        public long Floats => (long)Height * Width * Channels;

        public int FirstStep { get; }
        public int LastStep { get; private set; }

        /// <summary>Start in the arena, in floats; set by <see cref="ArenaPlanner.Place"/>.</summary>
        public long Offset { get; set; } = -1;

        public long End => Offset + Floats;

        public void ReadAt(int step) => LastStep = Math.Max(LastStep, step);

        public bool LivesWith(PlannedTensor other) => FirstStep <= other.LastStep && other.FirstStep <= LastStep;
    }

    /// <summary>
    /// Static memory planning: places tensors in one arena so that tensors alive at the same time never overlap. Each
    /// tensor goes to the lowest 64-byte aligned offset that fits between the tensors already placed whose lifetimes
    /// intersect its own. Greedy placement depends on the order, so a few orders are tried (largest first; earliest
    /// first; longest-lived first) and the smallest arena is kept; ties go to the earlier order, so plans are stable.
    /// </summary>
    static class ArenaPlanner
    {
        public const int AlignmentFloats = 16;

        static readonly Func<IReadOnlyList<PlannedTensor>, IEnumerable<PlannedTensor>>[] Orders =
        {
            ts => ts.OrderByDescending(t => t.Floats).ThenBy(t => t.FirstStep),
            ts => ts.OrderBy(t => t.FirstStep).ThenByDescending(t => t.Floats),
            ts => ts.OrderByDescending(t => t.LastStep - t.FirstStep).ThenByDescending(t => t.Floats).ThenBy(t => t.FirstStep),
        };

        /// <returns>The arena size in floats.</returns>
        public static long Place(IReadOnlyList<PlannedTensor> tensors)
        {
            long[]? best = null;
            long bestSize = long.MaxValue;
            foreach (var order in Orders)
            {
                long size = PlaceInOrder(order(tensors));
                if (size < bestSize)
                {
                    bestSize = size;
                    best = tensors.Select(t => t.Offset).ToArray();
                }
            }
            for (int i = 0; i < tensors.Count; i++) tensors[i].Offset = best![i];
            return tensors.Count == 0 ? 0 : bestSize;
        }

        static long PlaceInOrder(IEnumerable<PlannedTensor> order)
        {
            var placed = new List<PlannedTensor>();
            foreach (PlannedTensor tensor in order)
            {
                long offset = 0;
                foreach (PlannedTensor other in placed.Where(tensor.LivesWith).OrderBy(t => t.Offset))
                {
                    if (offset + tensor.Floats <= other.Offset)
                        break; // fits in the gap before this one
                    offset = Math.Max(offset, AlignUp(other.End));
                }
                tensor.Offset = offset;
                placed.Add(tensor);
            }
            return placed.Count == 0 ? 0 : AlignUp(placed.Max(t => t.End));
        }

        /// <summary><paramref name="floats"/> rounded up to a whole number of 64-byte lines.</summary>
        public static long AlignUp(long floats) => (floats + AlignmentFloats - 1) / AlignmentFloats * AlignmentFloats;
    }
}
