using System;
using System.Runtime.CompilerServices;

namespace EffNet.Kernels
{
    /// <summary>
    /// A dense k x k convolution on an HWC map in int8 (a Fused-MBConv's expand conv in an int8 network): the map to u8
    /// levels once, then each output row's windows gathered into the thread's row buffer (im2col; the padding is the zero
    /// point's level, the value 0) and run through the int8 GEMM (<see cref="PointwiseConvolutionInt8"/>) with its fp32
    /// epilogue. Output rows are split over the threads.
    /// </summary>
    public static unsafe class ConvolutionInt8
    {
        /// <summary>Floats of row buffer one thread needs: one output row of windows, a byte per tap.</summary>
        public static long RowBufferLength(int outWidth, int kernel, int inChannels) => Model.KernelChoices.WindowRowFloats(outWidth, kernel, inChannels);

        /// <param name="input">[inHeight, inWidth, inChannels] fp32</param>
        /// <param name="inputQuantization">the layer's input scale and zero point, as the blob stores them</param>
        /// <param name="weights">the floats the layout gives the weights: [kernel x kernel x inChannels, outChannels] s8 levels,
        /// packed at load (<see cref="PointwiseConvolutionInt8.PackWeights"/>)</param>
        /// <param name="bias">with the input zero point's share taken out at load (<see cref="PointwiseConvolutionInt8.FoldInputZeroPoint"/>)</param>
        /// <param name="levelsScratch">at least inHeight x inWidth x inChannels bytes: the input as u8 levels</param>
        /// <param name="rowBuffers">at least threads x <see cref="RowBufferLength"/> floats</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void RunLayer(ReadOnlySpan<float> input, int inHeight, int inWidth, int inChannels, ReadOnlySpan<float> inputQuantization,
                                    ReadOnlySpan<float> weights, ReadOnlySpan<float> weightScales, ReadOnlySpan<float> bias,
                                    int kernel, int stride, int padTop, int padLeft,
                                    Span<float> output, int outHeight, int outWidth, int outChannels, Activation activation, ReadOnlySpan<float> residual,
                                    Span<float> levelsScratch, Span<float> rowBuffers, Threading.WorkerPool? workers)
        {
            int taps = kernel * kernel * inChannels;
            Check.Length(input.Length, (long)inHeight * inWidth * inChannels, nameof(input));
            Check.Length(inputQuantization.Length, 2, nameof(inputQuantization));
            Check.Length(output.Length, (long)outHeight * outWidth * outChannels, nameof(output));
            if (!residual.IsEmpty) Check.Length(residual.Length, (long)outHeight * outWidth * outChannels, nameof(residual));
            ReadOnlySpan<sbyte> levelsOfWeights = PointwiseConvolutionInt8.StoredLevels(weights, (long)taps * outChannels);
            Span<byte> levels = PointwiseConvolutionInt8.LevelsScratch(levelsScratch, (long)inHeight * inWidth * inChannels);
            long patchFloats = RowBufferLength(outWidth, kernel, inChannels);
            Check.Length(rowBuffers.Length, patchFloats * (workers?.Threads ?? 1), nameof(rowBuffers));

            float inputScale = inputQuantization[0];
            byte zeroPoint = (byte)inputQuantization[1];
            QuantizeActivations.Run(input, inHeight * inWidth, inChannels, default, inputScale, zeroPoint, levels, workers);
            fixed (byte* x = levels)
            fixed (sbyte* w = levelsOfWeights)
            fixed (float* s = weightScales, b = bias, y = output, r = residual, patches = rowBuffers)
            {
                var conv = new Layer(x, inHeight, inWidth, inChannels, inputScale, zeroPoint, w, s, b, kernel, stride, padTop, padLeft,
                                     y, outWidth, outChannels, activation, residual.IsEmpty ? null : r, (byte*)patches, patchFloats * sizeof(float));
                if (workers is null || outHeight < 2 * workers.Threads)
                {
                    conv.Rows(0, outHeight, worker: 0);
                    return;
                }
                var job = (RowsJob)(workers.ConvolutionInt8Job ??= new RowsJob());
                job.Conv = conv;
                workers.Run(job, outHeight);
            }
        }

        sealed class RowsJob : Threading.IParallelJob
        {
            public Layer Conv;

            public void Execute(int start, int end, int worker) => Conv.Rows(start, end, worker);
        }

        readonly struct Layer(byte* x, int inHeight, int inWidth, int inChannels, float inputScale, byte zeroPoint, sbyte* w, float* scales,
                              float* bias, int kernel, int stride, int padTop, int padLeft, float* y, int outWidth, int outChannels,
                              Activation activation, float* residual, byte* patches, long patchBytes)
        {
            /// <summary>Output rows [first, end) with the row buffer of thread <paramref name="worker"/>.</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Rows(int first, int end, int worker)
            {
                int taps = kernel * kernel * inChannels;
                byte* patch = patches + worker * patchBytes;
                long rowValues = (long)outWidth * outChannels;
                for (int oy = first; oy < end; oy++)
                {
                    Gather(oy, patch);
                    PointwiseConvolutionInt8.Run(new ReadOnlySpan<byte>(patch, outWidth * taps), outWidth, taps, inputScale,
                        new ReadOnlySpan<sbyte>(w, taps * outChannels), new ReadOnlySpan<float>(scales, outChannels), new ReadOnlySpan<float>(bias, outChannels),
                        outChannels, activation, new Span<float>(y + oy * rowValues, (int)rowValues),
                        residual == null ? default : new ReadOnlySpan<float>(residual + oy * rowValues, (int)rowValues));
                }
            }

            // Row oy's windows, [outWidth, kernel, kernel, inChannels]: a window row's taps inside the map are one copy;
            // taps in the padding read the zero point's level.
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            void Gather(int oy, byte* patch)
            {
                int rowTaps = kernel * inChannels;
                for (int ox = 0; ox < outWidth; ox++)
                    for (int ky = 0; ky < kernel; ky++)
                    {
                        byte* to = patch + ((long)ox * kernel + ky) * rowTaps;
                        int iy = oy * stride - padTop + ky, ix0 = ox * stride - padLeft;
                        if (iy < 0 || iy >= inHeight)
                        {
                            new Span<byte>(to, rowTaps).Fill(zeroPoint);
                            continue;
                        }
                        int begin = Math.Max(0, -ix0), end = Math.Min(kernel, inWidth - ix0); // the taps of this window row inside the map
                        if (begin > 0) new Span<byte>(to, begin * inChannels).Fill(zeroPoint);
                        if (end > begin)
                            new ReadOnlySpan<byte>(x + ((long)iy * inWidth + ix0 + begin) * inChannels, (end - begin) * inChannels)
                                .CopyTo(new Span<byte>(to + begin * inChannels, (end - begin) * inChannels));
                        if (end < kernel) new Span<byte>(to + Math.Max(end, begin) * inChannels, (kernel - Math.Max(end, begin)) * inChannels).Fill(zeroPoint);
                    }
            }
        }
    }
}
