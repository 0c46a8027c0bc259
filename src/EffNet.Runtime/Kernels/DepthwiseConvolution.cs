using System;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EffNet.Kernels
{
    /// <summary>
    /// k x k depthwise convolution on an HWC map, vectorised over channels, with bias, activation and a running
    /// per-channel sum of the output (the squeeze-excitation pool) fused into the store.
    /// </summary>
    public static unsafe class DepthwiseConvolution
    {
        /// <param name="input">[inHeight, inWidth, channels]</param>
        /// <param name="weights">[kernel, kernel, channels], BatchNorm folded in</param>
        /// <param name="bias">[channels]</param>
        /// <param name="output">[outHeight, outWidth, channels]; must not overlap the input</param>
        /// <param name="channelSums">[channels]; receives the sum of every output channel over all pixels (the squeeze-excitation
        /// pool); empty to sum nothing</param>
        /// <param name="workers">threads to split the output rows over, or null for the calling thread only</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, int inHeight, int inWidth, int channels,
                               ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int kernel, int stride, int padTop, int padLeft,
                               Span<float> output, int outHeight, int outWidth, Activation activation, Span<float> channelSums,
                               Threading.WorkerPool? workers = null)
        {
            Check.Length(input.Length, (long)inHeight * inWidth * channels, nameof(input));
            Check.Length(weights.Length, (long)kernel * kernel * channels, nameof(weights));
            Check.Length(bias.Length, channels, nameof(bias));
            Check.Length(output.Length, (long)outHeight * outWidth * channels, nameof(output));
            // Without squeeze-excitation nothing reads the channel sums: an empty span skips them.
            bool summing = !channelSums.IsEmpty;
            if (summing)
            {
                Check.Length(channelSums.Length, channels, nameof(channelSums));
                channelSums.Slice(0, channels).Clear();
            }

            fixed (float* x = input, w = weights, b = bias, y = output, sums = channelSums)
            {
                var conv = new Depthwise(x, inHeight, inWidth, channels, w, b, kernel, stride, padTop, padLeft, y, outWidth, activation);
                if (workers is null || outHeight < MinRowsPerThread * workers.Threads)
                {
                    if (!summing)
                    {
                        conv.Rows(0, outHeight, null, null);
                        return;
                    }
                    // One partial of the channel sums, added to the total at the end of each row group.
                    float[]? rented = channels > MaxStackChannels ? ArrayPool<float>.Shared.Rent(channels) : null;
                    Span<float> partial = rented is null ? stackalloc float[channels] : rented.AsSpan(0, channels);
                    partial.Clear();
                    fixed (float* p = partial)
                        conv.Rows(0, outHeight, p, sums);
                    if (rented != null) ArrayPool<float>.Shared.Return(rented);
                    return;
                }
                // Row groups, not channel slices: on the 14x14 and 7x7 maps too, slices measured slower (each slice walks
                // every row for a few channels).
                var job = (RowsJob)(workers.DepthwiseJob ??= new RowsJob());
                job.Conv = conv;
                job.Rows = outHeight;
                job.Summing = summing;
                if (summing) job.Sums.Prepare(outHeight, channels);
                workers.Run(job, RowGroupSums.GroupsOf(outHeight));
                if (summing) job.Sums.AddTo(sums);
            }
        }

        const int MinRowsPerThread = 2;

        // Channel counts whose one-thread partial sum fits comfortably on the stack (B7's widest depthwise has 3840).
        internal const int MaxStackChannels = 4096;

        /// <summary>Row groups split over the pool's threads; each group sums its channels apart, added up afterwards in group order.</summary>
        sealed class RowsJob : Threading.IParallelJob
        {
            public Depthwise Conv;
            public int Rows;
            public readonly RowGroupSums Sums = new();
            public bool Summing; // false: no squeeze-excitation reads the sums, and none are taken

            public void Execute(int start, int end, int worker)
            {
                int first = start * RowGroupSums.GroupRows;
                fixed (float* partials = Sums.Partials)
                    Conv.Rows(first, Math.Min(end * RowGroupSums.GroupRows, Rows), Summing ? partials + (long)start * Conv.Channels : null, null);
            }
        }

        /// <summary>The depthwise conv of one call; <see cref="Row(int, float**, int, int, float*)"/> computes one output row from pointers to the input rows it reads.</summary>
        internal readonly struct Depthwise
        {
            readonly float* _x, _w, _b, _y;
            readonly int _inHeight, _inWidth, _channels, _kernel, _stride, _padTop, _padLeft, _outWidth;
            readonly Activation _activation;

            public Depthwise(float* x, int inHeight, int inWidth, int channels, float* w, float* b, int kernel, int stride, int padTop, int padLeft,
                             float* y, int outWidth, Activation activation)
            {
                _x = x; _inHeight = inHeight; _inWidth = inWidth; _channels = channels; _w = w; _b = b; _kernel = kernel; _stride = stride;
                _padTop = padTop; _padLeft = padLeft; _y = y; _outWidth = outWidth; _activation = activation;
            }

            const int Quad = 4;

            // The unrolled taps walk a row channel vector by channel vector, a stride of one pixel between loads, so the
            // hardware prefetcher (which stops at page boundaries) does not help them: they pay off while the kernel's
            // input rows stay in L2 from one output row to the next. Half of a 1 MB L2 is the bound.
            const long UnrolledRowsBytes = 512 * 1024;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            bool QuadInside(int ox)
            {
                int first = ox * _stride - _padLeft, last = (ox + Quad - 1) * _stride - _padLeft;
                return first >= 0 && last + _kernel <= _inWidth;
            }

            // Outputs ox..ox+3 of row oy, channels [firstChannel, endChannel): whole 16-channel vectors up to wide, the rest narrower.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void QuadPixels(int oy, int ox, float** rows, int kyBegin, int kyEnd, int firstChannel, int wide, int endChannel, float* sums)
            {
                long channels = _channels, step = _stride * channels;
                int kernel = _kernel;
                long left = (long)(ox * _stride - _padLeft) * channels;
                float* to = _y + ((long)oy * _outWidth + ox) * channels;
                for (int c = firstChannel; c < wide; c += 16)
                {
                    Vector512<float> bias = Vector512.Load(_b + c);
                    Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    for (int ky = kyBegin; ky < kyEnd; ky++)
                    {
                        float* from = rows[ky] + left + c;
                        float* tap = _w + (long)ky * kernel * channels + c;
                        for (int kx = 0; kx < kernel; kx++, from += channels, tap += channels)
                        {
                            Vector512<float> wv = Vector512.Load(tap);
                            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(from), wv, a0);
                            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(from + step), wv, a1);
                            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(from + 2 * step), wv, a2);
                            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(from + 3 * step), wv, a3);
                        }
                    }
                    a0 = Simd.Activate(a0, _activation); a1 = Simd.Activate(a1, _activation);
                    a2 = Simd.Activate(a2, _activation); a3 = Simd.Activate(a3, _activation);
                    a0.Store(to + c); a1.Store(to + channels + c); a2.Store(to + 2 * channels + c); a3.Store(to + 3 * channels + c);
                    if (sums != null) (Vector512.Load(sums + c) + ((a0 + a1) + (a2 + a3))).Store(sums + c);
                }
                // Channels past the last whole 16-vector (8 of them in EfficientNet's 24-, 40- and 56-channel layers): the
                // same four outputs on Vector<float>, then any channels left pixel by pixel.
                int start = Math.Max(firstChannel, wide);
                int narrow = start + (endChannel - start) / Vector<float>.Count * Vector<float>.Count;
                for (int c = start; c < narrow; c += Vector<float>.Count)
                {
                    Vector<float> bias = Vector.Load(_b + c);
                    Vector<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    for (int ky = kyBegin; ky < kyEnd; ky++)
                    {
                        float* from = rows[ky] + left + c;
                        float* tap = _w + (long)ky * kernel * channels + c;
                        for (int kx = 0; kx < kernel; kx++, from += channels, tap += channels)
                        {
                            Vector<float> wv = Vector.Load(tap);
                            a0 = Simd.MultiplyAdd(Vector.Load(from), wv, a0);
                            a1 = Simd.MultiplyAdd(Vector.Load(from + step), wv, a1);
                            a2 = Simd.MultiplyAdd(Vector.Load(from + 2 * step), wv, a2);
                            a3 = Simd.MultiplyAdd(Vector.Load(from + 3 * step), wv, a3);
                        }
                    }
                    a0 = Simd.Activate(a0, _activation); a1 = Simd.Activate(a1, _activation);
                    a2 = Simd.Activate(a2, _activation); a3 = Simd.Activate(a3, _activation);
                    a0.Store(to + c); a1.Store(to + channels + c); a2.Store(to + 2 * channels + c); a3.Store(to + 3 * channels + c);
                    if (sums != null) (Vector.Load(sums + c) + ((a0 + a1) + (a2 + a3))).Store(sums + c);
                }
                if (narrow < endChannel)
                    for (int q = 0; q < Quad; q++)
                        NarrowPixel(oy, ox + q, rows, kyBegin, kyEnd, narrow, endChannel, sums);
            }

            // Channels [from, end) of one output pixel: Vector<float> (all of them without AVX-512), then scalar.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void NarrowPixel(int oy, int ox, float** rows, int kyBegin, int kyEnd, int from, int end, float* sums)
            {
                int channels = _channels, kernel = _kernel;
                int ix0 = ox * _stride - _padLeft;
                int kxBegin = Math.Max(0, -ix0), kxEnd = Math.Min(kernel, _inWidth - ix0);
                long left = (long)ix0 * channels;
                float* to = _y + ((long)oy * _outWidth + ox) * channels;
                int width = Vector<float>.Count, narrow = end - (end - from) % width;
                int c0 = from;
                // Four channel vectors at a time, so four FMA chains are in flight (the AVX2 path's edge pixels).
                for (; c0 + 4 * width <= narrow; c0 += 4 * width)
                {
                    Vector<float> a0 = Vector.Load(_b + c0), a1 = Vector.Load(_b + c0 + width);
                    Vector<float> a2 = Vector.Load(_b + c0 + 2 * width), a3 = Vector.Load(_b + c0 + 3 * width);
                    for (int ky = kyBegin; ky < kyEnd; ky++)
                        for (int kx = kxBegin; kx < kxEnd; kx++)
                        {
                            float* f = rows[ky] + left + (long)kx * channels + c0, t = _w + ((long)ky * kernel + kx) * channels + c0;
                            a0 = Simd.MultiplyAdd(Vector.Load(f), Vector.Load(t), a0);
                            a1 = Simd.MultiplyAdd(Vector.Load(f + width), Vector.Load(t + width), a1);
                            a2 = Simd.MultiplyAdd(Vector.Load(f + 2 * width), Vector.Load(t + 2 * width), a2);
                            a3 = Simd.MultiplyAdd(Vector.Load(f + 3 * width), Vector.Load(t + 3 * width), a3);
                        }
                    a0 = Simd.Activate(a0, _activation); a1 = Simd.Activate(a1, _activation);
                    a2 = Simd.Activate(a2, _activation); a3 = Simd.Activate(a3, _activation);
                    a0.Store(to + c0); a1.Store(to + c0 + width); a2.Store(to + c0 + 2 * width); a3.Store(to + c0 + 3 * width);
                    if (sums != null) (Vector.Load(sums + c0) + a0).Store(sums + c0);
                    if (sums != null) (Vector.Load(sums + c0 + width) + a1).Store(sums + c0 + width);
                    if (sums != null) (Vector.Load(sums + c0 + 2 * width) + a2).Store(sums + c0 + 2 * width);
                    if (sums != null) (Vector.Load(sums + c0 + 3 * width) + a3).Store(sums + c0 + 3 * width);
                }
                for (int c = c0; c < narrow; c += width)
                {
                    Vector<float> acc = Vector.Load(_b + c);
                    for (int ky = kyBegin; ky < kyEnd; ky++)
                        for (int kx = kxBegin; kx < kxEnd; kx++)
                            acc = Simd.MultiplyAdd(Vector.Load(rows[ky] + left + (long)kx * channels + c), Vector.Load(_w + ((long)ky * kernel + kx) * channels + c), acc);
                    acc = Simd.Activate(acc, _activation);
                    acc.Store(to + c);
                    if (sums != null) (Vector.Load(sums + c) + acc).Store(sums + c);
                }
                for (int c = narrow; c < end; c++)
                {
                    float acc = _b[c];
                    for (int ky = kyBegin; ky < kyEnd; ky++)
                        for (int kx = kxBegin; kx < kxEnd; kx++)
                            acc += rows[ky][left + (long)kx * channels + c] * _w[((long)ky * kernel + kx) * channels + c];
                    acc = Simd.Activate(acc, _activation);
                    to[c] = acc;
                    if (sums != null) sums[c] += acc;
                }
            }

            public int Channels => _channels;

            /// <summary>
            /// Output rows [first, end) of the whole input map (first at a row group's start), adding every output value to
            /// its row group's partial sums (<see cref="RowGroupSums.For"/>; given a <paramref name="total"/>, to one partial
            /// that is flushed into it group by group).
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Rows(int first, int end, float* partials, float* total)
            {
                long rowPitch = (long)_inWidth * _channels;
                float** rows = stackalloc float*[_kernel];
                for (int oy = first; oy < end; oy++)
                {
                    (int iy0, int kyBegin, int kyEnd) = Window(oy);
                    for (int ky = kyBegin; ky < kyEnd; ky++)
                        rows[ky] = _x + (iy0 + ky) * rowPitch;
                    Row(oy, rows, kyBegin, kyEnd, RowGroupSums.For(oy, first, partials, total, _channels));
                    RowGroupSums.Flush(oy, end, partials, total, 0, _channels);
                }
            }

            /// <summary>
            /// The input rows output row <paramref name="oy"/> reads: iy0 + ky for ky in [kyBegin, kyEnd). Taps that fall
            /// into the zero padding are skipped rather than read from a padded copy.
            /// </summary>
            public (int Iy0, int KyBegin, int KyEnd) Window(int oy)
            {
                int iy0 = oy * _stride - _padTop;
                return (iy0, Math.Max(0, -iy0), Math.Min(_kernel, _inHeight - iy0));
            }

            /// <summary>
            /// Output row <paramref name="oy"/>, adding every output value to <paramref name="sums"/>. rows[ky] points at
            /// column 0 of input row <see cref="Window"/>.Iy0 + ky, for ky in [kyBegin, kyEnd).
            /// </summary>
            public void Row(int oy, float** rows, int kyBegin, int kyEnd, float* sums) => Row(oy, rows, kyBegin, kyEnd, sums, 0, _channels);

            /// <summary>
            /// Channels [<paramref name="channelBegin"/>, <paramref name="channelEnd"/>) of output row <paramref name="oy"/>
            /// (threads on disjoint slices of the channels share the sums): a slice that starts at a multiple of
            /// <see cref="SliceAlignment"/> and ends at one or at the last channel. Every channel of a slice takes the path it
            /// takes in a whole row, so slicing changes no bits.
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Row(int oy, float** rows, int kyBegin, int kyEnd, float* sums, int channelBegin, int channelEnd)
            {
                if (Vector512.IsHardwareAccelerated && _kernel == 5 && _stride is 1 or 2
                    && (long)_kernel * _inWidth * _channels * sizeof(float) <= UnrolledRowsBytes)
                {
                    // 5x5 kernels: the 16-channel vectors (and an 8-channel rest) through the unrolled taps, then any
                    // channels past them pixel by pixel. The 3x3 kernels stay pixel by pixel: with 9 taps the loads the
                    // sliding window saves matter less than reading each pixel's channels in order, which the hardware
                    // prefetches (A/B per layer: the 5x5 layers 10-40 % faster, the large 3x3 ones up to 20 % slower).
                    int rest = _channels - _channels % 8, wide = Math.Min(channelEnd, rest);
                    if (_stride == 1) WideRow<Taps5Stride1>(oy, rows, kyBegin, kyEnd, channelBegin, wide, sums);
                    else WideRow<Taps5Stride2>(oy, rows, kyBegin, kyEnd, channelBegin, wide, sums);
                    if (wide < channelEnd)
                        PixelRow(oy, rows, kyBegin, kyEnd, wide, wide, channelEnd, QuadsFrom(rest), sums);
                    return;
                }
                int wide512 = Vector512.IsHardwareAccelerated ? Math.Min(channelEnd, _channels - _channels % 16) : channelBegin;
                PixelRow(oy, rows, kyBegin, kyEnd, channelBegin, wide512, channelEnd, QuadsFrom(0), sums);
            }

            /// <summary>Channel slices start at multiples of this (one AVX-512 vector).</summary>
            public const int SliceAlignment = 16;

            // Whether PixelRow takes interior pixels four at a time when a whole row's pixel-by-pixel channels start at
            // 'first'. Decided for the whole row, not the slice: the quads add their sums in another order.
            bool QuadsFrom(int first) => Vector.IsHardwareAccelerated && _channels - first >= Vector<float>.Count;

            /// <summary>
            /// Channels [firstChannel, wide) of output row <paramref name="oy"/> (wide a multiple of 8): channel vector by channel
            /// vector, four outputs at a time along the row, so the four accumulators of a group are independent FMA chains
            /// and the inputs of neighbouring outputs are loaded once (<see cref="IDepthwiseTaps"/>). Groups that reach into
            /// the padding (or past the row's end) check their input columns; the rest do not.
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void WideRow<TTaps>(int oy, float** rows, int kyBegin, int kyEnd, int firstChannel, int wide, float* sums) where TTaps : struct, IDepthwiseTaps
            {
                int c = firstChannel;
                for (; c + 16 <= wide; c += 16)
                    ChannelRow<TTaps, Interior, Edge>(oy, rows, kyBegin, kyEnd, c, sums);
                if (c < wide) // 8 channels left (a 5x5 conv on 24, 40 or 56 channels)
                    ChannelRow<TTaps, InteriorHalf, EdgeHalf>(oy, rows, kyBegin, kyEnd, c, sums);
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void ChannelRow<TTaps, TInterior, TEdge>(int oy, float** rows, int kyBegin, int kyEnd, int c, float* sums)
                where TTaps : struct, IDepthwiseTaps where TInterior : struct, ITapMode where TEdge : struct, ITapMode
            {
                long channels = _channels;
                float* outRow = _y + (long)oy * _outWidth * channels;
                Vector512<float> bias = DepthwiseTaps.Load<TInterior>(_b + c), sum = Vector512<float>.Zero;
                for (int ox = 0; ox < _outWidth; ox += Quad)
                {
                    int column = ox * TTaps.Stride - _padLeft;
                    float* to = outRow + ox * channels + c;
                    if (column >= 0 && (ox + Quad - 1) * TTaps.Stride - _padLeft + TTaps.Kernel <= _inWidth && ox + Quad <= _outWidth)
                        sum += FourOutputs<TTaps, TInterior>(rows, kyBegin, kyEnd, column, c, bias, to, Quad);
                    else
                        sum += FourOutputs<TTaps, TEdge>(rows, kyBegin, kyEnd, column, c, bias, to, Math.Min(Quad, _outWidth - ox));
                }
                if (sums == null) { }
                else if (TInterior.Half)
                    (Vector256.Load(sums + c) + sum.GetLower()).Store(sums + c);
                else
                    (Vector512.Load(sums + c) + sum).Store(sums + c);
            }

            /// <summary>
            /// Outputs ox .. ox + 3 (the first <paramref name="count"/> of them are stored) of channel vector
            /// <paramref name="c"/>, whose windows start at input column <paramref name="column"/>; returns their sum.
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            Vector512<float> FourOutputs<TTaps, TMode>(float** rows, int kyBegin, int kyEnd, int column, int c, Vector512<float> bias, float* to, int count)
                where TTaps : struct, IDepthwiseTaps where TMode : struct, ITapMode
            {
                long channels = _channels;
                long left = column * channels + c;
                Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                for (int ky = kyBegin; ky < kyEnd; ky++)
                    TTaps.Accumulate<TMode>(rows[ky] + left, _w + ky * TTaps.Kernel * channels + c, channels, column, _inWidth,
                                            ref a0, ref a1, ref a2, ref a3);
                a0 = Simd.Activate(a0, _activation); a1 = Simd.Activate(a1, _activation);
                a2 = Simd.Activate(a2, _activation); a3 = Simd.Activate(a3, _activation);
                // With an 8-channel rest the upper halves are zero throughout (zero bias, inputs and weights; SiLU(0) = 0),
                // so they add nothing to the sums.
                if (!TMode.Checked || count == Quad)
                {
                    Store<TMode>(a0, to); Store<TMode>(a1, to + channels); Store<TMode>(a2, to + 2 * channels); Store<TMode>(a3, to + 3 * channels);
                    return (a0 + a1) + (a2 + a3);
                }
                // The row's last outputs, fewer than four.
                Store<TMode>(a0, to);
                Vector512<float> sum = a0;
                if (count > 1) { Store<TMode>(a1, to + channels); sum += a1; }
                if (count > 2) { Store<TMode>(a2, to + 2 * channels); sum += a2; }
                return sum;
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            static void Store<TMode>(Vector512<float> a, float* to) where TMode : struct, ITapMode
            {
                if (TMode.Half) a.GetLower().Store(to);
                else a.Store(to);
            }

            /// <summary>
            /// Output row <paramref name="oy"/> pixel by pixel: channels [<paramref name="firstChannel"/>, <paramref name="endChannel"/>),
            /// AVX-512 up to <paramref name="wide"/> and <see cref="Vector{T}"/> past it (all of them without AVX-512); interior
            /// pixels four at a time when <paramref name="quads"/> (AVX2 machines too).
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void PixelRow(int oy, float** rows, int kyBegin, int kyEnd, int firstChannel, int wide, int endChannel, bool quads, float* sums)
            {
                int channels = _channels, kernel = _kernel;
                float* w = _w, b = _b;
                for (int ox = 0; ox < _outWidth; ox++)
                {
                    // Four neighbouring outputs whose windows are all inside: four independent accumulators per
                    // channel vector (a single output is one dependent FMA chain, bound by FMA latency).
                    if (quads && ox + Quad <= _outWidth && QuadInside(ox))
                    {
                        QuadPixels(oy, ox, rows, kyBegin, kyEnd, firstChannel, wide, endChannel, sums);
                        ox += Quad - 1;
                        continue;
                    }
                    int ix0 = ox * _stride - _padLeft;
                    int kxBegin = Math.Max(0, -ix0), kxEnd = Math.Min(kernel, _inWidth - ix0);
                    long left = (long)ix0 * channels;
                    float* to = _y + ((long)oy * _outWidth + ox) * channels;

                    // A pixel at the edge: four channel vectors at a time, so four FMA chains are in flight rather than one.
                    int c = firstChannel;
                    for (; c + 64 <= wide; c += 64)
                    {
                        Vector512<float> a0 = Vector512.Load(b + c), a1 = Vector512.Load(b + c + 16);
                        Vector512<float> a2 = Vector512.Load(b + c + 32), a3 = Vector512.Load(b + c + 48);
                        for (int ky = kyBegin; ky < kyEnd; ky++)
                        {
                            float* from = rows[ky] + left + c;
                            float* tap = w + (long)ky * kernel * channels + c;
                            for (int kx = kxBegin; kx < kxEnd; kx++)
                            {
                                float* f = from + (long)kx * channels, t = tap + (long)kx * channels;
                                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(f), Vector512.Load(t), a0);
                                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(f + 16), Vector512.Load(t + 16), a1);
                                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(f + 32), Vector512.Load(t + 32), a2);
                                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(f + 48), Vector512.Load(t + 48), a3);
                            }
                        }
                        a0 = Simd.Activate(a0, _activation); a1 = Simd.Activate(a1, _activation);
                        a2 = Simd.Activate(a2, _activation); a3 = Simd.Activate(a3, _activation);
                        a0.Store(to + c); a1.Store(to + c + 16); a2.Store(to + c + 32); a3.Store(to + c + 48);
                        if (sums != null) (Vector512.Load(sums + c) + a0).Store(sums + c);
                        if (sums != null) (Vector512.Load(sums + c + 16) + a1).Store(sums + c + 16);
                        if (sums != null) (Vector512.Load(sums + c + 32) + a2).Store(sums + c + 32);
                        if (sums != null) (Vector512.Load(sums + c + 48) + a3).Store(sums + c + 48);
                    }
                    for (; c < wide; c += 16)
                    {
                        Vector512<float> acc = Vector512.Load(b + c);
                        for (int ky = kyBegin; ky < kyEnd; ky++)
                        {
                            float* from = rows[ky] + left + c;
                            float* tap = w + (long)ky * kernel * channels + c;
                            for (int kx = kxBegin; kx < kxEnd; kx++)
                                acc = Vector512.FusedMultiplyAdd(Vector512.Load(from + (long)kx * channels), Vector512.Load(tap + (long)kx * channels), acc);
                        }
                        acc = Simd.Activate(acc, _activation);
                        acc.Store(to + c);
                        if (sums != null) (Vector512.Load(sums + c) + acc).Store(sums + c);
                    }
                    if (wide < endChannel)
                        NarrowPixel(oy, ox, rows, kyBegin, kyEnd, Math.Max(firstChannel, wide), endChannel, sums);
                }
            }
        }
    }
}
