using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.IO.Hashing;

namespace EffNet.Training
{
    /// <summary>
    /// A confusion matrix as a PNG heat map: a cell per (true, predicted) pair, shaded by the share of the true class's
    /// images it holds (white 0 %, deep blue 100 %), with its count written in it; the class numbers run along the top
    /// and the left, in the order of <see cref="TrainingReport.Labels"/> (the text report names them). Written by hand
    /// with a built-in digit font, so training needs no drawing library and no native code.
    /// </summary>
    public static class ConfusionImage
    {
        const int Cell = 44, Margin = 28, Scale = 2; // pixels; the 3 x 5 digits are drawn 2x

        /// <summary>Writes the PNG of <paramref name="confusion"/> (rows: true class, columns: predicted) to <paramref name="destination"/>.</summary>
        public static void Write(int[,] confusion, Stream destination)
        {
            ArgumentNullException.ThrowIfNull(confusion);
            ArgumentNullException.ThrowIfNull(destination);
            int classes = confusion.GetLength(0);
            if (classes == 0 || confusion.GetLength(1) != classes)
                throw new ArgumentException($"A confusion matrix is square with at least one class; this one is {confusion.GetLength(0)} x {confusion.GetLength(1)}.", nameof(confusion));
            int size = Margin + classes * Cell + 1;
            var rgb = new byte[size * size * 3];
            rgb.AsSpan().Fill(255);

            for (int i = 0; i < classes; i++)
            {
                long rowTotal = 0;
                for (int j = 0; j < classes; j++) rowTotal += confusion[i, j];
                DrawNumber(rgb, size, i, Margin / 2, Margin + i * Cell + Cell / 2, (0, 0, 0));         // true class, left
                DrawNumber(rgb, size, i, Margin + i * Cell + Cell / 2, Margin / 2, (0, 0, 0));         // predicted class, top
                for (int j = 0; j < classes; j++)
                {
                    double share = rowTotal == 0 ? 0 : (double)confusion[i, j] / rowTotal;
                    // White to deep blue by the share; counts in white on the darker half.
                    var fill = ((byte)Math.Round(255 - 225 * share), (byte)Math.Round(255 - 175 * share), (byte)Math.Round(255 - 75 * share));
                    int x0 = Margin + j * Cell, y0 = Margin + i * Cell;
                    FillRectangle(rgb, size, x0, y0, Cell, Cell, (200, 200, 200));
                    FillRectangle(rgb, size, x0 + 1, y0 + 1, Cell - 1, Cell - 1, fill);
                    DrawNumber(rgb, size, confusion[i, j], x0 + Cell / 2, y0 + Cell / 2, share > 0.5 ? ((byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0));
                }
            }
            WritePng(destination, rgb, size, size);
        }

        // 3 x 5 pixel digits, a row of 3 bits per line, top line first.
        static readonly int[][] Digits =
        {
            new[] { 7, 5, 5, 5, 7 }, new[] { 2, 6, 2, 2, 7 }, new[] { 7, 1, 7, 4, 7 }, new[] { 7, 1, 7, 1, 7 }, new[] { 5, 5, 7, 1, 1 },
            new[] { 7, 4, 7, 1, 7 }, new[] { 7, 4, 7, 5, 7 }, new[] { 7, 1, 1, 1, 1 }, new[] { 7, 5, 7, 5, 7 }, new[] { 7, 5, 7, 1, 7 },
        };

        // The number, centred on (cx, cy).
        static void DrawNumber(byte[] rgb, int size, long value, int cx, int cy, (byte R, byte G, byte B) color)
        {
            string text = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int advance = 4 * Scale, width = text.Length * advance - Scale, height = 5 * Scale;
            int left = cx - width / 2, top = cy - height / 2;
            for (int d = 0; d < text.Length; d++)
            {
                int[] glyph = Digits[text[d] - '0'];
                for (int row = 0; row < 5; row++)
                    for (int column = 0; column < 3; column++)
                        if ((glyph[row] >> (2 - column) & 1) != 0)
                            FillRectangle(rgb, size, left + d * advance + column * Scale, top + row * Scale, Scale, Scale, color);
            }
        }

        static void FillRectangle(byte[] rgb, int size, int x0, int y0, int width, int height, (byte R, byte G, byte B) color)
        {
            for (int y = Math.Max(0, y0); y < Math.Min(size, y0 + height); y++)
                for (int x = Math.Max(0, x0); x < Math.Min(size, x0 + width); x++)
                {
                    int at = (y * size + x) * 3;
                    rgb[at] = color.R; rgb[at + 1] = color.G; rgb[at + 2] = color.B;
                }
        }

        // An 8-bit RGB PNG: signature, IHDR, one zlib-compressed IDAT (filter 0 on every row), IEND.
        static void WritePng(Stream destination, byte[] rgb, int width, int height)
        {
            destination.Write(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });
            var header = new byte[13];
            BinaryPrimitives.WriteInt32BigEndian(header, width);
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
            header[8] = 8;  // bits per channel
            header[9] = 2;  // RGB
            WriteChunk(destination, "IHDR", header);
            using var pixels = new MemoryStream();
            using (var zlib = new ZLibStream(pixels, CompressionLevel.Optimal, leaveOpen: true))
                for (int y = 0; y < height; y++)
                {
                    zlib.WriteByte(0);
                    zlib.Write(rgb, y * width * 3, width * 3);
                }
            WriteChunk(destination, "IDAT", pixels.ToArray());
            WriteChunk(destination, "IEND", Array.Empty<byte>());
        }

        static void WriteChunk(Stream destination, string type, byte[] data)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            destination.Write(length);
            byte[] typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
            destination.Write(typeBytes);
            destination.Write(data);
            var crc = new Crc32();
            crc.Append(typeBytes);
            crc.Append(data);
            Span<byte> sum = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(sum, crc.GetCurrentHashAsUInt32());
            destination.Write(sum);
        }
    }
}
