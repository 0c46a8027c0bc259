using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EffNet.Kernels
{
    /// <summary>
    /// The 1x1 convolution in int8: u8 activations with one scale and zero point per tensor, times s8 weights with one
    /// scale per output channel, summed exactly in int32, then an fp32 epilogue (scales, bias, activation, residual) and
    /// optionally the u8 requantisation the next int8 layer reads.
    /// </summary>
    /// <remarks>
    /// <para>y[p, j] = act(sx * sw[j] * Σk (x[p, k] - zx) * w[k, j] + b[j]) (+ r[p, j]). The zero point leaves the inner
    /// loop: Σk (x - zx) w = Σk x w - zx Σk w, and zx Σk w[k, j] is folded into the bias once per layer (FoldInputZeroPoint, at load).</para>
    /// <para>Activations are u8 because vpdpbusd multiplies u8 by s8: a zero point lets post-activation maps (SiLU's
    /// minimum is -0.28; ReLU6's range [0, 6]) use all 256 levels. On <c>AvxVnni</c> one vpdpbusd is 32 multiply-adds
    /// without intermediate saturation. Without VNNI, AVX-512BW (or AVX2) widens both sides to 16 bits and uses vpmaddwd
    /// (exact: a pair of products is at most 2 x 255 x 128), not vpmaddubsw, whose 16-bit pair sums saturate at
    /// 255 x 127 x 2. A scalar path computes the same integers everywhere else.</para>
    /// </remarks>
    public static unsafe class PointwiseConvolutionInt8
    {
        /// <summary>Bytes of weights <see cref="PackWeights"/> writes: [K / 4, N, 4].</summary>
        public static int PackedLength(int inChannels, int outChannels) => inChannels * outChannels;

        /// <summary>
        /// Reorders [K, N] weights into vpdpbusd's order: for every 4 consecutive input channels, each output channel's 4
        /// bytes side by side, so one 256-bit load holds 4 taps of 8 output channels.
        /// </summary>
        public static void PackWeights(ReadOnlySpan<sbyte> weights, int inChannels, int outChannels, Span<sbyte> packed)
        {
            CheckChannels(inChannels);
            Check.Length(weights.Length, (long)inChannels * outChannels, nameof(weights));
            Check.Length(packed.Length, (long)inChannels * outChannels, nameof(packed));
            for (int k = 0; k < inChannels; k++)
                for (int j = 0; j < outChannels; j++)
                    packed[((k / 4) * outChannels + j) * 4 + k % 4] = weights[k * outChannels + j];
        }

        /// <summary>The first <paramref name="count"/> s8 levels of an int8 layer's weights, kept four to a float in the floats the layout gives them.</summary>
        public static Span<sbyte> StoredLevels(Span<float> storage, long count)
        {
            Check.Length(storage.Length, (count + 3) / 4, nameof(storage));
            return MemoryMarshal.Cast<float, sbyte>(storage).Slice(0, (int)count);
        }

        /// <inheritdoc cref="StoredLevels(Span{float}, long)"/>
        public static ReadOnlySpan<sbyte> StoredLevels(ReadOnlySpan<float> storage, long count)
        {
            Check.Length(storage.Length, (count + 3) / 4, nameof(storage));
            return MemoryMarshal.Cast<float, sbyte>(storage).Slice(0, (int)count);
        }

        /// <summary>The first <paramref name="count"/> bytes of an int8 layer's u8 input scratch, which the planner places as floats.</summary>
        internal static Span<byte> LevelsScratch(Span<float> scratch, long count)
        {
            Check.Length(scratch.Length, (count + 3) / 4, nameof(scratch));
            return MemoryMarshal.AsBytes(scratch).Slice(0, (int)count);
        }

        /// <summary>
        /// Takes the input zero point's share out of <paramref name="bias"/>, once per layer: Σk (x - zx) w = Σk x w - zx Σk w,
        /// so the GEMM sums the raw u8 levels and this subtracts sx * sw[j] * zx * Σk w[k, j] from each bias.
        /// </summary>
        /// <param name="packedWeights">from <see cref="PackWeights"/> (a column's sum does not depend on the order)</param>
        public static void FoldInputZeroPoint(ReadOnlySpan<sbyte> packedWeights, int inChannels, int outChannels, float inputScale, byte inputZeroPoint,
                                              ReadOnlySpan<float> weightScales, Span<float> bias)
        {
            CheckChannels(inChannels);
            Check.Length(packedWeights.Length, (long)inChannels * outChannels, nameof(packedWeights));
            Check.Length(weightScales.Length, outChannels, nameof(weightScales));
            Check.Length(bias.Length, outChannels, nameof(bias));
            for (int j = 0; j < outChannels; j++)
            {
                int sum = 0;
                for (int quad = 0; quad < inChannels / 4; quad++)
                    for (int t = 0; t < 4; t++)
                        sum += packedWeights[(quad * outChannels + j) * 4 + t];
                bias[j] -= inputScale * weightScales[j] * inputZeroPoint * sum;
            }
        }

        /// <summary>
        /// One int8 layer of a network, on the buffers the planner gives it: the fp32 input (times the squeeze-excitation
        /// gate, for a gated projection) to u8 levels in <paramref name="levelsScratch"/>, then the int8 GEMM with its fp32
        /// epilogue, split over <paramref name="workers"/> by pixels. The generated code and the runtime model both call this.
        /// </summary>
        /// <param name="inputQuantization">the layer's input scale and zero point, as the blob stores them</param>
        /// <param name="weights">the floats the layout gives the layer's weights: its levels, packed at load (<see cref="PackWeights"/>)</param>
        /// <param name="bias">with the input zero point's share taken out at load (<see cref="FoldInputZeroPoint"/>)</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void RunLayer(ReadOnlySpan<float> input, int pixels, int inChannels, ReadOnlySpan<float> gate, ReadOnlySpan<float> inputQuantization,
                                    ReadOnlySpan<float> weights, ReadOnlySpan<float> weightScales, ReadOnlySpan<float> bias, int outChannels,
                                    Activation activation, Span<float> output, ReadOnlySpan<float> residual, Span<float> levelsScratch,
                                    Threading.WorkerPool? workers)
        {
            Check.Length(inputQuantization.Length, 2, nameof(inputQuantization));
            Span<byte> levels = LevelsScratch(levelsScratch, (long)pixels * inChannels);
            float inputScale = inputQuantization[0];
            QuantizeActivations.Run(input, pixels, inChannels, gate, inputScale, (byte)inputQuantization[1], levels, workers);
            Run(levels, pixels, inChannels, inputScale, StoredLevels(weights, (long)inChannels * outChannels), weightScales, bias, outChannels,
                activation, output, residual, workers: workers);
        }

        /// <summary>Which inner loop runs: the widest this machine has, or a narrower one a test asks for.</summary>
        internal enum Path { Scalar, Avx2, Avx512BW, AvxVnni }

        internal static Path Widest => AvxVnni.IsSupported ? Path.AvxVnni : Avx512BW.IsSupported ? Path.Avx512BW : Avx2.IsSupported ? Path.Avx2 : Path.Scalar;

        /// <param name="input">[pixels, inChannels] u8 activations, the levels of x / inputScale + zero point</param>
        /// <param name="packedWeights">from <see cref="PackWeights"/></param>
        /// <param name="weightScales">[outChannels]: one scale per output channel</param>
        /// <param name="bias">[outChannels], fp32, with the input zero point's share taken out (<see cref="FoldInputZeroPoint"/>)</param>
        /// <param name="output">[pixels, outChannels] fp32, or empty when only <paramref name="quantizedOutput"/> is wanted</param>
        /// <param name="residual">[pixels, outChannels] added after the activation, or empty</param>
        /// <param name="quantizedOutput">[pixels, outChannels] u8 of the result at <paramref name="outputScale"/> and
        /// <paramref name="outputZeroPoint"/> (rounded to nearest, clamped to 0..255), or empty</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<byte> input, int pixels, int inChannels, float inputScale,
                               ReadOnlySpan<sbyte> packedWeights, ReadOnlySpan<float> weightScales,
                               ReadOnlySpan<float> bias, int outChannels, Activation activation, Span<float> output,
                               ReadOnlySpan<float> residual = default,
                               Span<byte> quantizedOutput = default, float outputScale = 1f, byte outputZeroPoint = 0, Threading.WorkerPool? workers = null)
            => Run(Widest, input, pixels, inChannels, inputScale, packedWeights, weightScales, bias, outChannels,
                   activation, output, residual, quantizedOutput, outputScale, outputZeroPoint, workers);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static void Run(Path path, ReadOnlySpan<byte> input, int pixels, int inChannels, float inputScale,
                                 ReadOnlySpan<sbyte> packedWeights, ReadOnlySpan<float> weightScales,
                                 ReadOnlySpan<float> bias, int outChannels, Activation activation, Span<float> output,
                                 ReadOnlySpan<float> residual, Span<byte> quantizedOutput, float outputScale, byte outputZeroPoint,
                                 Threading.WorkerPool? workers = null)
        {
            CheckChannels(inChannels);
            long values = (long)pixels * outChannels;
            Check.Length(input.Length, (long)pixels * inChannels, nameof(input));
            Check.Length(packedWeights.Length, (long)inChannels * outChannels, nameof(packedWeights));
            Check.Length(weightScales.Length, outChannels, nameof(weightScales));
            Check.Length(bias.Length, outChannels, nameof(bias));
            if (output.IsEmpty && quantizedOutput.IsEmpty)
                throw new ArgumentException("Give an fp32 output, a quantized output or both.", nameof(output));
            if (!output.IsEmpty) Check.Length(output.Length, values, nameof(output));
            if (!quantizedOutput.IsEmpty)
            {
                Check.Length(quantizedOutput.Length, values, nameof(quantizedOutput));
                if (!(outputScale > 0 && float.IsFinite(outputScale)))
                    throw new ArgumentOutOfRangeException(nameof(outputScale), outputScale, "The output scale must be a positive number.");
            }
            if (!residual.IsEmpty) Check.Length(residual.Length, values, nameof(residual));

            // Per output channel: the combined scale, and the bias (the input zero point's share already out). A u8 map
            // out of a linear or ReLU6 layer, with nothing else asked, is quantised straight from the sums: the output
            // scale and zero point fold into these too, and ReLU6 into the clamp (its 0 and 6 are levels of the map).
            bool direct = output.IsEmpty && residual.IsEmpty && activation is Activation.None or Activation.ReLU6;
            float inverseOutputScale = 1f / outputScale;
            float[]? rented = outChannels > 2048 ? System.Buffers.ArrayPool<float>.Shared.Rent(2 * outChannels) : null;
            Span<float> folded = rented is null ? stackalloc float[2 * outChannels] : rented.AsSpan(0, 2 * outChannels);
            for (int j = 0; j < outChannels; j++)
            {
                float scale = inputScale * weightScales[j];
                float shift = bias[j];
                folded[j] = direct ? scale * inverseOutputScale : scale;
                folded[outChannels + j] = direct ? shift * inverseOutputScale + outputZeroPoint : shift;
            }
            (int low, int high) = !direct ? (0, 255)
                : activation == Activation.ReLU6 ? (outputZeroPoint, Math.Min(255, QuantizeActivations.Round(6f * inverseOutputScale) + outputZeroPoint))
                : (0, 255);
            fixed (byte* x = input, q = quantizedOutput)
            fixed (sbyte* w = packedWeights)
            fixed (float* f = folded, y = output, r = residual)
            {
                var gemm = new Gemm(x, inChannels, w, outChannels, f, f + outChannels, activation, y, r, q, inverseOutputScale, outputZeroPoint,
                                    direct, low, high);
                int tiles = (pixels + Gemm.Rows - 1) / Gemm.Rows;
                if (workers is null || tiles < MinTilesPerThread * workers.Threads)
                    gemm.Pixels(path, 0, pixels);
                else
                {
                    var job = (TilesJob)(workers.PointwiseInt8Job ??= new TilesJob());
                    job.Gemm = gemm;
                    job.Path = path;
                    job.PixelCount = pixels;
                    workers.Run(job, tiles);
                }
            }
            if (rented != null) System.Buffers.ArrayPool<float>.Shared.Return(rented);
        }

        // Fewer 6-pixel tiles than this per thread run on the caller alone: a region costs more than they take.
        const int MinTilesPerThread = 4;

        /// <summary>The GEMM split over the pool's threads by 6-pixel tiles; each thread reads every weight (they stay in L2).</summary>
        sealed class TilesJob : Threading.IParallelJob
        {
            public Gemm Gemm;
            public Path Path;
            public int PixelCount;

            public void Execute(int start, int end, int worker)
                => Gemm.Pixels(Path, start * Gemm.Rows, Math.Min(end * Gemm.Rows, PixelCount));
        }

        static void CheckChannels(int inChannels)
        {
            if (inChannels <= 0 || inChannels % 4 != 0)
                throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "The int8 1x1 conv takes input channels in fours (every EfficientNet layer it runs has a multiple of 8).");
        }

        readonly struct Gemm
        {
            /// <summary>Pixels per register tile: 6 x 2 accumulators of 8 channels fit the 16 registers VEX-encoded vpdpbusd can name.</summary>
            public const int Rows = 6;

            readonly byte* _x, _q;
            readonly sbyte* _w;
            readonly float* _scale, _bias, _y, _residual;
            readonly int _k, _n;
            readonly Activation _activation;
            readonly float _inverseOutputScale;
            readonly byte _outputZeroPoint;
            // Quantise straight from the sums: _scale and _bias hold the output scale and zero point; clamp to [_low, _high].
            readonly bool _direct;
            readonly int _low, _high;

            public Gemm(byte* x, int k, sbyte* w, int n, float* scale, float* bias, Activation activation, float* y, float* residual,
                        byte* q, float inverseOutputScale, byte outputZeroPoint, bool direct, int low, int high)
            {
                _direct = direct; _low = low; _high = high;
                _x = x; _k = k; _w = w; _n = n; _scale = scale; _bias = bias; _activation = activation; _y = y; _residual = residual;
                _q = q; _inverseOutputScale = inverseOutputScale; _outputZeroPoint = outputZeroPoint;
            }

            /// <summary>Pixels [first, end) on <paramref name="path"/>'s inner loop.</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Pixels(Path path, int first, int end)
            {
                if (path == Path.AvxVnni) Vnni(first, end);
                else if (path is Path.Avx512BW or Path.Avx2) Widened(path, first, end);
                else Scalar(first, end, 0);
            }

            /// <summary>Pixels [first, end): 16-channel tiles, then an 8-channel one, then the rest one value at a time.</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Vnni(int first, int end)
            {
                int j = 0;
                for (; j + 16 <= _n; j += 16)
                    Tile<Two>(j, first, end);
                if (j + 8 <= _n)
                {
                    Tile<One>(j, first, end);
                    j += 8;
                }
                if (j < _n)
                    Scalar(first, end, j);
            }

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Tile<TV>(int col, int first, int end) where TV : struct, IVectorCount
            {
                int quads = _k / 4;
                long quadStride = (long)_n * 4; // bytes from one quad of taps to the next in the packed weights
                sbyte* w0 = _w + (long)col * 4;
                // The tile's sums go here first: a call with 12 accumulators live would spill them all (every vector
                // register is caller-saved), so the epilogue runs once per tile on these, still in L1.
                int* sums = stackalloc int[Rows * 16];
                int width = TV.Count * 8;
                int p = first;
                for (; p + Rows <= end; p += Rows)
                {
                    Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
                    Vector256<int> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
                    int* x0 = (int*)(_x + (long)p * _k);
                    int pitch = _k / 4; // in ints
                    sbyte* wk = w0;
                    for (int i = 0; i < quads; i++, wk += quadStride)
                    {
                        Vector256<sbyte> v0 = Vector256.Load(wk);
                        Vector256<sbyte> v1 = TV.Count > 1 ? Vector256.Load(wk + 32) : default;
                        Vector256<byte> b = Vector256.Create(x0[i]).AsByte();
                        a00 = AvxVnni.MultiplyWideningAndAdd(a00, b, v0); if (TV.Count > 1) a01 = AvxVnni.MultiplyWideningAndAdd(a01, b, v1);
                        b = Vector256.Create(x0[pitch + i]).AsByte();
                        a10 = AvxVnni.MultiplyWideningAndAdd(a10, b, v0); if (TV.Count > 1) a11 = AvxVnni.MultiplyWideningAndAdd(a11, b, v1);
                        b = Vector256.Create(x0[2 * pitch + i]).AsByte();
                        a20 = AvxVnni.MultiplyWideningAndAdd(a20, b, v0); if (TV.Count > 1) a21 = AvxVnni.MultiplyWideningAndAdd(a21, b, v1);
                        b = Vector256.Create(x0[3 * pitch + i]).AsByte();
                        a30 = AvxVnni.MultiplyWideningAndAdd(a30, b, v0); if (TV.Count > 1) a31 = AvxVnni.MultiplyWideningAndAdd(a31, b, v1);
                        b = Vector256.Create(x0[4 * pitch + i]).AsByte();
                        a40 = AvxVnni.MultiplyWideningAndAdd(a40, b, v0); if (TV.Count > 1) a41 = AvxVnni.MultiplyWideningAndAdd(a41, b, v1);
                        b = Vector256.Create(x0[5 * pitch + i]).AsByte();
                        a50 = AvxVnni.MultiplyWideningAndAdd(a50, b, v0); if (TV.Count > 1) a51 = AvxVnni.MultiplyWideningAndAdd(a51, b, v1);
                    }
                    a00.Store(sums); if (TV.Count > 1) a01.Store(sums + 8);
                    a10.Store(sums + width); if (TV.Count > 1) a11.Store(sums + width + 8);
                    a20.Store(sums + 2 * width); if (TV.Count > 1) a21.Store(sums + 2 * width + 8);
                    a30.Store(sums + 3 * width); if (TV.Count > 1) a31.Store(sums + 3 * width + 8);
                    a40.Store(sums + 4 * width); if (TV.Count > 1) a41.Store(sums + 4 * width + 8);
                    a50.Store(sums + 5 * width); if (TV.Count > 1) a51.Store(sums + 5 * width + 8);
                    Finish(p, Rows, col, width, sums);
                }
                for (; p < end; p++)
                {
                    Vector256<int> a0 = default, a1 = default;
                    int* x0 = (int*)(_x + (long)p * _k);
                    sbyte* wk = w0;
                    for (int i = 0; i < quads; i++, wk += quadStride)
                    {
                        Vector256<byte> b = Vector256.Create(x0[i]).AsByte();
                        a0 = AvxVnni.MultiplyWideningAndAdd(a0, b, Vector256.Load(wk));
                        if (TV.Count > 1) a1 = AvxVnni.MultiplyWideningAndAdd(a1, b, Vector256.Load(wk + 32));
                    }
                    a0.Store(sums);
                    if (TV.Count > 1) a1.Store(sums + 8);
                    Finish(p, 1, col, width, sums);
                }
            }

            /// <summary>
            /// The epilogue of a tile: <paramref name="rows"/> pixels of <paramref name="width"/> (8 or 16) channels of int32
            /// sums to fp32, scale and bias, activation, residual, stores. 16 channels run as one 512-bit vector where there
            /// is AVX-512, which halves the activation's instructions.
            /// </summary>
            [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
            void Finish(int p, int rows, int col, int width, int* sums)
            {
                for (int r = 0; r < rows; r++, sums += width)
                {
                    if (width == 16 && Vector512.IsHardwareAccelerated)
                        Finish(p + r, col, Vector512.Load(sums));
                    else
                        for (int c = 0; c < width; c += 8)
                            Finish(p + r, col + c, Vector256.Load(sums + c));
                }
            }

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void Finish(int p, int col, Vector512<int> sums)
            {
                long at = (long)p * _n + col;
                Vector512<float> v = Vector512.ConvertToSingle(sums) * Vector512.Load(_scale + col) + Vector512.Load(_bias + col);
                if (_direct)
                {
                    StoreLevels(at, QuantizeActivations.Round(v), _low, _high);
                    return;
                }
                v = Simd.Activate(v, _activation);
                if (_residual != null) v += Vector512.Load(_residual + at);
                if (_y != null) v.Store(_y + at);
                if (_q != null)
                    StoreLevels(at, QuantizeActivations.Round(v * _inverseOutputScale) + Vector512.Create((int)_outputZeroPoint), 0, 255);
            }

            // u8 levels clamped to [low, high], stored at value index 'at' of the quantised output.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void StoreLevels(long at, Vector512<int> levels, int low, int high)
                => Avx512F.ConvertToVector128Byte(Vector512.Min(Vector512.Max(levels, Vector512.Create(low)), Vector512.Create(high)).AsUInt32()).Store(_q + at);

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void StoreLevels(long at, Vector256<int> levels, int low, int high)
            {
                Vector256<int> clamped = Vector256.Min(Vector256.Max(levels, Vector256.Create(low)), Vector256.Create(high));
                Vector128<short> halves = Vector128.Narrow(clamped.GetLower(), clamped.GetUpper());
                Vector64.Narrow(halves.GetLower(), halves.GetUpper()).AsByte().Store(_q + at);
            }

            // The epilogue of 8 channels of one pixel.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void Finish(int p, int col, Vector256<int> sums)
            {
                long at = (long)p * _n + col;
                Vector256<float> v = Vector256.ConvertToSingle(sums) * Vector256.Load(_scale + col) + Vector256.Load(_bias + col);
                if (_direct)
                {
                    StoreLevels(at, QuantizeActivations.Round(v), _low, _high);
                    return;
                }
                v = Simd.Activate(v.AsVector(), _activation).AsVector256();
                if (_residual != null) v += Vector256.Load(_residual + at);
                if (_y != null) v.Store(_y + at);
                if (_q != null)
                    StoreLevels(at, QuantizeActivations.Round(v * _inverseOutputScale) + Vector256.Create((int)_outputZeroPoint), 0, 255);
            }

            /// <summary>
            /// Pixels [first, end) without VNNI: both sides widened to 16 bits for vpmaddwd, each tile's pixels once into a
            /// scratch that every column tile then reads, the weights from the packed bytes as they are read. On AVX-512BW
            /// (AVX-512 servers before AVX-VNNI) a tile is 8 pixels x 16 channels, which 32 registers hold; on AVX2 alone,
            /// 6 pixels x 8 channels.
            /// </summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Widened(Path path, int first, int end)
            {
                bool avx512 = path == Path.Avx512BW;
                int pixels = avx512 ? 8 : 6;
                // [pixels, K] 16-bit inputs: K is at most a few thousand channels (B7's widest projection reads 3840).
                short[]? rented = pixels * _k > 16 * 1024 ? System.Buffers.ArrayPool<short>.Shared.Rent(pixels * _k) : null;
                Span<short> scratch = rented is null ? stackalloc short[pixels * _k] : rented.AsSpan(0, pixels * _k);
                int* sums = stackalloc int[8 * 16];
                fixed (short* wide = scratch)
                    for (int p = first; p < end; p += pixels)
                    {
                        int rows = Math.Min(pixels, end - p);
                        WidenPixels(p, rows, pixels, wide);
                        int j = 0;
                        if (avx512)
                        {
                            for (; j + 16 <= _n; j += 16)
                                Tile512<Two>(p, rows, j, wide, sums);
                            if (j + 8 <= _n)
                            {
                                Tile512<One>(p, rows, j, wide, sums);
                                j += 8;
                            }
                        }
                        else
                            for (; j + 8 <= _n; j += 8)
                                Tile256(p, rows, j, wide, sums);
                        if (j < _n)
                            Scalar(p, p + rows, j);
                    }
                if (rented != null) System.Buffers.ArrayPool<short>.Shared.Return(rented);
            }

            // Pixels p..p+rows-1 as 16-bit values (the AVX-512BW and AVX2 paths); the tile's missing rows are zeros
            // (computed, never stored).
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            void WidenPixels(int p, int rows, int pixels, short* wide)
            {
                byte* x = _x + (long)p * _k;
                int count = rows * _k, i = 0;
                if (Avx512BW.IsSupported)
                    for (; i + 32 <= count; i += 32)
                        Avx512BW.ConvertToVector512Int16(Vector256.Load(x + i)).Store(wide + i);
                for (; i + 16 <= count; i += 16)
                    Avx2.ConvertToVector256Int16(Vector128.Load(x + i)).Store(wide + i);
                for (; i < count; i++)
                    wide[i] = x[i];
                new Span<short>(wide + count, (pixels - rows) * _k).Clear();
            }

            // 8 pixels x 8 or 16 channels on AVX-512BW.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Tile512<TV>(int p, int rows, int col, short* wide, int* sums) where TV : struct, IVectorCount
            {
                int quads = _k / 4;
                long quadStride = (long)_n * 4;
                sbyte* wk = _w + (long)col * 4;
                // Two pair sums per channel: lanes 2c and 2c + 1 of a hold channel c's taps 0-1 and 2-3, of channels col..col+7 (b: +8..15).
                Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                Vector512<int> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
                long pitch = _k;
                short* t = wide;
                for (int i = 0; i < quads; i++, wk += quadStride, t += 4)
                {
                    Vector512<short> v0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(wk));
                    Vector512<short> v1 = TV.Count > 1 ? Avx512BW.ConvertToVector512Int16(Vector256.Load(wk + 32)) : default;
                    Vector512<short> x = Vector512.Create(*(long*)t).AsInt16();
                    a0 += Avx512BW.MultiplyAddAdjacent(x, v0); if (TV.Count > 1) b0 += Avx512BW.MultiplyAddAdjacent(x, v1);
                    x = Vector512.Create(*(long*)(t + pitch)).AsInt16();
                    a1 += Avx512BW.MultiplyAddAdjacent(x, v0); if (TV.Count > 1) b1 += Avx512BW.MultiplyAddAdjacent(x, v1);
                    x = Vector512.Create(*(long*)(t + 2 * pitch)).AsInt16();
                    a2 += Avx512BW.MultiplyAddAdjacent(x, v0); if (TV.Count > 1) b2 += Avx512BW.MultiplyAddAdjacent(x, v1);
                    x = Vector512.Create(*(long*)(t + 3 * pitch)).AsInt16();
                    a3 += Avx512BW.MultiplyAddAdjacent(x, v0); if (TV.Count > 1) b3 += Avx512BW.MultiplyAddAdjacent(x, v1);
                    x = Vector512.Create(*(long*)(t + 4 * pitch)).AsInt16();
                    a4 += Avx512BW.MultiplyAddAdjacent(x, v0); if (TV.Count > 1) b4 += Avx512BW.MultiplyAddAdjacent(x, v1);
                    x = Vector512.Create(*(long*)(t + 5 * pitch)).AsInt16();
                    a5 += Avx512BW.MultiplyAddAdjacent(x, v0); if (TV.Count > 1) b5 += Avx512BW.MultiplyAddAdjacent(x, v1);
                    x = Vector512.Create(*(long*)(t + 6 * pitch)).AsInt16();
                    a6 += Avx512BW.MultiplyAddAdjacent(x, v0); if (TV.Count > 1) b6 += Avx512BW.MultiplyAddAdjacent(x, v1);
                    x = Vector512.Create(*(long*)(t + 7 * pitch)).AsInt16();
                    a7 += Avx512BW.MultiplyAddAdjacent(x, v0); if (TV.Count > 1) b7 += Avx512BW.MultiplyAddAdjacent(x, v1);
                }
                int width = TV.Count * 8;
                PairSums<TV>(a0, b0, sums); PairSums<TV>(a1, b1, sums + width);
                PairSums<TV>(a2, b2, sums + 2 * width); PairSums<TV>(a3, b3, sums + 3 * width);
                PairSums<TV>(a4, b4, sums + 4 * width); PairSums<TV>(a5, b5, sums + 5 * width);
                PairSums<TV>(a6, b6, sums + 6 * width); PairSums<TV>(a7, b7, sums + 7 * width);
                Finish(p, rows, col, width, sums);
            }

            // Each channel's two pair sums added, in channel order: a's 8 channels, then b's.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            static void PairSums<TV>(Vector512<int> a, Vector512<int> b, int* to) where TV : struct, IVectorCount
            {
                Vector512<int> even = Avx512F.PermuteVar16x32x2(a, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
                Vector512<int> odd = Avx512F.PermuteVar16x32x2(a, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
                if (TV.Count > 1) (even + odd).Store(to);
                else (even + odd).GetLower().Store(to);
            }

            // 6 pixels x 8 channels on AVX2: 12 accumulators, 2 weight vectors and the taps, 15 of its 16 registers.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Tile256(int p, int rows, int col, short* wide, int* sums)
            {
                int quads = _k / 4;
                long quadStride = (long)_n * 4, pitch = _k;
                sbyte* wk = _w + (long)col * 4;
                short* t = wide;
                // low: pair sums of channels col..col+3 (two per channel), high: of col+4..col+7; one of each per pixel.
                Vector256<int> l0 = default, l1 = default, l2 = default, l3 = default, l4 = default, l5 = default;
                Vector256<int> h0 = default, h1 = default, h2 = default, h3 = default, h4 = default, h5 = default;
                for (int i = 0; i < quads; i++, wk += quadStride, t += 4)
                {
                    Vector256<short> w = Avx2.ConvertToVector256Int16(Vector128.Load(wk));
                    Vector256<short> w2 = Avx2.ConvertToVector256Int16(Vector128.Load(wk + 16));
                    Vector256<short> x = Vector256.Create(*(long*)t).AsInt16();
                    l0 = Avx2.Add(l0, Avx2.MultiplyAddAdjacent(x, w)); h0 = Avx2.Add(h0, Avx2.MultiplyAddAdjacent(x, w2));
                    x = Vector256.Create(*(long*)(t + pitch)).AsInt16();
                    l1 = Avx2.Add(l1, Avx2.MultiplyAddAdjacent(x, w)); h1 = Avx2.Add(h1, Avx2.MultiplyAddAdjacent(x, w2));
                    x = Vector256.Create(*(long*)(t + 2 * pitch)).AsInt16();
                    l2 = Avx2.Add(l2, Avx2.MultiplyAddAdjacent(x, w)); h2 = Avx2.Add(h2, Avx2.MultiplyAddAdjacent(x, w2));
                    x = Vector256.Create(*(long*)(t + 3 * pitch)).AsInt16();
                    l3 = Avx2.Add(l3, Avx2.MultiplyAddAdjacent(x, w)); h3 = Avx2.Add(h3, Avx2.MultiplyAddAdjacent(x, w2));
                    x = Vector256.Create(*(long*)(t + 4 * pitch)).AsInt16();
                    l4 = Avx2.Add(l4, Avx2.MultiplyAddAdjacent(x, w)); h4 = Avx2.Add(h4, Avx2.MultiplyAddAdjacent(x, w2));
                    x = Vector256.Create(*(long*)(t + 5 * pitch)).AsInt16();
                    l5 = Avx2.Add(l5, Avx2.MultiplyAddAdjacent(x, w)); h5 = Avx2.Add(h5, Avx2.MultiplyAddAdjacent(x, w2));
                }
                Channels(l0, h0, sums); Channels(l1, h1, sums + 8); Channels(l2, h2, sums + 16);
                Channels(l3, h3, sums + 24); Channels(l4, h4, sums + 32); Channels(l5, h5, sums + 40);
                Finish(p, rows, col, 8, sums);
            }

            // Each channel's two pair sums are adjacent: add them, then put the 8 channels in order.
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            static void Channels(Vector256<int> low, Vector256<int> high, int* to)
                => Avx2.PermuteVar8x32(Avx2.HorizontalAdd(low, high), Vector256.Create(0, 1, 4, 5, 2, 3, 6, 7)).Store(to); // from [c0 c1 c4 c5 | c2 c3 c6 c7]

            /// <summary>Output channels [col, n) of pixels [first, end), one value at a time: every machine's path, and the exact reference of the others.</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Scalar(int first, int end, int col)
            {
                for (int p = first; p < end; p++)
                {
                    byte* x = _x + (long)p * _k;
                    for (int j = col; j < _n; j++)
                    {
                        int sum = 0;
                        for (int k = 0; k < _k; k++)
                            sum += x[k] * _w[((long)(k / 4) * _n + j) * 4 + k % 4];
                        long at = (long)p * _n + j;
                        if (_direct)
                        {
                            _q[at] = (byte)Math.Clamp(QuantizeActivations.Round(sum * _scale[j] + _bias[j]), _low, _high);
                            continue;
                        }
                        float v = Simd.Activate(sum * _scale[j] + _bias[j], _activation);
                        if (_residual != null) v += _residual[at];
                        if (_y != null) _y[at] = v;
                        if (_q != null)
                            _q[at] = (byte)Math.Clamp(QuantizeActivations.Round(v * _inverseOutputScale) + _outputZeroPoint, 0, 255);
                    }
                }
            }
        }
    }
}
