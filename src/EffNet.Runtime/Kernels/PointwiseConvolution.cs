using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EffNet.Kernels
{
    /// <summary>
    /// 1x1 convolution on an HWC map, i.e. the GEMM output[P, N] = input[P, K] x weights[K, N] + bias, with the activation,
    /// an optional residual add and an optional per-input-channel scale (the squeeze-excitation gate) fused in.
    /// Used for the expand, project and head convs: about 88% of EfficientNet's multiply-adds.
    /// </summary>
    /// <remarks>
    /// The output channels are walked in panels of <see cref="PanelWidth"/>; each panel's K x 64 weights stay in L2 while
    /// every pixel passes through a register tile of 6 pixels x 64 channels (24 AVX-512 accumulators). The weights are
    /// stored panel by panel (<see cref="PackPanels"/>, done once at load), so a panel is one contiguous stream: read in
    /// [K, N] order, its rows sit N floats apart and the hardware prefetcher stops at every page boundary. With a gate, the
    /// weights are first copied into scratch with each input channel's row scaled, which costs K x N multiplies instead of
    /// a pass over the whole P x K input.
    /// </remarks>
    public static unsafe partial class PointwiseConvolution
    {
        /// <summary>Output channels per weight panel.</summary>
        public const int PanelWidth = 64;

        /// <summary>Floats of scratch a gated call needs: the whole gate-scaled weight matrix.</summary>
        public static int PanelScratchLength(int inChannels, int outChannels) => inChannels * outChannels;

        /// <summary>
        /// Reorders [inChannels, outChannels] weights into the panel order <see cref="Run"/> reads: for each panel of
        /// <see cref="PanelWidth"/> output channels (the last one possibly narrower), its inChannels rows one after another.
        /// </summary>
        public static void PackPanels(ReadOnlySpan<float> weights, Span<float> panels, int inChannels, int outChannels)
        {
            Check.Length(weights.Length, (long)inChannels * outChannels, nameof(weights));
            Check.Length(panels.Length, (long)inChannels * outChannels, nameof(panels));
            int at = 0;
            for (int col = 0; col < outChannels; col += PanelWidth)
            {
                int width = Math.Min(PanelWidth, outChannels - col);
                for (int k = 0; k < inChannels; k++, at += width)
                    weights.Slice(k * outChannels + col, width).CopyTo(panels.Slice(at, width));
            }
        }

        // Below this many 6-pixel tiles per thread, splitting the rows costs more than it saves.
        const int MinTilesPerThread = 2;

        /// <param name="input">[pixels, inChannels]</param>
        /// <param name="weights">[inChannels, outChannels] in panel order (<see cref="PackPanels"/>), BatchNorm folded in</param>
        /// <param name="bias">[outChannels]</param>
        /// <param name="output">[pixels, outChannels]; must not overlap the input</param>
        /// <param name="residual">[pixels, outChannels] added after the activation, or empty</param>
        /// <param name="inputScale">[inChannels] multiplied into each input channel (the SE gate), or empty</param>
        /// <param name="panelScratch">at least <see cref="PanelScratchLength"/> floats when <paramref name="inputScale"/> is given</param>
        /// <param name="workers">threads to split the pixels over, or null for the calling thread only</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output,
                               int pixels, int inChannels, int outChannels, Activation activation,
                               ReadOnlySpan<float> residual = default, ReadOnlySpan<float> inputScale = default, Span<float> panelScratch = default,
                               Threading.WorkerPool? workers = null)
        {
            Check.Length(input.Length, (long)pixels * inChannels, nameof(input));
            Check.Length(weights.Length, (long)inChannels * outChannels, nameof(weights));
            Check.Length(bias.Length, outChannels, nameof(bias));
            Check.Length(output.Length, (long)pixels * outChannels, nameof(output));
            if (!residual.IsEmpty) Check.Length(residual.Length, (long)pixels * outChannels, nameof(residual));
            if (!inputScale.IsEmpty)
            {
                Check.Length(inputScale.Length, inChannels, nameof(inputScale));
                Check.Length(panelScratch.Length, PanelScratchLength(inChannels, outChannels), nameof(panelScratch));
            }

            fixed (float* x = input, w = weights, b = bias, y = output, r = residual, s = inputScale, scratch = panelScratch)
            {
                float* matrix = w;
                if (!inputScale.IsEmpty)
                {
                    ScaleRows(w, s, inChannels, outChannels, scratch);
                    matrix = scratch;
                }
                var gemm = new Gemm(x, pixels, inChannels, y, outChannels, matrix, b, residual.IsEmpty ? null : r, activation);
                int tiles = (pixels + Gemm.Rows - 1) / Gemm.Rows, panels = (outChannels + PanelWidth - 1) / PanelWidth;
                if (workers is null || tiles * panels < MinTilesPerThread * workers.Threads)
                {
                    gemm.Pixels(0, pixels);
                    return;
                }
                var job = (TilesJob)(workers.PointwiseJob ??= new TilesJob());
                job.Gemm = gemm;
                job.Tiles = tiles;
                workers.Run(job, tiles * panels);
            }
        }

        /// <summary>
        /// A GEMM split over the pool's threads as (panel, 6-pixel tile) pairs, panel by panel: each chunk is a contiguous
        /// run of them, so a panel's weights are brought into cache by one or two threads rather than all, and few pixels
        /// (the 7x7 layers: 9 tiles) with many panels still split evenly.
        /// </summary>
        sealed class TilesJob : Threading.IParallelJob
        {
            public Gemm Gemm;
            public int Tiles;

            public void Execute(int start, int end, int worker)
            {
                for (int part = start; part < end;)
                {
                    int panel = part / Tiles, tile = part % Tiles;
                    int stop = Math.Min(end, (panel + 1) * Tiles); // this panel's tiles in the range
                    Gemm.Panel(panel, tile * Gemm.Rows, Math.Min((tile + stop - part) * Gemm.Rows, Gemm.PixelCount));
                    part = stop;
                }
            }
        }

        // Each panel row k times scale[k]: the gate folded into the weights, K x N multiplies instead of P x K.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        static void ScaleRows(float* panels, float* scale, int inChannels, int outChannels, float* scratch)
        {
            for (int col = 0; col < outChannels; col += PanelWidth)
            {
                int width = Math.Min(PanelWidth, outChannels - col);
                for (int k = 0; k < inChannels; k++, panels += width, scratch += width)
                {
                    float sk = scale[k];
                    int j = 0;
                    for (; j + Vector<float>.Count <= width; j += Vector<float>.Count)
                        (Vector.Load(panels + j) * sk).Store(scratch + j);
                    for (; j < width; j++)
                        scratch[j] = panels[j] * sk;
                }
            }
        }

        /// <summary>One GEMM call's operands; the panel methods read them from here.</summary>
        internal readonly struct Gemm
        {
            /// <summary>Pixels per register tile.</summary>
            public const int Rows = 6;

            readonly float* _x, _y, _w, _bias, _residual;
            readonly int _pixels, _k, _n;
            readonly Activation _activation;
            // Null for a [pixels, k] input. Otherwise tap i of pixel p is at _x + p * _pitch + _tapOffsets[i]: the k x k
            // convolutions read their windows in place instead of gathering them into rows.
            readonly int* _tapOffsets;
            readonly int _pitch;

            public Gemm(float* x, int pixels, int k, float* y, int n, float* w, float* bias, float* residual, Activation activation)
            {
                _x = x; _pixels = pixels; _k = k; _y = y; _n = n; _w = w; _bias = bias; _residual = residual; _activation = activation;
                _pitch = k;
            }

            /// <summary>A GEMM whose input pixel p has its k taps at <paramref name="x"/> + p * pitch + tapOffsets[i].</summary>
            public Gemm(float* x, int pixels, int pitch, int* tapOffsets, int k, float* y, int n, float* w, float* bias, Activation activation,
                        float* residual = null)
                : this(x, pixels, k, y, n, w, bias, residual, activation)
            {
                _pitch = pitch;
                _tapOffsets = tapOffsets;
            }

            /// <summary>Whether <paramref name="n"/> output channels go through the AVX-512 tile alone, which is the only
            /// path that reads taps through offsets.</summary>
            public static bool TilesAll(int n) => Vector512.IsHardwareAccelerated && n >= 16 && n <= PanelWidth && n % 8 == 0;

            public int PixelCount => _pixels;

            /// <summary>Output channels [64 index, 64 index + 64) of pixels [first, end).</summary>
            public void Panel(int index, int first, int end)
            {
                int col = index * PanelWidth;
                Panel(_w + (long)col * _k, col, Math.Min(PanelWidth, _n - col), first, end);
            }

            /// <summary>Every output channel of pixels [first, end), panel by panel.</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Pixels(int first, int end)
            {
                for (int col = 0; col < _n; col += PanelWidth)
                    Panel(_w + (long)col * _k, col, Math.Min(PanelWidth, _n - col), first, end);
            }

            /// <summary>Output columns [col, col + width) of pixels [first, end); <paramref name="w"/> points at the panel, K rows of <paramref name="width"/>.</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Panel(float* w, int col, int width, int first, int end)
            {
                int done = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    // Whole 16-channel vectors through the AVX-512 tile, widest first; an 8-channel rest (the 24- and
                    // 40-channel project convs) rides along in the same tile as a 256-bit column.
                    int vectors = width / 16;
                    bool half = width % 16 == 8;
                    // The stem's windows read their taps through the offsets (see TilesAll); the 1x1 convs read rows.
                    if (_tapOffsets != null) Tiles512<Windows>(w, col, width, vectors, half, first, end);
                    else Tiles512<Rows>(w, col, width, vectors, half, first, end);
                    if (vectors > 0) done = vectors * 16 + (half ? 8 : 0);
                }
                else if (Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported)
                {
                    // AVX2: the same tile at half the width, 16 channels (two vectors) at a time.
                    for (; done + 16 <= width; done += 16)
                        Tile256<Two>(w + done, width, col + done, first, end);
                    if (done + 8 <= width) { Tile256<One>(w + done, width, col + done, first, end); done += 8; }
                }
                for (; done + Vector<float>.Count <= width; done += Vector<float>.Count)
                    ColumnVector(w + done, width, col + done, first, end);
                for (; done < width; done++)
                    ColumnScalar(w + done, width, col + done, first, end);
            }

            // The tile instance for a panel of `vectors` 16-channel vectors, plus 8 channels when `half`.
            void Tiles512<TL>(float* w, int col, int width, int vectors, bool half, int first, int end) where TL : struct, IInputLayout
            {
                if (vectors == 4) Tile512<Four, Zero, TL>(w, width, col, first, end);
                else if (vectors == 3) { if (half) Tile512<Three, One, TL>(w, width, col, first, end); else Tile512<Three, Zero, TL>(w, width, col, first, end); }
                else if (vectors == 2) { if (half) Tile512<Two, One, TL>(w, width, col, first, end); else Tile512<Two, Zero, TL>(w, width, col, first, end); }
                else if (vectors == 1) { if (half) Tile512<One, One, TL>(w, width, col, first, end); else Tile512<One, Zero, TL>(w, width, col, first, end); }
            }

            // 6 pixels x TV vectors of 16 channels (plus TH of 8) per step of the K loop: 6 broadcasts, TV (+ TH) loads,
            // 6 x (TV + TH) FMAs.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Tile512<TV, TH, TL>(float* w, int stride, int col, int first, int end)
                where TV : struct, IVectorCount where TH : struct, IVectorCount where TL : struct, IInputLayout
            {
                int k = _k;
                float* bias = _bias + col;
                Vector512<float> b0 = Vector512.Load(bias);
                Vector512<float> b1 = TV.Count > 1 ? Vector512.Load(bias + 16) : default;
                Vector512<float> b2 = TV.Count > 2 ? Vector512.Load(bias + 32) : default;
                Vector512<float> b3 = TV.Count > 3 ? Vector512.Load(bias + 48) : default;
                Vector256<float> bh = TH.Count > 0 ? Vector256.Load(bias + 16 * TV.Count) : default;
                int width = TV.Count * 16 + TH.Count * 8;
                long pitch = _pitch;

                int p = first;
                for (; p + Rows <= end; p += Rows)
                {
                    Vector512<float> a00 = b0, a01 = b1, a02 = b2, a03 = b3;
                    Vector512<float> a10 = b0, a11 = b1, a12 = b2, a13 = b3;
                    Vector512<float> a20 = b0, a21 = b1, a22 = b2, a23 = b3;
                    Vector512<float> a30 = b0, a31 = b1, a32 = b2, a33 = b3;
                    Vector512<float> a40 = b0, a41 = b1, a42 = b2, a43 = b3;
                    Vector512<float> a50 = b0, a51 = b1, a52 = b2, a53 = b3;
                    Vector256<float> h0 = bh, h1 = bh, h2 = bh, h3 = bh, h4 = bh, h5 = bh;
                    float* x0 = _x + (long)p * pitch;
                    float* wk = w;
                    for (int i = 0; i < k; i++, wk += stride)
                    {
                        float* xi = x0 + TL.Tap(i, _tapOffsets);
                        Vector512<float> w0 = Vector512.Load(wk);
                        Vector512<float> w1 = TV.Count > 1 ? Vector512.Load(wk + 16) : default;
                        Vector512<float> w2 = TV.Count > 2 ? Vector512.Load(wk + 32) : default;
                        Vector512<float> w3 = TV.Count > 3 ? Vector512.Load(wk + 48) : default;
                        Vector256<float> wh = TH.Count > 0 ? Vector256.Load(wk + 16 * TV.Count) : default;
                        Vector512<float> v = Vector512.Create(xi[0]);
                        a00 = Fma(v, w0, a00); if (TV.Count > 1) a01 = Fma(v, w1, a01); if (TV.Count > 2) a02 = Fma(v, w2, a02); if (TV.Count > 3) a03 = Fma(v, w3, a03);
                        if (TH.Count > 0) h0 = Fma(v.GetLower(), wh, h0);
                        v = Vector512.Create(xi[pitch]);
                        a10 = Fma(v, w0, a10); if (TV.Count > 1) a11 = Fma(v, w1, a11); if (TV.Count > 2) a12 = Fma(v, w2, a12); if (TV.Count > 3) a13 = Fma(v, w3, a13);
                        if (TH.Count > 0) h1 = Fma(v.GetLower(), wh, h1);
                        v = Vector512.Create(xi[2 * pitch]);
                        a20 = Fma(v, w0, a20); if (TV.Count > 1) a21 = Fma(v, w1, a21); if (TV.Count > 2) a22 = Fma(v, w2, a22); if (TV.Count > 3) a23 = Fma(v, w3, a23);
                        if (TH.Count > 0) h2 = Fma(v.GetLower(), wh, h2);
                        v = Vector512.Create(xi[3 * pitch]);
                        a30 = Fma(v, w0, a30); if (TV.Count > 1) a31 = Fma(v, w1, a31); if (TV.Count > 2) a32 = Fma(v, w2, a32); if (TV.Count > 3) a33 = Fma(v, w3, a33);
                        if (TH.Count > 0) h3 = Fma(v.GetLower(), wh, h3);
                        v = Vector512.Create(xi[4 * pitch]);
                        a40 = Fma(v, w0, a40); if (TV.Count > 1) a41 = Fma(v, w1, a41); if (TV.Count > 2) a42 = Fma(v, w2, a42); if (TV.Count > 3) a43 = Fma(v, w3, a43);
                        if (TH.Count > 0) h4 = Fma(v.GetLower(), wh, h4);
                        v = Vector512.Create(xi[5 * pitch]);
                        a50 = Fma(v, w0, a50); if (TV.Count > 1) a51 = Fma(v, w1, a51); if (TV.Count > 2) a52 = Fma(v, w2, a52); if (TV.Count > 3) a53 = Fma(v, w3, a53);
                        if (TH.Count > 0) h5 = Fma(v.GetLower(), wh, h5);
                    }
                    StoreRow<TV, TH>(p, col, a00, a01, a02, a03, h0);
                    StoreRow<TV, TH>(p + 1, col, a10, a11, a12, a13, h1);
                    StoreRow<TV, TH>(p + 2, col, a20, a21, a22, a23, h2);
                    StoreRow<TV, TH>(p + 3, col, a30, a31, a32, a33, h3);
                    StoreRow<TV, TH>(p + 4, col, a40, a41, a42, a43, h4);
                    StoreRow<TV, TH>(p + 5, col, a50, a51, a52, a53, h5);
                    Finish(p, Rows, col, width);
                }
                for (; p < end; p++)
                {
                    Vector512<float> a0 = b0, a1 = b1, a2 = b2, a3 = b3;
                    Vector256<float> h = bh;
                    float* x0 = _x + (long)p * pitch;
                    float* wk = w;
                    for (int i = 0; i < k; i++, wk += stride)
                    {
                        Vector512<float> v = Vector512.Create(x0[TL.Tap(i, _tapOffsets)]);
                        a0 = Fma(v, Vector512.Load(wk), a0);
                        if (TV.Count > 1) a1 = Fma(v, Vector512.Load(wk + 16), a1);
                        if (TV.Count > 2) a2 = Fma(v, Vector512.Load(wk + 32), a2);
                        if (TV.Count > 3) a3 = Fma(v, Vector512.Load(wk + 48), a3);
                        if (TH.Count > 0) h = Fma(v.GetLower(), Vector256.Load(wk + 16 * TV.Count), h);
                    }
                    StoreRow<TV, TH>(p, col, a0, a1, a2, a3, h);
                    Finish(p, 1, col, width);
                }
            }

            // The AVX2 tile: 6 pixels x TV vectors of 8 channels (12 of the 16 ymm registers hold accumulators).
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Tile256<TV>(float* w, int stride, int col, int first, int end) where TV : struct, IVectorCount
            {
                int k = _k;
                Vector256<float> b0 = Vector256.Load(_bias + col);
                Vector256<float> b1 = TV.Count > 1 ? Vector256.Load(_bias + col + 8) : default;
                int p = first;
                for (; p + Rows <= end; p += Rows)
                {
                    Vector256<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1;
                    Vector256<float> a30 = b0, a31 = b1, a40 = b0, a41 = b1, a50 = b0, a51 = b1;
                    float* x0 = _x + (long)p * k;
                    float* wk = w;
                    for (int i = 0; i < k; i++, wk += stride)
                    {
                        Vector256<float> w0 = Vector256.Load(wk);
                        Vector256<float> w1 = TV.Count > 1 ? Vector256.Load(wk + 8) : default;
                        Vector256<float> v = Vector256.Create(x0[i]);
                        a00 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w0, a00); if (TV.Count > 1) a01 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w1, a01);
                        v = Vector256.Create(x0[k + i]);
                        a10 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w0, a10); if (TV.Count > 1) a11 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w1, a11);
                        v = Vector256.Create(x0[2 * k + i]);
                        a20 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w0, a20); if (TV.Count > 1) a21 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w1, a21);
                        v = Vector256.Create(x0[3 * k + i]);
                        a30 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w0, a30); if (TV.Count > 1) a31 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w1, a31);
                        v = Vector256.Create(x0[4 * k + i]);
                        a40 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w0, a40); if (TV.Count > 1) a41 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w1, a41);
                        v = Vector256.Create(x0[5 * k + i]);
                        a50 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w0, a50); if (TV.Count > 1) a51 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, w1, a51);
                    }
                    StoreRow256<TV>(p, col, a00, a01);
                    StoreRow256<TV>(p + 1, col, a10, a11);
                    StoreRow256<TV>(p + 2, col, a20, a21);
                    StoreRow256<TV>(p + 3, col, a30, a31);
                    StoreRow256<TV>(p + 4, col, a40, a41);
                    StoreRow256<TV>(p + 5, col, a50, a51);
                    FinishVectors(p, Rows, col, TV.Count * 8);
                }
                for (; p < end; p++)
                {
                    Vector256<float> a0 = b0, a1 = b1;
                    float* x0 = _x + (long)p * k;
                    float* wk = w;
                    for (int i = 0; i < k; i++, wk += stride)
                    {
                        Vector256<float> v = Vector256.Create(x0[i]);
                        a0 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, Vector256.Load(wk), a0);
                        if (TV.Count > 1) a1 = System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(v, Vector256.Load(wk + 8), a1);
                    }
                    StoreRow256<TV>(p, col, a0, a1);
                    FinishVectors(p, 1, col, TV.Count * 8);
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void StoreRow256<TV>(int p, int col, Vector256<float> a0, Vector256<float> a1) where TV : struct, IVectorCount
            {
                float* at = _y + (long)p * _n + col;
                a0.Store(at);
                if (TV.Count > 1) a1.Store(at + 8);
            }

            /// <summary><see cref="Finish"/> on <see cref="Vector{T}"/>: the epilogue of the AVX2 tile.</summary>
            [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
            void FinishVectors(int firstRow, int rows, int col, int width)
            {
                if (_activation == Activation.None && _residual == null)
                    return;
                for (int p = firstRow; p < firstRow + rows; p++)
                {
                    long row = (long)p * _n + col;
                    for (int j = 0; j < width; j += Vector<float>.Count)
                    {
                        Vector<float> a = Vector.Load(_y + row + j);
                        a = Simd.Activate(a, _activation);
                        if (_residual != null) a += Vector.Load(_residual + row + j);
                        a.Store(_y + row + j);
                    }
                }
            }

            // The tile stores raw sums; the epilogue runs afterwards on the rows still in L1. Keeping calls (Exp) out of the
            // tile loop lets the JIT hold all 24 accumulators in registers instead of spilling them on every step.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void StoreRow<TV, TH>(int p, int col, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, Vector256<float> h)
                where TV : struct, IVectorCount where TH : struct, IVectorCount
            {
                if (_activation == Activation.ReLU6)
                {
                    // A clamp needs no registers the tile has not just freed: applied here, it saves the epilogue a pass.
                    a0 = Simd.Activate(a0, Activation.ReLU6);
                    if (TV.Count > 1) a1 = Simd.Activate(a1, Activation.ReLU6);
                    if (TV.Count > 2) a2 = Simd.Activate(a2, Activation.ReLU6);
                    if (TV.Count > 3) a3 = Simd.Activate(a3, Activation.ReLU6);
                    if (TH.Count > 0) h = Vector256.Min(Vector256.Max(h, Vector256<float>.Zero), Vector256.Create(6f));
                }
                float* at = _y + (long)p * _n + col;
                a0.Store(at);
                if (TV.Count > 1) a1.Store(at + 16);
                if (TV.Count > 2) a2.Store(at + 32);
                if (TV.Count > 3) a3.Store(at + 48);
                if (TH.Count > 0) h.Store(at + 16 * TV.Count);
            }

            /// <summary>
            /// Activation, then the residual add, over rows [firstRow, firstRow + rows) of columns [col, col + width), after the
            /// AVX-512 tile stored them (which applied a ReLU6 already).
            /// </summary>
            [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
            void Finish(int firstRow, int rows, int col, int width)
            {
                Activation activation = _activation == Activation.ReLU6 ? Activation.None : _activation;
                if (activation == Activation.None && _residual == null)
                    return;
                for (int p = firstRow; p < firstRow + rows; p++)
                {
                    long row = (long)p * _n + col;
                    int j = 0;
                    for (; j + 16 <= width; j += 16)
                    {
                        Vector512<float> a = Vector512.Load(_y + row + j);
                        a = Simd.Activate(a, activation);
                        if (_residual != null) a += Vector512.Load(_residual + row + j);
                        a.Store(_y + row + j);
                    }
                    if (j < width)
                    {
                        // The 8-channel rest: the AVX-512 activation on a vector whose upper half is zero.
                        Vector256<float> a = Vector256.Load(_y + row + j);
                        if (activation != Activation.None) a = Simd.Activate(Vector512.Create(a, Vector256<float>.Zero), activation).GetLower();
                        if (_residual != null) a += Vector256.Load(_residual + row + j);
                        a.Store(_y + row + j);
                    }
                }
            }

            // One Vector<float> of output channels for every pixel, 4 pixels at a time: the portable path and the 8-channel tails.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void ColumnVector(float* w, int stride, int col, int first, int end)
            {
                int k = _k, n = _n;
                var bias = Vector.Load(_bias + col);
                int p = first;
                for (; p + 4 <= end; p += 4)
                {
                    Vector<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                    float* x0 = _x + (long)p * k;
                    float* wk = w;
                    for (int i = 0; i < k; i++, wk += stride)
                    {
                        Vector<float> wi = Vector.Load(wk);
                        a0 = Simd.MultiplyAdd(new Vector<float>(x0[i]), wi, a0);
                        a1 = Simd.MultiplyAdd(new Vector<float>(x0[k + i]), wi, a1);
                        a2 = Simd.MultiplyAdd(new Vector<float>(x0[2 * k + i]), wi, a2);
                        a3 = Simd.MultiplyAdd(new Vector<float>(x0[3 * k + i]), wi, a3);
                    }
                    StoreVector(a0, (long)p * n + col);
                    StoreVector(a1, (long)(p + 1) * n + col);
                    StoreVector(a2, (long)(p + 2) * n + col);
                    StoreVector(a3, (long)(p + 3) * n + col);
                }
                for (; p < end; p++)
                {
                    Vector<float> a = bias;
                    float* x0 = _x + (long)p * k;
                    float* wk = w;
                    for (int i = 0; i < k; i++, wk += stride)
                        a = Simd.MultiplyAdd(new Vector<float>(x0[i]), Vector.Load(wk), a);
                    StoreVector(a, (long)p * n + col);
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void StoreVector(Vector<float> a, long at)
            {
                a = Simd.Activate(a, _activation);
                if (_residual != null) a += Vector.Load(_residual + at);
                a.Store(_y + at);
            }

            // Only for channel counts that are not a multiple of 8, which EfficientNet never has.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void ColumnScalar(float* w, int stride, int col, int first, int end)
            {
                for (int p = first; p < end; p++)
                {
                    float a = _bias[col];
                    float* x0 = _x + (long)p * _k;
                    for (int i = 0; i < _k; i++)
                        a += x0[i] * w[(long)i * stride];
                    a = Simd.Activate(a, _activation);
                    long at = (long)p * _n + col;
                    if (_residual != null) a += _residual[at];
                    _y[at] = a;
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
        }
    }

    /// <summary>How many vectors wide a register tile is; a type parameter so the JIT compiles one tile per width.</summary>
    /// <summary>Where a GEMM pixel's taps are, relative to its first: a type parameter so the 1x1 convs pay nothing for the stem's case.</summary>
    unsafe interface IInputLayout { static abstract long Tap(int i, int* offsets); }
    /// <summary>The [pixels, k] matrix of the 1x1 convs: tap i is the i-th float of the pixel's row.</summary>
    unsafe struct Rows : IInputLayout { public static long Tap(int i, int* offsets) => i; }
    /// <summary>The stem's image windows, read in place: tap i is offsets[i] floats from the window's corner.</summary>
    unsafe struct Windows : IInputLayout { public static long Tap(int i, int* offsets) => offsets[i]; }

    interface IVectorCount { static abstract int Count { get; } }
    struct Zero : IVectorCount { public static int Count => 0; }
    struct One : IVectorCount { public static int Count => 1; }
    struct Two : IVectorCount { public static int Count => 2; }
    struct Three : IVectorCount { public static int Count => 3; }
    struct Four : IVectorCount { public static int Count => 4; }
}
