using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace EffNet.Import
{
    /// <summary>
    /// NumPy's <c>.npy</c> format for one array: reads float32 or float64 (converted), either byte order, C order, header
    /// versions 1, 2 and 3; writes float32, version 1 (2 when the header needs it), as <c>np.save</c> does.
    /// </summary>
    public static class NpyFile
    {
        /// <summary>The largest header accepted; np.save writes well under a kilobyte.</summary>
        public const int MaxHeaderBytes = 1 << 20;

        static ReadOnlySpan<byte> Magic => new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

        /// <summary>The array in <paramref name="path"/> as float32 with its shape.</summary>
        /// <exception cref="WeightFormatException">The file is not a float .npy array; the message names the file and the problem.</exception>
        public static SourceTensor Read(string path) => Read(path, out _);

        /// <summary>
        /// The array in <paramref name="path"/> as float32 with its shape; <paramref name="storedType"/> tells what the file
        /// held: "float32", or "float64", converted to the nearest float32.
        /// </summary>
        public static SourceTensor Read(string path, out string storedType)
        {
            string type = "";
            SourceTensor array = CheckpointReader.WithFile(path, file => Read(file, path, out type));
            storedType = type;
            return array;
        }

        /// <summary>Reads an array from a seekable <paramref name="stream"/> (from its current position to its end).</summary>
        public static SourceTensor Read(Stream stream, string? name = null) => Read(stream, name, out _);

        /// <summary>Reads an array from a seekable <paramref name="stream"/>; <paramref name="storedType"/> is "float32" or "float64".</summary>
        public static SourceTensor Read(Stream stream, string? name, out string storedType)
        {
            CheckpointReader.RequireSeekable(stream);
            WeightFormatException Bad(string message) => new WeightFormatException(name, message);

            long start = stream.Position, available = stream.Length - start;
            Span<byte> prefix = stackalloc byte[12];
            if (available < 10)
                throw Bad($"the file is {available} bytes, too short for a .npy header (10 bytes from offset 0).");
            stream.ReadExactly(prefix.Slice(0, 10));
            if (!prefix.Slice(0, 6).SequenceEqual(Magic))
                throw Bad($"this is not a .npy file: it starts with {Convert.ToHexString(prefix.Slice(0, 6))} at offset 0, not \"\\x93NUMPY\".");
            int major = prefix[6], minor = prefix[7];
            if (major < 1 || major > 3 || minor != 0)
                throw Bad($".npy format version {major}.{minor} at offset 6 is not 1.0, 2.0 or 3.0.");
            long headerLength;
            int prefixLength;
            if (major == 1)
            {
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix.Slice(8));
                prefixLength = 10;
            }
            else
            {
                if (available < 12)
                    throw Bad("the file ends inside its header length (4 bytes at offset 8).");
                stream.ReadExactly(prefix.Slice(10, 2));
                headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix.Slice(8));
                prefixLength = 12;
            }
            if (headerLength > MaxHeaderBytes || headerLength > available - prefixLength)
                throw Bad($"the header length {headerLength} at offset 8 runs past the end of the file ({available} bytes).");

            var headerBytes = new byte[headerLength];
            stream.ReadExactly(headerBytes);
            string header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
            (string descr, bool fortran, int[] shape) = ParseHeader(header, prefixLength, Bad);

            bool bigEndian;
            int itemSize;
            switch (descr)
            {
                case "<f4": bigEndian = false; itemSize = 4; break;
                case ">f4": bigEndian = true; itemSize = 4; break;
                case "<f8": bigEndian = false; itemSize = 8; break;
                case ">f8": bigEndian = true; itemSize = 8; break;
                default: throw Bad($"dtype '{descr}' is not float32 or float64 (the header's 'descr' at offset {prefixLength}; '<f4', '>f4', '<f8' and '>f8' are read).");
            }
            if (fortran && shape.Length > 1)
                throw Bad($"the array is in Fortran (column-major) order (the header's 'fortran_order' at offset {prefixLength} is True); save it in C order (np.ascontiguousarray).");

            long elements = 1;
            foreach (int d in shape) elements = d == 0 ? 0 : Math.Min(elements, long.MaxValue / 8 / d) * d;
            long dataBytes = available - prefixLength - headerLength;
            if (elements * itemSize != dataBytes)
                throw Bad($"shape {SourceTensor.FormatShape(shape)} of '{descr}' needs {elements * itemSize} bytes of data, but the file has {dataBytes} after its header at offset {prefixLength + headerLength}.");
            if (elements > int.MaxValue)
                throw Bad($"the header's 'shape' {SourceTensor.FormatShape(shape)} (at offset {prefixLength}) has more elements than one array can hold.");

            var bytes = new byte[dataBytes];
            stream.ReadExactly(bytes);
            var data = new float[elements];
            for (int i = 0; i < data.Length; i++)
            {
                ReadOnlySpan<byte> at = bytes.AsSpan(i * itemSize, itemSize);
                data[i] = itemSize == 4
                    ? (bigEndian ? BinaryPrimitives.ReadSingleBigEndian(at) : BinaryPrimitives.ReadSingleLittleEndian(at))
                    : (float)(bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(at) : BinaryPrimitives.ReadDoubleLittleEndian(at));
            }
            storedType = itemSize == 4 ? "float32" : "float64";
            return new SourceTensor(shape, data);
        }

        /// <summary>Writes <paramref name="data"/> as a float32 C-order array of <paramref name="shape"/>, atomically (temporary file, then rename).</summary>
        public static void Write(string path, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
        {
            using var output = EffNet.IO.AtomicFile.Create(path);
            Write(output.Stream, data, shape);
            output.Commit();
        }

        /// <summary>Writes <paramref name="data"/> as a float32 C-order array of <paramref name="shape"/> to <paramref name="destination"/>.</summary>
        public static void Write(Stream destination, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
        {
            ArgumentNullException.ThrowIfNull(destination);
            long elements = 1;
            var dims = new List<string>(shape.Length);
            foreach (int d in shape)
            {
                if (d < 0)
                    throw new ArgumentException($"Shape size {d} is negative.", nameof(shape));
                elements *= d;
                dims.Add(d.ToString(CultureInfo.InvariantCulture));
            }
            if (elements != data.Length)
                throw new ArgumentException($"Shape ({string.Join(", ", dims)}) holds {elements} elements but {data.Length} were given.", nameof(data));

            string shapeText = dims.Count == 1 ? "(" + dims[0] + ",)" : "(" + string.Join(", ", dims) + ")";
            string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText + ", }";
            // As np.save: spaces then a newline, so that the data starts on a 64-byte boundary.
            int major = dict.Length + 1 + 10 > ushort.MaxValue ? 2 : 1;
            int prefixLength = major == 1 ? 10 : 12;
            int total = (prefixLength + dict.Length + 1 + 63) / 64 * 64;
            string header = dict.PadRight(total - prefixLength - 1) + "\n";

            Span<byte> prefix = stackalloc byte[12];
            Magic.CopyTo(prefix);
            prefix[6] = (byte)major;
            prefix[7] = 0;
            if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(prefix.Slice(8), (ushort)header.Length);
            else BinaryPrimitives.WriteUInt32LittleEndian(prefix.Slice(8), (uint)header.Length);
            destination.Write(prefix.Slice(0, prefixLength));
            destination.Write(Encoding.Latin1.GetBytes(header));
            if (BitConverter.IsLittleEndian)
                destination.Write(MemoryMarshal.AsBytes(data));
            else
            {
                Span<byte> one = stackalloc byte[4];
                foreach (float v in data)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(one, v);
                    destination.Write(one);
                }
            }
            destination.Flush();
        }

        /// <summary>Parses the Python dict literal of a .npy header: exactly 'descr', 'fortran_order' and 'shape'.</summary>
        static (string Descr, bool Fortran, int[] Shape) ParseHeader(string text, int fileOffset, Func<string, WeightFormatException> bad)
        {
            int at = 0;
            WeightFormatException Fail(string what) => bad($"the .npy header is not a valid dict literal: {what} at header character {at} (offset {fileOffset + at}).");
            void SkipSpace()
            {
                while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
            }
            bool Accept(char c)
            {
                SkipSpace();
                if (at < text.Length && text[at] == c)
                {
                    at++;
                    return true;
                }
                return false;
            }
            void Expect(char c)
            {
                if (!Accept(c)) throw Fail($"expected '{c}'");
            }
            string ParseString()
            {
                SkipSpace();
                if (at >= text.Length || (text[at] != '\'' && text[at] != '"'))
                    throw Fail("expected a quoted string");
                char quote = text[at++];
                int end = text.IndexOf(quote, at);
                if (end < 0) throw Fail("unterminated string");
                string value = text.Substring(at, end - at);
                at = end + 1;
                return value;
            }

            string? descr = null;
            bool? fortran = null;
            int[]? shape = null;
            Expect('{');
            while (!Accept('}'))
            {
                string key = ParseString();
                Expect(':');
                SkipSpace();
                switch (key)
                {
                    case "descr" when descr is null:
                        descr = ParseString();
                        break;
                    case "fortran_order" when fortran is null:
                        if (string.CompareOrdinal(text, at, "True", 0, 4) == 0) { fortran = true; at += 4; }
                        else if (string.CompareOrdinal(text, at, "False", 0, 5) == 0) { fortran = false; at += 5; }
                        else throw Fail("fortran_order is not True or False");
                        break;
                    case "shape" when shape is null:
                        shape = ParseShape();
                        break;
                    default:
                        throw Fail($"unexpected or repeated key '{key}'");
                }
                if (!Accept(','))
                {
                    Expect('}');
                    break;
                }
            }
            SkipSpace();
            if (at != text.Length)
                throw Fail("unexpected text after the dict");
            if (descr is null || fortran is null || shape is null)
                throw bad($"the .npy header (offset {fileOffset}) lacks one of 'descr', 'fortran_order' and 'shape'.");
            return (descr, fortran.Value, shape);

            int[] ParseShape()
            {
                Expect('(');
                var dims = new List<int>();
                while (!Accept(')'))
                {
                    SkipSpace();
                    int begin = at;
                    while (at < text.Length && char.IsAsciiDigit(text[at])) at++;
                    if (at == begin || !int.TryParse(text.AsSpan(begin, at - begin), NumberStyles.None, CultureInfo.InvariantCulture, out int d))
                        throw Fail("a shape entry is not a size");
                    if (at < text.Length && text[at] == 'L') at++; // Python 2 long
                    if (dims.Count == 32)
                        throw Fail("the shape has more than 32 axes");
                    dims.Add(d);
                    if (!Accept(','))
                    {
                        Expect(')');
                        break;
                    }
                }
                return dims.ToArray();
            }
        }
    }
}
