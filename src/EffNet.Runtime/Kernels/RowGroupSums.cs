using System;
using System.Numerics.Tensors;

namespace EffNet.Kernels
{
    /// <summary>
    /// The channel sums of a depthwise conv's output (the squeeze-excitation pool), taken as one partial sum per group of
    /// <see cref="GroupRows"/> output rows and added up in group order. The groups do not depend on how the rows are split
    /// over threads, so the sums, and every output after them, have the same bits at every thread count.
    /// </summary>
    /// <remarks>
    /// On one thread a single partial is added to the total at the end of each group (<see cref="Flush"/>); on a pool each
    /// group keeps its partial in <see cref="Partials"/> until the region ends (<see cref="AddTo"/>). Both add the same
    /// partials in the same order. The partials grow once to the widest layer and are reused: no allocation when warm.
    /// A call that sums nothing (no squeeze-excitation reads them) passes null partials and total, and every row skips its sums.
    /// </remarks>
    sealed unsafe class RowGroupSums
    {
        public const int GroupRows = 2;

        float[] _partials = Array.Empty<float>();
        int _groups, _channels;

        public static int GroupsOf(int rows) => (rows + GroupRows - 1) / GroupRows;

        /// <summary>Zeroed partials for every group of a map of <paramref name="rows"/> output rows.</summary>
        public void Prepare(int rows, int channels)
        {
            _groups = GroupsOf(rows);
            _channels = channels;
            int length = _groups * channels;
            if (_partials.Length < length) _partials = new float[length];
            else Array.Clear(_partials, 0, length);
        }

        /// <summary>Every group's partial, [groups, channels]; pin it while the region runs.</summary>
        public float[] Partials => _partials;

        /// <summary>Adds the partials to <paramref name="total"/> in group order.</summary>
        public void AddTo(float* total)
        {
            var sums = new Span<float>(total, _channels);
            for (int g = 0; g < _groups; g++)
                TensorPrimitives.Add(sums, _partials.AsSpan(g * _channels, _channels), sums);
        }

        /// <summary>
        /// Where output row <paramref name="oy"/> adds its sums: its group's partial when <paramref name="total"/> is null
        /// (<paramref name="partials"/> then holds the groups from the one <paramref name="first"/> is in), else the single
        /// partial that <see cref="Flush"/> empties into the total.
        /// </summary>
        public static float* For(int oy, int first, float* partials, float* total, int channels)
            => total != null || partials == null ? partials : partials + (long)(oy / GroupRows - first / GroupRows) * channels;

        /// <summary>
        /// On one thread (or one channel slice per thread): after row <paramref name="oy"/>, adds channels
        /// [<paramref name="begin"/>, <paramref name="end"/>) of the single partial to the total if its group is complete.
        /// </summary>
        public static void Flush(int oy, int rowsEnd, float* partial, float* total, int begin, int end)
        {
            if (total == null || ((oy + 1) % GroupRows != 0 && oy + 1 != rowsEnd)) return;
            var sums = new Span<float>(total + begin, end - begin);
            var group = new Span<float>(partial + begin, end - begin);
            TensorPrimitives.Add(sums, group, sums);
            group.Clear();
        }
    }
}
