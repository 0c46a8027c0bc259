using System;
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
        /// <param name="channelSums">[channels]; receives the sum of every output channel over all pixels</param>
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
            Check.Length(channelSums.Length, channels, nameof(channelSums));
            channelSums.Slice(0, channels).Clear();

            fixed (float* x = input, w = weights, b = bias, y = output, sums = channelSums)
            {
                var conv = new Depthwise(x, inHeight, inWidth, channels, w, b, kernel, stride, padTop, padLeft, y, outHeight, outWidth, activation);
                if (workers is null || outHeight < MinRowsPerThread * workers.Threads)
                {
                    conv.Rows(0, outHeight, sums);
                    return;
                }
                var job = (RowsJob)(workers.DepthwiseJob ??= new RowsJob());
                job.Prepare(conv, workers.Threads, channels);
                workers.Run(job, outHeight);
                job.AddSums(sums, channels);
            }
        }

        const int MinRowsPerThread = 2;

        /// <summary>Output rows split over the pool's threads; each thread sums its channels apart, added up afterwards.</summary>
        sealed class RowsJob : Threading.IParallelJob
        {
            Depthwise _conv;
            float[][] _sums = Array.Empty<float[]>();

            public void Prepare(Depthwise conv, int threads, int channels)
            {
                _conv = conv;
                if (_sums.Length < threads || _sums[0].Length < channels)
                {
                    _sums = new float[threads][]; // grows once to the widest layer, then reused
                    for (int i = 0; i < threads; i++) _sums[i] = new float[channels];
                }
                foreach (float[] partial in _sums) Array.Clear(partial, 0, channels);
            }

            public void Execute(int start, int end, int worker)
            {
                fixed (float* sums = _sums[worker])
                    _conv.Rows(start, end, sums);
            }

            public void AddSums(float* sums, int channels)
            {
                foreach (float[] partial in _sums)
                    for (int c = 0; c < channels; c++) sums[c] += partial[c];
            }
        }

        readonly struct Depthwise
        {
            readonly float* _x, _w, _b, _y;
            readonly int _inHeight, _inWidth, _channels, _kernel, _stride, _padTop, _padLeft, _outHeight, _outWidth;
            readonly Activation _activation;

            public Depthwise(float* x, int inHeight, int inWidth, int channels, float* w, float* b, int kernel, int stride, int padTop, int padLeft,
                             float* y, int outHeight, int outWidth, Activation activation)
            {
                _x = x; _inHeight = inHeight; _inWidth = inWidth; _channels = channels; _w = w; _b = b; _kernel = kernel; _stride = stride;
                _padTop = padTop; _padLeft = padLeft; _y = y; _outHeight = outHeight; _outWidth = outWidth; _activation = activation;
            }

            /// <summary>Output rows [first, end), adding every output value to <paramref name="sums"/>.</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Rows(int first, int end, float* sums)
            {
                int channels = _channels, kernel = _kernel;
                float* x = _x, w = _w, b = _b;
                int wide = Vector512.IsHardwareAccelerated ? channels - channels % 16 : 0;
                int narrow = channels - (channels - wide) % Vector<float>.Count;
                long rowPitch = (long)_inWidth * channels;
                for (int oy = first; oy < end; oy++)
                {
                    // Taps that fall into the zero padding are skipped rather than read from a padded copy.
                    int iy0 = oy * _stride - _padTop;
                    int kyBegin = Math.Max(0, -iy0), kyEnd = Math.Min(kernel, _inHeight - iy0);
                    for (int ox = 0; ox < _outWidth; ox++)
                    {
                        int ix0 = ox * _stride - _padLeft;
                        int kxBegin = Math.Max(0, -ix0), kxEnd = Math.Min(kernel, _inWidth - ix0);
                        float* corner = x + iy0 * rowPitch + (long)ix0 * channels; // tap (0, 0), possibly outside
                        float* to = _y + ((long)oy * _outWidth + ox) * channels;

                        for (int c = 0; c < wide; c += 16)
                        {
                            Vector512<float> acc = Vector512.Load(b + c);
                            for (int ky = kyBegin; ky < kyEnd; ky++)
                            {
                                float* from = corner + ky * rowPitch + c;
                                float* tap = w + (long)ky * kernel * channels + c;
                                for (int kx = kxBegin; kx < kxEnd; kx++)
                                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(from + (long)kx * channels), Vector512.Load(tap + (long)kx * channels), acc);
                            }
                            acc = Simd.Activate(acc, _activation);
                            acc.Store(to + c);
                            (Vector512.Load(sums + c) + acc).Store(sums + c);
                        }
                        for (int c = wide; c < narrow; c += Vector<float>.Count)
                        {
                            Vector<float> acc = Vector.Load(b + c);
                            for (int ky = kyBegin; ky < kyEnd; ky++)
                                for (int kx = kxBegin; kx < kxEnd; kx++)
                                    acc = Simd.MultiplyAdd(Vector.Load(corner + ky * rowPitch + (long)kx * channels + c), Vector.Load(w + ((long)ky * kernel + kx) * channels + c), acc);
                            acc = Simd.Activate(acc, _activation);
                            acc.Store(to + c);
                            (Vector.Load(sums + c) + acc).Store(sums + c);
                        }
                        for (int c = narrow; c < channels; c++)
                        {
                            float acc = b[c];
                            for (int ky = kyBegin; ky < kyEnd; ky++)
                                for (int kx = kxBegin; kx < kxEnd; kx++)
                                    acc += corner[ky * rowPitch + (long)kx * channels + c] * w[((long)ky * kernel + kx) * channels + c];
                            acc = Simd.Activate(acc, _activation);
                            to[c] = acc;
                            sums[c] += acc;
                        }
                    }
                }
            }
        }
    }
}
