using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EffNet.Kernels
{
    /// <summary>
    /// A dense 3x3 stride-1 convolution on an HWC map (a Fused-MBConv's expand conv) by Winograd's F(2x2, 3x3): each 2x2
    /// block of outputs ("tile") comes from its 4x4 input patch in 16 multiplies per input-output channel pair instead of
    /// 36. Per tile, the patch is transformed (V = Bᵀ d B, adds only), the 16 transformed planes go through 16 GEMMs
    /// with the transformed weights (U = G g Gᵀ) on the 1x1 conv's register-tiled kernel, and the products come back
    /// (Y = Aᵀ M A) with bias, activation and residual. Same convolution as <see cref="Convolution"/>, to rounding.
    /// </summary>
    /// <remarks>
    /// The weights are transformed on every call, into <c>transformed</c> (16 x in x out floats): a pass over in x out
    /// weights, against the map's pixels x in x out multiply-adds, and no second copy of them in the blob.
    /// Tiles are taken a row of tiles at a time, <see cref="TileChunk"/> tiles at once so that the 16 transformed inputs
    /// and outputs of a chunk stay in L2; threads split the rows of tiles.
    /// </remarks>
    public static unsafe class ConvolutionWinograd2x2
    {
        /// <summary>Tiles transformed and multiplied at once (<see cref="Model.KernelChoices.WinogradTileChunk"/>).</summary>
        public const int TileChunk = Model.KernelChoices.WinogradTileChunk;

        /// <summary>Floats of <c>transformed</c>: the 16 transformed weight matrices and a zero bias for their GEMMs.</summary>
        public static long TransformedWeightFloats(int inChannels, int outChannels) => Model.KernelChoices.WinogradWeightFloats(inChannels, outChannels);

        /// <summary>Floats of one thread's row buffer: a chunk's 16 transformed input and output planes, and one input patch.</summary>
        public static long RowBufferFloats(int inChannels, int outChannels) => Model.KernelChoices.WinogradRowBufferFloats(inChannels, outChannels);

        /// <param name="input">[inHeight, inWidth, inChannels]</param>
        /// <param name="weights">[3 x 3 x inChannels, outChannels] in <see cref="PointwiseConvolution.PackPanels"/> order, BatchNorm folded in</param>
        /// <param name="output">[outHeight, outWidth, outChannels]; must not overlap the input</param>
        /// <param name="residual">[outHeight, outWidth, outChannels] added after the activation, or empty</param>
        /// <param name="transformed">at least <see cref="TransformedWeightFloats"/> floats of scratch</param>
        /// <param name="rowBuffers">at least threads x <see cref="RowBufferFloats"/> floats of scratch</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, int inHeight, int inWidth, int inChannels,
                               ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int padTop, int padLeft,
                               Span<float> output, int outHeight, int outWidth, int outChannels, Activation activation,
                               ReadOnlySpan<float> residual, Span<float> transformed, Span<float> rowBuffers, Threading.WorkerPool? workers = null)
        {
            Check.Length(input.Length, (long)inHeight * inWidth * inChannels, nameof(input));
            Check.Length(weights.Length, 9L * inChannels * outChannels, nameof(weights));
            Check.Length(bias.Length, outChannels, nameof(bias));
            Check.Length(output.Length, (long)outHeight * outWidth * outChannels, nameof(output));
            if (!residual.IsEmpty) Check.Length(residual.Length, (long)outHeight * outWidth * outChannels, nameof(residual));
            Check.Length(transformed.Length, TransformedWeightFloats(inChannels, outChannels), nameof(transformed));
            long perThread = RowBufferFloats(inChannels, outChannels);
            Check.Length(rowBuffers.Length, perThread * (workers?.Threads ?? 1), nameof(rowBuffers));

            fixed (float* x = input, w = weights, b = bias, y = output, r = residual, u = transformed, rows = rowBuffers)
            {
                TransformWeights(w, u, inChannels, outChannels);
                new Span<float>(u + 16L * inChannels * outChannels, outChannels).Clear(); // the GEMMs' bias: added after the output transform
                var conv = new Tiles(x, inHeight, inWidth, inChannels, u, b, padTop, padLeft, y, outHeight, outWidth, outChannels, activation,
                                     residual.IsEmpty ? null : r, rows, perThread);
                int tileRows = (outHeight + 1) / 2;
                if (workers is null || tileRows < 2 * workers.Threads)
                {
                    conv.TileRows(0, tileRows, worker: 0);
                    return;
                }
                var job = (TileRowsJob)(workers.WinogradJob ??= new TileRowsJob());
                job.Conv = conv;
                workers.Run(job, tileRows, grain: 1);
            }
        }

        sealed class TileRowsJob : Threading.IParallelJob
        {
            public Tiles Conv;
            public void Execute(int start, int end, int worker) => Conv.TileRows(start, end, worker);
        }

        // U = G g Gᵀ for every (input, output) channel pair, G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1], written as 16 matrices
        // [in, out] in the panel order of the packed weights (each 64-wide panel of outputs, its rows one after another),
        // a vector of output channels at a time.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        static void TransformWeights(float* w, float* u, int inChannels, int outChannels)
        {
            int taps = 9 * inChannels;
            long plane = (long)inChannels * outChannels;
            var half = new Vector<float>(0.5f);
            for (int col = 0; col < outChannels; col += PointwiseConvolution.PanelWidth)
            {
                int width = Math.Min(PointwiseConvolution.PanelWidth, outChannels - col);
                float* panel = w + (long)col * taps;
                for (int ci = 0; ci < inChannels; ci++)
                {
                    float* to = u + (long)col * inChannels + (long)ci * width;
                    // Tap (ky, kx) of this input channel is row (ky * 3 + kx) * in + ci of the panel.
                    float* g = panel + (long)ci * width;
                    long tap = (long)inChannels * width;
                    int lane = 0;
                    for (; lane <= width - Vector<float>.Count; lane += Vector<float>.Count)
                    {
                        Vector<float> g00 = Vector.Load(g + 0 * tap + lane), g01 = Vector.Load(g + 1 * tap + lane), g02 = Vector.Load(g + 2 * tap + lane);
                        Vector<float> g10 = Vector.Load(g + 3 * tap + lane), g11 = Vector.Load(g + 4 * tap + lane), g12 = Vector.Load(g + 5 * tap + lane);
                        Vector<float> g20 = Vector.Load(g + 6 * tap + lane), g21 = Vector.Load(g + 7 * tap + lane), g22 = Vector.Load(g + 8 * tap + lane);
                        // G g: four rows of three; then each row times Gᵀ.
                        WeightRow(to + lane, plane, 0, g00, g01, g02, half);
                        WeightRow(to + lane, plane, 1, half * (g00 + g10 + g20), half * (g01 + g11 + g21), half * (g02 + g12 + g22), half);
                        WeightRow(to + lane, plane, 2, half * (g00 - g10 + g20), half * (g01 - g11 + g21), half * (g02 - g12 + g22), half);
                        WeightRow(to + lane, plane, 3, g20, g21, g22, half);
                    }
                    for (; lane < width; lane++)
                    {
                        float g00 = g[0 * tap + lane], g01 = g[1 * tap + lane], g02 = g[2 * tap + lane];
                        float g10 = g[3 * tap + lane], g11 = g[4 * tap + lane], g12 = g[5 * tap + lane];
                        float g20 = g[6 * tap + lane], g21 = g[7 * tap + lane], g22 = g[8 * tap + lane];
                        WeightRow(to + lane, plane, 0, g00, g01, g02);
                        WeightRow(to + lane, plane, 1, 0.5f * (g00 + g10 + g20), 0.5f * (g01 + g11 + g21), 0.5f * (g02 + g12 + g22));
                        WeightRow(to + lane, plane, 2, 0.5f * (g00 - g10 + g20), 0.5f * (g01 - g11 + g21), 0.5f * (g02 - g12 + g22));
                        WeightRow(to + lane, plane, 3, g20, g21, g22);
                    }
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void WeightRow(float* to, long plane, int i, Vector<float> c0, Vector<float> c1, Vector<float> c2, Vector<float> half)
        {
            c0.Store(to + (i * 4 + 0) * plane);
            (half * (c0 + c1 + c2)).Store(to + (i * 4 + 1) * plane);
            (half * (c0 - c1 + c2)).Store(to + (i * 4 + 2) * plane);
            c2.Store(to + (i * 4 + 3) * plane);
        }

        static void WeightRow(float* to, long plane, int i, float c0, float c1, float c2)
        {
            to[(i * 4 + 0) * plane] = c0;
            to[(i * 4 + 1) * plane] = 0.5f * (c0 + c1 + c2);
            to[(i * 4 + 2) * plane] = 0.5f * (c0 - c1 + c2);
            to[(i * 4 + 3) * plane] = c2;
        }

        /// <summary>The convolution's tiles; a row of tiles is two output rows.</summary>
        readonly struct Tiles
        {
            readonly float* _x, _u, _b, _y, _residual, _rowBuffers;
            readonly int _inHeight, _inWidth, _in, _padTop, _padLeft, _outHeight, _outWidth, _out;
            readonly Activation _activation;
            readonly long _perThread;

            public Tiles(float* x, int inHeight, int inWidth, int inChannels, float* u, float* b, int padTop, int padLeft,
                         float* y, int outHeight, int outWidth, int outChannels, Activation activation, float* residual, float* rowBuffers, long perThread)
            {
                _x = x; _inHeight = inHeight; _inWidth = inWidth; _in = inChannels; _u = u; _b = b; _padTop = padTop; _padLeft = padLeft;
                _y = y; _outHeight = outHeight; _outWidth = outWidth; _out = outChannels; _activation = activation; _residual = residual;
                _rowBuffers = rowBuffers; _perThread = perThread;
            }

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void TileRows(int first, int end, int worker)
            {
                float* v = _rowBuffers + worker * _perThread;       // [16][TileChunk][in]
                float* m = v + 16L * TileChunk * _in;               // [16][TileChunk][out]
                float* patch = m + 16L * TileChunk * _out;          // [16][in]: a patch at the map's edge, zeros included
                float* zeroBias = _u + 16L * _in * _out;
                long plane = (long)_in * _out;
                int tilesPerRow = (_outWidth + 1) / 2;
                for (int ty = first; ty < end; ty++)
                    for (int tx0 = 0; tx0 < tilesPerRow; tx0 += TileChunk)
                    {
                        int tiles = Math.Min(TileChunk, tilesPerRow - tx0);
                        for (int t = 0; t < tiles; t++)
                            TransformInput(ty, tx0 + t, v + (long)t * _in, TileChunk * _in, patch);
                        for (int e = 0; e < 16; e++)
                            new PointwiseConvolution.Gemm(v + (long)e * TileChunk * _in, tiles, _in, m + (long)e * TileChunk * _out, _out,
                                                          _u + e * plane, zeroBias, null, Activation.None).Pixels(0, tiles);
                        for (int t = 0; t < tiles; t++)
                            TransformOutput(ty, tx0 + t, m + (long)t * _out, TileChunk * _out);
                    }
            }

            // V = Bᵀ d B of the tile's 4x4 input patch d (zeros outside the map), Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1];
            // element e of the tile goes to to + e * stride. A patch reaching outside the map is copied with its zeros first.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void TransformInput(int ty, int tx, float* to, long stride, float* patch)
            {
                int iy0 = 2 * ty - _padTop, ix0 = 2 * tx - _padLeft;
                float* from;
                long rowPitch;
                if (iy0 >= 0 && ix0 >= 0 && iy0 + 4 <= _inHeight && ix0 + 4 <= _inWidth)
                {
                    from = _x + ((long)iy0 * _inWidth + ix0) * _in;
                    rowPitch = (long)_inWidth * _in;
                }
                else
                {
                    for (int r = 0; r < 4; r++)
                        for (int k = 0; k < 4; k++)
                        {
                            var pixel = new Span<float>(patch + (r * 4 + k) * _in, _in);
                            if ((uint)(iy0 + r) < (uint)_inHeight && (uint)(ix0 + k) < (uint)_inWidth)
                                new ReadOnlySpan<float>(_x + ((long)(iy0 + r) * _inWidth + ix0 + k) * _in, _in).CopyTo(pixel);
                            else
                                pixel.Clear();
                        }
                    from = patch;
                    rowPitch = 4L * _in;
                }
                int c = 0;
                if (Vector512.IsHardwareAccelerated)
                    c = InputLanes<Vector512<float>, Lanes512>(from, rowPitch, _in, to, stride, c);
                c = InputLanes<Vector<float>, LanesDefault>(from, rowPitch, _in, to, stride, c);
                for (; c < _in; c++)
                    InputLanes<float, LanesScalar>(from + c, rowPitch, _in, to + c, stride, 0, 1);
            }

            // Channels [c, ...) a vector at a time while a whole vector fits in `count`; returns where it stopped. Every helper
            // here is compiled fully optimised at once: a tier-0 copy of one made the first calls several times slower.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            static int InputLanes<TVector, TLanes>(float* from, long rowPitch, int pixelPitch, float* to, long stride, int c, int count = -1)
                where TLanes : ILanes<TVector>
            {
                if (count < 0) count = pixelPitch;
                for (; c <= count - TLanes.Count; c += TLanes.Count)
                {
                    float* p = from + c;
                    // Bᵀ d, a column of the patch at a time: rows r0..r3 of column k.
                    TVector a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3;
                    Column(p, rowPitch, out a0, out a1, out a2, out a3);
                    Column(p + pixelPitch, rowPitch, out b0, out b1, out b2, out b3);
                    Column(p + 2 * pixelPitch, rowPitch, out c0, out c1, out c2, out c3);
                    Column(p + 3 * pixelPitch, rowPitch, out d0, out d1, out d2, out d3);
                    // (Bᵀ d) B: row i of the product is (a_i, b_i, c_i, d_i) transformed again.
                    Row(to + c, stride, 0, a0, b0, c0, d0);
                    Row(to + c, stride, 1, a1, b1, c1, d1);
                    Row(to + c, stride, 2, a2, b2, c2, d2);
                    Row(to + c, stride, 3, a3, b3, c3, d3);
                }
                return c;

                [MethodImpl(MethodImplOptions.AggressiveInlining)]
                static void Column(float* p, long rowPitch, out TVector t0, out TVector t1, out TVector t2, out TVector t3)
                {
                    TVector x0 = TLanes.Load(p), x1 = TLanes.Load(p + rowPitch), x2 = TLanes.Load(p + 2 * rowPitch), x3 = TLanes.Load(p + 3 * rowPitch);
                    t0 = TLanes.Subtract(x0, x2);
                    t1 = TLanes.Add(x1, x2);
                    t2 = TLanes.Subtract(x2, x1);
                    t3 = TLanes.Subtract(x1, x3);
                }

                [MethodImpl(MethodImplOptions.AggressiveInlining)]
                static void Row(float* to, long stride, int i, TVector t0, TVector t1, TVector t2, TVector t3)
                {
                    TLanes.Store(TLanes.Subtract(t0, t2), to + (i * 4 + 0) * stride);
                    TLanes.Store(TLanes.Add(t1, t2), to + (i * 4 + 1) * stride);
                    TLanes.Store(TLanes.Subtract(t2, t1), to + (i * 4 + 2) * stride);
                    TLanes.Store(TLanes.Subtract(t1, t3), to + (i * 4 + 3) * stride);
                }
            }

            // Y = Aᵀ M A, Aᵀ = [1 1 1 0; 0 1 -1 -1], plus bias, activation and residual, for the tile's outputs inside the map.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void TransformOutput(int ty, int tx, float* from, long stride)
            {
                int oy0 = 2 * ty, ox0 = 2 * tx;
                int rows = Math.Min(2, _outHeight - oy0), columns = Math.Min(2, _outWidth - ox0);
                long at = ((long)oy0 * _outWidth + ox0) * _out, rowPitch = (long)_outWidth * _out;
                var tile = new OutputTile(_y + at, _residual == null ? null : _residual + at, rowPitch, _out, rows, columns, _activation);
                int c = 0;
                if (Vector512.IsHardwareAccelerated)
                    c = tile.Lanes<Vector512<float>, Lanes512>(from, stride, _b, c, _out);
                c = tile.Lanes<Vector<float>, LanesDefault>(from, stride, _b, c, _out);
                for (; c < _out; c++)
                    tile.Lanes<float, LanesScalar>(from + c, stride, _b + c, 0, 1, offset: c);
            }

        }

        /// <summary>Where a tile's up to 2 x 2 outputs go, and how they are finished.</summary>
        readonly struct OutputTile(float* y, float* residual, long rowPitch, int pixelPitch, int rows, int columns, Activation activation)
        {
            // Output channels [c, end) a vector at a time; returns where it stopped. offset: the channel of from[0] (scalar lanes).
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public int Lanes<TVector, TLanes>(float* from, long stride, float* bias, int c, int end, int offset = 0) where TLanes : ILanes<TVector>
            {
                for (; c <= end - TLanes.Count; c += TLanes.Count)
                {
                    // M A, a row of the 4x4 product at a time: its sum (output column 0) and difference (column 1).
                    Row(from + c, stride, 0, out TVector r0, out TVector s0);
                    Row(from + c, stride, 1, out TVector r1, out TVector s1);
                    Row(from + c, stride, 2, out TVector r2, out TVector s2);
                    Row(from + c, stride, 3, out TVector r3, out TVector s3);
                    TVector b = TLanes.Load(bias + c);
                    long channel = offset + c;
                    Put<TVector, TLanes>(0, 0, channel, TLanes.Add(TLanes.Add(TLanes.Add(r0, r1), r2), b));
                    if (columns > 1) Put<TVector, TLanes>(0, 1, channel, TLanes.Add(TLanes.Add(TLanes.Add(s0, s1), s2), b));
                    if (rows > 1) Put<TVector, TLanes>(1, 0, channel, TLanes.Add(TLanes.Subtract(TLanes.Subtract(r1, r2), r3), b));
                    if (rows > 1 && columns > 1) Put<TVector, TLanes>(1, 1, channel, TLanes.Add(TLanes.Subtract(TLanes.Subtract(s1, s2), s3), b));
                }
                return c;

                [MethodImpl(MethodImplOptions.AggressiveInlining)]
                static void Row(float* from, long stride, int i, out TVector sum, out TVector difference)
                {
                    TVector m0 = TLanes.Load(from + (i * 4 + 0) * stride), m1 = TLanes.Load(from + (i * 4 + 1) * stride);
                    TVector m2 = TLanes.Load(from + (i * 4 + 2) * stride), m3 = TLanes.Load(from + (i * 4 + 3) * stride);
                    sum = TLanes.Add(TLanes.Add(m0, m1), m2);
                    difference = TLanes.Subtract(TLanes.Subtract(m1, m2), m3);
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void Put<TVector, TLanes>(int row, int column, long channel, TVector value) where TLanes : ILanes<TVector>
            {
                long at = row * rowPitch + column * pixelPitch + channel;
                value = TLanes.Activate(value, activation);
                if (residual != null) value = TLanes.Add(value, TLanes.Load(residual + at));
                TLanes.Store(value, y + at);
            }
        }

        /// <summary>The few vector operations the transforms use, for each vector width, so they are written once.</summary>
        interface ILanes<TVector>
        {
            static abstract int Count { get; }
            static abstract TVector Load(float* p);
            static abstract void Store(TVector value, float* p);
            static abstract TVector Add(TVector a, TVector b);
            static abstract TVector Subtract(TVector a, TVector b);
            static abstract TVector Activate(TVector value, Activation activation);
        }

        struct Lanes512 : ILanes<Vector512<float>>
        {
            public static int Count => Vector512<float>.Count;
            public static Vector512<float> Load(float* p) => Vector512.Load(p);
            public static void Store(Vector512<float> value, float* p) => value.Store(p);
            public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
            public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
            public static Vector512<float> Activate(Vector512<float> value, Activation activation) => Simd.Activate(value, activation);
        }

        struct LanesDefault : ILanes<Vector<float>>
        {
            public static int Count => Vector<float>.Count;
            public static Vector<float> Load(float* p) => Vector.Load(p);
            public static void Store(Vector<float> value, float* p) => value.Store(p);
            public static Vector<float> Add(Vector<float> a, Vector<float> b) => a + b;
            public static Vector<float> Subtract(Vector<float> a, Vector<float> b) => a - b;
            public static Vector<float> Activate(Vector<float> value, Activation activation) => Simd.Activate(value, activation);
        }

        struct LanesScalar : ILanes<float>
        {
            public static int Count => 1;
            public static float Load(float* p) => *p;
            public static void Store(float value, float* p) => *p = value;
            public static float Add(float a, float b) => a + b;
            public static float Subtract(float a, float b) => a - b;
            public static float Activate(float value, Activation activation) => Simd.Activate(value, activation);
        }
    }
}
