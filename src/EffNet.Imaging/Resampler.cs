using System;

namespace EffNet.Imaging
{
    /// <summary>
    /// The separable convolution resampler Pillow (9.4) uses to resize 8-bit images, reproduced to the bit.
    /// </summary>
    /// <remarks>
    /// Per axis: output pixel i is centred at (i + 0.5) * scale in the input, scale = in / out. When shrinking, the
    /// filter is stretched by the scale (antialiasing): support = filter support * max(scale, 1), and its taps are the
    /// input pixels j in [round(centre - support), round(centre + support)) (rounding by +0.5 and truncation, clamped
    /// to the image), weighted by filter((j - centre + 0.5) / max(scale, 1)). The weights are computed in double,
    /// divided by their sum, then turned into 22-bit fixed point (rounded away from zero). Each output value is
    /// (2^21 + sum of byte * weight) &gt;&gt; 22, clipped to 0..255. Horizontal first, rounded to bytes, then vertical;
    /// an axis whose size does not change is not resampled at all.
    /// <para>
    /// Every output pixel depends only on its own row's and column's taps, so computing just a window of the output
    /// (the centre crop) gives the same bytes as resizing the whole image and cropping it afterwards.
    /// </para>
    /// </remarks>
    static class Resampler
    {
        const int PrecisionBits = 32 - 8 - 2;
        const int Half = 1 << (PrecisionBits - 1);

        /// <summary>
        /// Resizes <paramref name="source"/> to <paramref name="outWidth"/> x <paramref name="outHeight"/> and writes the
        /// part of the result inside <paramref name="window"/> (in output coordinates) to <paramref name="destination"/>,
        /// a window.Width x window.Height RGB image; window pixels outside the resized image are left as they are.
        /// </summary>
        public static void ResizeWindow(RgbImage source, int outWidth, int outHeight, ResizeInterpolation interpolation,
                                        Window window, Span<byte> destination)
        {
            // The part of the window that lies on the resized image.
            int x0 = Math.Max(window.Left, 0), x1 = Math.Min(window.Left + window.Width, outWidth);
            int y0 = Math.Max(window.Top, 0), y1 = Math.Min(window.Top + window.Height, outHeight);
            if (x0 >= x1 || y0 >= y1)
                return;

            bool horizontal = outWidth != source.Width;
            bool vertical = outHeight != source.Height;
            Taps? columns = horizontal ? Taps.Compute(source.Width, outWidth, x0, x1 - x0, interpolation) : null;
            Taps? rows = vertical ? Taps.Compute(source.Height, outHeight, y0, y1 - y0, interpolation) : null;

            // The input rows the vertical pass reads (all of them are horizontally resampled first).
            int firstRow = rows is null ? y0 : rows.Start[0];
            int lastRow = rows is null ? y1 : rows.Start[^1] + rows.Count[^1];
            int tempWidth = x1 - x0, tempHeight = lastRow - firstRow;
            var temp = new byte[tempWidth * tempHeight * 3];

            ReadOnlySpan<byte> input = source.Pixels;
            if (columns is null)
            {
                for (int r = 0; r < tempHeight; r++)
                    input.Slice(((firstRow + r) * source.Width + x0) * 3, tempWidth * 3).CopyTo(temp.AsSpan(r * tempWidth * 3));
            }
            else
            {
                for (int r = 0; r < tempHeight; r++)
                    Convolve(input.Slice((firstRow + r) * source.Width * 3, source.Width * 3), 3, columns, temp.AsSpan(r * tempWidth * 3, tempWidth * 3), 3);
            }

            int destinationStride = window.Width * 3;
            int destinationOffset = (y0 - window.Top) * destinationStride + (x0 - window.Left) * 3;
            if (rows is null)
            {
                for (int r = 0; r < y1 - y0; r++)
                    temp.AsSpan(r * tempWidth * 3, tempWidth * 3).CopyTo(destination.Slice(destinationOffset + r * destinationStride));
                return;
            }

            // Vertical pass, one output row at a time: each column is a strided read of temp.
            int tempStride = tempWidth * 3;
            for (int i = 0; i < rows.Length; i++)
            {
                ReadOnlySpan<int> weights = rows.Weights(i);
                int top = rows.Start[i] - firstRow;
                Span<byte> output = destination.Slice(destinationOffset + i * destinationStride, tempStride);
                for (int v = 0; v < tempStride; v++)
                {
                    int sum = Half;
                    int at = top * tempStride + v;
                    for (int t = 0; t < weights.Length; t++, at += tempStride)
                        sum += temp[at] * weights[t];
                    output[v] = Clip(sum);
                }
            }
        }

        /// <summary>One horizontal pass over a row of interleaved pixels (<paramref name="channels"/> bytes each).</summary>
        static void Convolve(ReadOnlySpan<byte> row, int channels, Taps taps, Span<byte> output, int outputChannels)
        {
            for (int i = 0; i < taps.Length; i++)
            {
                ReadOnlySpan<int> weights = taps.Weights(i);
                ReadOnlySpan<byte> pixels = row.Slice(taps.Start[i] * channels, weights.Length * channels);
                for (int c = 0; c < outputChannels; c++)
                {
                    int sum = Half;
                    for (int t = 0, at = c; t < weights.Length; t++, at += channels)
                        sum += pixels[at] * weights[t];
                    output[i * outputChannels + c] = Clip(sum);
                }
            }
        }

        static byte Clip(int sum)
        {
            int value = sum >> PrecisionBits;
            return value < 0 ? (byte)0 : value > 255 ? (byte)255 : (byte)value;
        }

        /// <summary>A region of an image: left and top may be negative, and it may reach past the right or bottom edge.</summary>
        public readonly record struct Window(int Left, int Top, int Width, int Height);

        /// <summary>The fixed-point filter taps of a run of output pixels along one axis.</summary>
        sealed class Taps
        {
            readonly int[] _weights;
            readonly int[] _offset;

            Taps(int[] start, int[] count, int[] offset, int[] weights)
            {
                Start = start;
                Count = count;
                _offset = offset;
                _weights = weights;
            }

            /// <summary>The first input pixel each output pixel reads.</summary>
            public int[] Start { get; }

            /// <summary>How many input pixels each output pixel reads.</summary>
            public int[] Count { get; }

            public int Length => Start.Length;

            public ReadOnlySpan<int> Weights(int i) => _weights.AsSpan(_offset[i], Count[i]);

            /// <summary>Taps of output pixels first .. first + length - 1 when resizing inSize pixels to outSize.</summary>
            public static Taps Compute(int inSize, int outSize, int first, int length, ResizeInterpolation interpolation)
            {
                double filterSupport = interpolation == ResizeInterpolation.Bicubic ? 2.0 : 1.0;
                double scale = (double)inSize / outSize;
                double filterScale = Math.Max(scale, 1.0);
                double support = filterSupport * filterScale;
                double inverse = 1.0 / filterScale;

                var start = new int[length];
                var count = new int[length];
                var offset = new int[length];
                var weights = new System.Collections.Generic.List<int>(length * ((int)Math.Ceiling(support) * 2 + 1));
                var raw = new double[(int)Math.Ceiling(support) * 2 + 1];
                for (int i = 0; i < length; i++)
                {
                    double center = (first + i + 0.5) * scale;
                    int min = (int)(center - support + 0.5);
                    if (min < 0)
                        min = 0;
                    int max = (int)(center + support + 0.5);
                    if (max > inSize)
                        max = inSize;
                    int n = Math.Max(max - min, 0);

                    double total = 0.0;
                    for (int t = 0; t < n; t++)
                    {
                        double w = Filter(interpolation, (t + min - center + 0.5) * inverse);
                        raw[t] = w;
                        total += w;
                    }
                    start[i] = min;
                    count[i] = n;
                    offset[i] = weights.Count;
                    for (int t = 0; t < n; t++)
                    {
                        double w = total != 0.0 ? raw[t] / total : raw[t];
                        weights.Add(w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits)));
                    }
                }
                return new Taps(start, count, offset, weights.ToArray());
            }

            static double Filter(ResizeInterpolation interpolation, double x)
            {
                if (x < 0.0)
                    x = -x;
                if (interpolation == ResizeInterpolation.Bilinear)
                    return x < 1.0 ? 1.0 - x : 0.0;
                // Keys' cubic convolution with a = -0.5, evaluated in Pillow's operation order.
                const double a = -0.5;
                if (x < 1.0)
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                if (x < 2.0)
                    return (((x - 5) * x + 8) * x - 4) * a;
                return 0.0;
            }
        }
    }
}
