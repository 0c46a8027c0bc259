using System;
using System.Buffers;
using System.Runtime.CompilerServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// The expand 1x1 conv and the depthwise conv of an MBConv block in one pass: expanded rows are computed into a ring
    /// buffer of <c>kernel</c> rows just before the depthwise conv reads them, so the expanded map (the largest tensor of
    /// the network, several MB in the early blocks) is never written to memory and read back.
    /// </summary>
    /// <remarks>
    /// On a pool the work is split one of two ways, each thread with its own ring:
    /// <list type="bullet">
    /// <item>5x5 kernels: by the expand conv's 64-channel weight panels, every row of a panel's channels. The channels are
    /// independent from the expand conv's output to the depthwise conv's, so nothing is computed twice, and a thread on a
    /// slower core takes fewer panels. Narrower slices measured slower: the expand GEMM's tile is a whole panel wide.</item>
    /// <item>3x3 kernels: by bands of output rows, one per thread, each recomputing the kernel - stride expanded rows at
    /// its edges (one or two). Panels measured slower here: the 3x3 depthwise walks a row pixel by pixel, and a panel's
    /// few channels per pixel do not pay for the walk.</item>
    /// </list>
    /// The results are bit-identical to <see cref="PointwiseConvolution"/> followed by <see cref="DepthwiseConvolution"/>,
    /// at every thread count: the same code computes every value.
    /// </remarks>
    public static unsafe class ExpandDepthwise
    {
        /// <summary>Floats of ring buffer one thread needs: <paramref name="kernel"/> expanded rows.</summary>
        public static long RowBufferLength(int kernel, int inWidth, int midChannels) => Model.KernelChoices.RowBufferFloats(kernel, inWidth, midChannels);

        /// <param name="input">[inHeight, inWidth, inChannels]: the block input</param>
        /// <param name="expandWeights">[inChannels, midChannels], BatchNorm folded; <paramref name="activation"/> follows</param>
        /// <param name="depthwiseWeights">[kernel, kernel, midChannels], BatchNorm folded; <paramref name="activation"/> follows</param>
        /// <param name="output">[outHeight, outWidth, midChannels]: the depthwise output</param>
        /// <param name="channelSums">[midChannels]; receives the sum of every output channel over all pixels; empty to sum nothing</param>
        /// <param name="rowBuffers">at least threads x <see cref="RowBufferLength"/> floats</param>
        /// <param name="workers">threads to split the output rows over, or null for the calling thread only</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, int inHeight, int inWidth, int inChannels,
                               ReadOnlySpan<float> expandWeights, ReadOnlySpan<float> expandBias, int midChannels,
                               ReadOnlySpan<float> depthwiseWeights, ReadOnlySpan<float> depthwiseBias, int kernel, int stride, int padTop, int padLeft,
                               Span<float> output, int outHeight, int outWidth, Activation activation, Span<float> channelSums, Span<float> rowBuffers,
                               Threading.WorkerPool? workers = null)
        {
            Check.Length(input.Length, (long)inHeight * inWidth * inChannels, nameof(input));
            Check.Length(expandWeights.Length, (long)inChannels * midChannels, nameof(expandWeights));
            Check.Length(expandBias.Length, midChannels, nameof(expandBias));
            Check.Length(depthwiseWeights.Length, (long)kernel * kernel * midChannels, nameof(depthwiseWeights));
            Check.Length(depthwiseBias.Length, midChannels, nameof(depthwiseBias));
            Check.Length(output.Length, (long)outHeight * outWidth * midChannels, nameof(output));
            bool summing = !channelSums.IsEmpty; // empty: no squeeze-excitation reads the sums
            if (summing)
                Check.Length(channelSums.Length, midChannels, nameof(channelSums));
            long ring = RowBufferLength(kernel, inWidth, midChannels);
            Check.Length(rowBuffers.Length, ring * (workers?.Threads ?? 1), nameof(rowBuffers));
            if (summing)
                channelSums.Slice(0, midChannels).Clear();

            fixed (float* x = input, we = expandWeights, be = expandBias, wd = depthwiseWeights, bd = depthwiseBias,
                   y = output, sums = channelSums, rings = rowBuffers)
            {
                var fused = new Fused(x, inWidth, inChannels, we, be, midChannels, activation,
                    new DepthwiseConvolution.Depthwise(null, inHeight, inWidth, midChannels, wd, bd, kernel, stride, padTop, padLeft,
                                                       y, outWidth, activation),
                    kernel, rings, ring);
                bool pooled = workers is { Threads: > 1 }, panels = pooled && SplitsByPanels(kernel, stride, midChannels);
                if (pooled && !panels && outHeight >= MinRowsPerBand * workers!.Threads)
                {
                    var bands = (BandsJob)(workers.ExpandDepthwiseBandsJob ??= new BandsJob());
                    bands.Fused = fused;
                    bands.Rows = outHeight;
                    bands.Channels = midChannels;
                    bands.Summing = summing;
                    if (summing) bands.Sums.Prepare(outHeight, midChannels);
                    // One band of row groups per thread: smaller chunks would recompute more rows than the balance they buy.
                    int groups = RowGroupSums.GroupsOf(outHeight);
                    workers.Run(bands, groups, grain: (groups + workers.Threads - 1) / workers.Threads);
                    if (summing) bands.Sums.AddTo(sums);
                    return;
                }
                // One partial of the channel sums, added to the total at the end of each row group: on one thread, or
                // shared by threads that each take whole channel slices (disjoint channels of the partial and the total).
                float[]? rented = summing && midChannels > DepthwiseConvolution.MaxStackChannels ? ArrayPool<float>.Shared.Rent(midChannels) : null;
                Span<float> partial = !summing ? default : rented is null ? stackalloc float[midChannels] : rented.AsSpan(0, midChannels);
                partial.Clear();
                fixed (float* p = partial)
                {
                    float* total = summing ? sums : null;
                    if (panels)
                    {
                        var job = (PanelsJob)(workers!.ExpandDepthwiseJob ??= new PanelsJob());
                        job.Fused = fused;
                        job.Rows = outHeight;
                        job.Partial = p;
                        job.Total = total;
                        try { workers.Run(job, (midChannels + PointwiseConvolution.PanelWidth - 1) / PointwiseConvolution.PanelWidth); }
                        finally { job.Partial = job.Total = null; } // they point into this frame
                    }
                    else
                        fused.Rows(0, outHeight, p, total, worker: 0, panel: -1);
                }
                if (rented != null) ArrayPool<float>.Shared.Return(rented);
            }
        }

        /// <summary>Whether a pool splits the call by weight panels (else by bands of rows).</summary>
        static bool SplitsByPanels(int kernel, int stride, int midChannels)
            => kernel - stride >= 3 && midChannels > PointwiseConvolution.PanelWidth;

        // A band recomputes kernel - stride expanded rows; below this many output rows per thread that is too much.
        const int MinRowsPerBand = 8;

        /// <summary>Bands of row groups split over the pool's threads; each group sums its channels apart, added up afterwards in group order.</summary>
        sealed class BandsJob : Threading.IParallelJob
        {
            public Fused Fused;
            public int Rows, Channels;
            public readonly RowGroupSums Sums = new();
            public bool Summing; // false: no squeeze-excitation reads the sums, and none are taken

            public void Execute(int start, int end, int worker)
            {
                int first = start * RowGroupSums.GroupRows;
                fixed (float* partials = Sums.Partials)
                    Fused.Rows(first, Math.Min(end * RowGroupSums.GroupRows, Rows), Summing ? partials + (long)start * Channels : null, null, worker, panel: -1);
            }
        }

        /// <summary>The expand conv's weight panels split over the pool's threads; each runs every row of its panel's channels.</summary>
        sealed class PanelsJob : Threading.IParallelJob
        {
            public Fused Fused;
            public int Rows;
            public float* Partial, Total; // null when nothing reads the sums; set only while the region runs

            public void Execute(int start, int end, int worker)
            {
                for (int panel = start; panel < end; panel++)
                    Fused.Rows(0, Rows, Partial, Total, worker, panel);
            }
        }

        readonly struct Fused
        {
            readonly float* _x, _expandWeights, _expandBias, _rings;
            readonly int _inWidth, _inChannels, _midChannels, _kernel;
            readonly Activation _activation;
            readonly long _ringLength;
            readonly DepthwiseConvolution.Depthwise _depthwise;

            public Fused(float* x, int inWidth, int inChannels, float* expandWeights, float* expandBias, int midChannels, Activation activation,
                         DepthwiseConvolution.Depthwise depthwise, int kernel, float* rings, long ringLength)
            {
                _x = x; _inWidth = inWidth; _inChannels = inChannels; _activation = activation;
                _expandWeights = expandWeights; _expandBias = expandBias; _midChannels = midChannels;
                _depthwise = depthwise; _kernel = kernel; _rings = rings; _ringLength = ringLength;
            }

            /// <summary>
            /// Output rows [first, end) of the channels of expand weight panel <paramref name="panel"/> (-1: all channels),
            /// with the ring of thread <paramref name="worker"/>, adding the channel sums as
            /// <see cref="DepthwiseConvolution.Depthwise.Rows"/> does.
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Rows(int first, int end, float* partials, float* total, int worker, int panel)
            {
                int channelBegin = panel < 0 ? 0 : panel * PointwiseConvolution.PanelWidth;
                int channelEnd = panel < 0 ? _midChannels : Math.Min(channelBegin + PointwiseConvolution.PanelWidth, _midChannels);
                float* ring = _rings + worker * _ringLength;
                long rowLength = (long)_inWidth * _midChannels;
                float** rows = stackalloc float*[_kernel];
                int expandedEnd = int.MinValue; // input rows below this are in the ring (or no longer needed)
                for (int oy = first; oy < end; oy++)
                {
                    (int iy0, int kyBegin, int kyEnd) = _depthwise.Window(oy);
                    // Input row iy lives in slot iy mod kernel. A window spans at most kernel rows, so a new row only
                    // overwrites one that every later window has left behind.
                    for (int iy = Math.Max(iy0 + kyBegin, expandedEnd); iy < iy0 + kyEnd; iy++)
                        ExpandRow(iy, ring + iy % _kernel * rowLength, panel);
                    expandedEnd = Math.Max(expandedEnd, iy0 + kyEnd);
                    for (int ky = kyBegin; ky < kyEnd; ky++)
                        rows[ky] = ring + (iy0 + ky) % _kernel * rowLength;
                    _depthwise.Row(oy, rows, kyBegin, kyEnd, RowGroupSums.For(oy, first, partials, total, _midChannels), channelBegin, channelEnd);
                    RowGroupSums.Flush(oy, end, partials, total, channelBegin, channelEnd);
                }
            }

            // One row of the expand conv (one weight panel of it, or all for -1): a GEMM of inWidth pixels, its activation fused.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void ExpandRow(int iy, float* to, int panel)
            {
                var gemm = new PointwiseConvolution.Gemm(_x + (long)iy * _inWidth * _inChannels, _inWidth, _inChannels,
                    to, _midChannels, _expandWeights, _expandBias, null, _activation);
                if (panel < 0) gemm.Pixels(0, _inWidth);
                else gemm.Panel(panel, 0, _inWidth);
            }
        }
    }
}
