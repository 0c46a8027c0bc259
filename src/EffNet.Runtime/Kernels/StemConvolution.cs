using System;
using System.Runtime.CompilerServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// The stem: a k x k strided convolution that reads the CHW image the user passes and writes an HWC map, with bias and
    /// activation fused, in the 1x1 conv's register-tiled GEMM (k x k x inChannels taps per pixel, 27 for EfficientNet).
    /// Windows inside the image are read in place through a table of tap offsets; those that reach into the padding are
    /// gathered into patches first (im2col), zeros included. <see cref="Convolution"/> runs the same code on HWC maps.
    /// </summary>
    public static unsafe class StemConvolution
    {
        // Output pixels gathered at a time: a multiple of the GEMM's 6-pixel tile whose patches (10 KB for 27 taps) stay in L1.
        // Wider windows (a Fused-MBConv's 3 x 3 x 96 taps) gather one tile of pixels at a time.
        const int PatchFloats = 2592;

        /// <param name="image">[inChannels, inHeight, inWidth] (CHW, as torchvision takes it)</param>
        /// <param name="weights">[kernel x kernel x inChannels, outChannels] (taps in row, column, channel order) in the
        /// panel order of <see cref="PointwiseConvolution.PackPanels"/>, BatchNorm folded in</param>
        /// <param name="bias">[outChannels]</param>
        /// <param name="output">[outHeight, outWidth, outChannels]</param>
        /// <param name="workers">threads to split the output rows over, or null for the calling thread only</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> image, int inChannels, int inHeight, int inWidth,
                               ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int kernel, int stride, int padTop, int padLeft,
                               Span<float> output, int outHeight, int outWidth, int outChannels, Activation activation,
                               Threading.WorkerPool? workers = null)
        {
            Check.Length(image.Length, (long)inChannels * inHeight * inWidth, nameof(image));
            Check.Length(weights.Length, (long)kernel * kernel * inChannels * outChannels, nameof(weights));
            Check.Length(bias.Length, outChannels, nameof(bias));
            Check.Length(output.Length, (long)outHeight * outWidth * outChannels, nameof(output));
            fixed (float* x = image, w = weights, b = bias, y = output)
                new Windows(x, channelsLast: false, inChannels, inHeight, inWidth, w, b, kernel, stride, padTop, padLeft, y, outWidth, outChannels,
                            activation, residual: null).Run(outHeight, workers);
        }

        sealed class RowsJob : Threading.IParallelJob
        {
            public Windows Conv;

            public void Execute(int start, int end, int worker) => Conv.Rows(start, end);
        }

        /// <summary>One k x k convolution over a CHW image or an HWC map: output rows through the GEMM, windows in place or gathered.</summary>
        internal readonly struct Windows
        {
            readonly float* _x, _w, _b, _y, _residual;
            readonly bool _channelsLast;
            readonly int _inChannels, _inHeight, _inWidth, _kernel, _stride, _padTop, _padLeft, _outWidth, _outChannels;
            readonly Activation _activation;

            public Windows(float* x, bool channelsLast, int inChannels, int inHeight, int inWidth, float* w, float* b, int kernel, int stride,
                           int padTop, int padLeft, float* y, int outWidth, int outChannels, Activation activation, float* residual)
            {
                _x = x; _channelsLast = channelsLast; _inChannels = inChannels; _inHeight = inHeight; _inWidth = inWidth; _w = w; _b = b;
                _kernel = kernel; _stride = stride; _padTop = padTop; _padLeft = padLeft; _y = y; _outWidth = outWidth; _outChannels = outChannels;
                _activation = activation; _residual = residual;
            }

            /// <summary>Every output row, split over the pool's threads in pairs.</summary>
            public void Run(int outHeight, Threading.WorkerPool? workers)
            {
                if (workers is null || outHeight < 2 * workers.Threads)
                {
                    Rows(0, outHeight);
                    return;
                }
                var job = (RowsJob)(workers.StemJob ??= new RowsJob());
                job.Conv = this;
                workers.Run(job, outHeight, grain: 2);
            }

            /// <summary>Output rows [first, end).</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Rows(int first, int end)
            {
                int taps = _kernel * _kernel * _inChannels;
                int chunk = Math.Max(1, PatchFloats / taps / PointwiseConvolution.Gemm.Rows) * PointwiseConvolution.Gemm.Rows;
                float[]? rented = (long)chunk * taps > PatchFloats * 2 ? System.Buffers.ArrayPool<float>.Shared.Rent(chunk * taps) : null;
                Span<float> patchSpan = rented is null ? stackalloc float[chunk * taps] : rented.AsSpan(0, chunk * taps);
                // Where tap (ky, kx, channel) of a window is, from its top-left corner in the CHW image or HWC map.
                int* offsets = stackalloc int[taps];
                long plane = (long)_inHeight * _inWidth;
                for (int ky = 0, t = 0; ky < _kernel; ky++)
                    for (int kx = 0; kx < _kernel; kx++)
                        for (int ci = 0; ci < _inChannels; ci++)
                            offsets[t++] = (int)(_channelsLast ? ((long)ky * _inWidth + kx) * _inChannels + ci : ci * plane + ky * _inWidth + kx);
                // Moving one output pixel right moves the window by the stride: stride pixels of the map.
                int pitch = _channelsLast ? _stride * _inChannels : _stride;
                // In place only where one 64-channel panel covers the outputs: wider convs (a Fused-MBConv's expand) re-read
                // each window once per panel, and measured faster on patches gathered once (V2-S: 45 ms against 52 in place).
                bool inPlace = PointwiseConvolution.Gemm.TilesAll(_outChannels) && plane * _inChannels <= int.MaxValue;
                fixed (float* patches = patchSpan)
                    Rows(first, end, patches, chunk, taps, offsets, pitch, inPlace);
                if (rented != null) System.Buffers.ArrayPool<float>.Shared.Return(rented);
            }

            void Rows(int first, int end, float* patches, int chunk, int taps, int* offsets, int pitch, bool inPlace)
            {
                // Output columns whose windows lie inside the image horizontally: [insideBegin, insideEnd).
                int insideBegin = Math.Min(_outWidth, (_padLeft + _stride - 1) / _stride);
                int lastInside = _inWidth - _kernel + _padLeft; // the largest ox * stride whose window fits
                int insideEnd = lastInside < 0 ? insideBegin : Math.Max(insideBegin, Math.Min(_outWidth, lastInside / _stride + 1));
                for (int oy = first; oy < end; oy++)
                {
                    int iy0 = oy * _stride - _padTop;
                    if (!inPlace || iy0 < 0 || iy0 + _kernel > _inHeight)
                    {
                        Gathered(oy, 0, _outWidth, patches, chunk, taps);
                        continue;
                    }
                    // Windows inside the image are read in place by the GEMM; only those in the padding are gathered.
                    Gathered(oy, 0, insideBegin, patches, chunk, taps);
                    long cornerPixel = (long)iy0 * _inWidth + (insideBegin * _stride - _padLeft);
                    float* corner = _x + (_channelsLast ? cornerPixel * _inChannels : cornerPixel);
                    long at = ((long)oy * _outWidth + insideBegin) * _outChannels;
                    var gemm = new PointwiseConvolution.Gemm(corner, insideEnd - insideBegin, pitch, offsets, taps,
                                                             _y + at, _outChannels, _w, _b, _activation, _residual == null ? null : _residual + at);
                    gemm.Pixels(0, insideEnd - insideBegin);
                    Gathered(oy, insideEnd, _outWidth, patches, chunk, taps);
                }
            }

            // Output pixels [begin, end) of row oy through patches gathered chunk by chunk (im2col).
            void Gathered(int oy, int begin, int end, float* patches, int chunk, int taps)
            {
                for (int ox0 = begin; ox0 < end; ox0 += chunk)
                {
                    int pixels = Math.Min(chunk, end - ox0);
                    Gather(oy, ox0, pixels, patches);
                    long at = ((long)oy * _outWidth + ox0) * _outChannels;
                    var gemm = new PointwiseConvolution.Gemm(patches, pixels, taps, _y + at, _outChannels, _w, _b,
                                                             _residual == null ? null : _residual + at, _activation);
                    gemm.Pixels(0, pixels);
                }
            }

            // The receptive fields of output pixels ox0 .. ox0 + pixels - 1 of row oy, one row of taps per pixel in weight order
            // (row, column, channel), zeros where a tap falls into the padding.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Gather(int oy, int ox0, int pixels, float* patches)
            {
                if (_channelsLast)
                {
                    GatherChannelsLast(oy, ox0, pixels, patches);
                    return;
                }
                int kernel = _kernel, channels = _inChannels, width = _inWidth;
                long plane = (long)_inHeight * width;
                int iy0 = oy * _stride - _padTop;
                float* patch = patches;
                for (int ox = ox0; ox < ox0 + pixels; ox++)
                {
                    int ix0 = ox * _stride - _padLeft;
                    if (iy0 >= 0 && ix0 >= 0 && iy0 + kernel <= _inHeight && ix0 + kernel <= width)
                    {
                        // The whole window is inside: no bounds to check per tap.
                        for (int ky = 0; ky < kernel; ky++)
                        {
                            float* row = _x + (long)(iy0 + ky) * width + ix0;
                            for (int kx = 0; kx < kernel; kx++)
                                for (int ci = 0; ci < channels; ci++)
                                    *patch++ = row[ci * plane + kx];
                        }
                    }
                    else
                    {
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int iy = iy0 + ky, ix = ix0 + kx;
                                bool inside = (uint)iy < (uint)_inHeight && (uint)ix < (uint)width;
                                for (int ci = 0; ci < channels; ci++)
                                    *patch++ = inside ? _x[ci * plane + (long)iy * width + ix] : 0f;
                            }
                    }
                }
            }

            // As Gather, from an HWC map: the taps of one window row are a contiguous run of kernel x channels floats, of
            // which the columns in the padding are zeros.
            void GatherChannelsLast(int oy, int ox0, int pixels, float* patches)
            {
                int channels = _inChannels, kernel = _kernel;
                int iy0 = oy * _stride - _padTop;
                float* patch = patches;
                for (int ox = ox0; ox < ox0 + pixels; ox++)
                {
                    int ix0 = ox * _stride - _padLeft;
                    int kxBegin = Math.Max(0, -ix0), kxEnd = Math.Min(kernel, _inWidth - ix0); // the columns inside the map
                    for (int ky = 0; ky < kernel; ky++, patch += kernel * channels)
                    {
                        int iy = iy0 + ky;
                        if ((uint)iy >= (uint)_inHeight || kxBegin >= kxEnd)
                        {
                            new Span<float>(patch, kernel * channels).Clear();
                            continue;
                        }
                        if (kxBegin > 0) new Span<float>(patch, kxBegin * channels).Clear();
                        Buffer.MemoryCopy(_x + ((long)iy * _inWidth + ix0 + kxBegin) * channels, patch + kxBegin * channels,
                                          (long)(kernel - kxBegin) * channels * sizeof(float), (long)(kxEnd - kxBegin) * channels * sizeof(float));
                        if (kxEnd < kernel) new Span<float>(patch + kxEnd * channels, (kernel - kxEnd) * channels).Clear();
                    }
                }
            }
        }
    }
}
