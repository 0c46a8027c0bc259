using System;
using System.Buffers.Binary;

namespace EffNet.Imaging
{
    /// <summary>The file format, told from the first bytes (stb_image tries TGA, which has no signature, last).</summary>
    enum ImageContainer
    {
        Unknown,
        Png,
        Jpeg,
        Bmp,
        Gif,
        Psd,
        Hdr,
    }

    /// <summary>Format detection and the structural checks stb_image leaves out.</summary>
    static class ImageContainers
    {
        static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

        public static ImageContainer Identify(ReadOnlySpan<byte> data)
        {
            if (data.StartsWith(PngSignature))
                return ImageContainer.Png;
            if (data.Length >= 2 && data[0] == 0xFF && data[1] == 0xD8)
                return ImageContainer.Jpeg;
            if (data.StartsWith("BM"u8))
                return ImageContainer.Bmp;
            if (data.StartsWith("GIF8"u8))
                return ImageContainer.Gif;
            if (data.StartsWith("8BPS"u8))
                return ImageContainer.Psd;
            if (data.StartsWith("#?RADIANCE"u8) || data.StartsWith("#?RGBE"u8))
                return ImageContainer.Hdr;
            return ImageContainer.Unknown;
        }

        /// <summary>The format's name for messages; data without a known signature that stb_image reads is TGA.</summary>
        public static string Describe(this ImageContainer container) => container switch
        {
            ImageContainer.Png => "PNG",
            ImageContainer.Jpeg => "JPEG",
            ImageContainer.Bmp => "BMP",
            ImageContainer.Gif => "GIF",
            ImageContainer.Psd => "PSD",
            ImageContainer.Hdr => "HDR",
            _ => "TGA",
        };

        /// <summary>
        /// Why the data ends too early, or null. stb_image reads past the end of JPEG and BMP data as zeros and returns
        /// a partly grey or black image without an error, where PIL raises "image file is truncated"; these checks
        /// restore the error. PNG needs none: stb_image fails on a missing chunk.
        /// </summary>
        public static string? FindTruncation(ImageContainer container, ReadOnlySpan<byte> data) => container switch
        {
            ImageContainer.Jpeg => FindJpegTruncation(data),
            ImageContainer.Bmp => FindBmpTruncation(data),
            _ => null,
        };

        /// <summary>
        /// Walks the JPEG marker segments (each with its length) and the entropy-coded data after every SOS (up to the
        /// next marker that is not a stuffed 0xFF00 or a restart marker) and requires an end-of-image marker.
        /// </summary>
        static string? FindJpegTruncation(ReadOnlySpan<byte> data)
        {
            const string Truncated = "the JPEG data ends before its end-of-image marker (the file is truncated).";
            int pos = 2; // after SOI
            while (true)
            {
                int ff = data[pos..].IndexOf((byte)0xFF);
                if (ff < 0)
                    return Truncated;
                pos += ff;
                while (pos < data.Length && data[pos] == 0xFF)
                    pos++; // fill bytes
                if (pos >= data.Length)
                    return Truncated;
                byte marker = data[pos++];
                if (marker == 0xD9)
                    return null; // EOI
                if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7))
                    continue; // no length field
                if (pos + 2 > data.Length)
                    return Truncated;
                int length = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
                if (length < 2)
                    return $"the JPEG marker 0x{marker:X2} at byte {pos - 2} has an invalid length {length}.";
                pos += length;
                if (pos > data.Length)
                    return Truncated;
                if (marker != 0xDA)
                    continue;
                // Entropy-coded scan data: runs to the next real marker.
                while (true)
                {
                    int next = data[pos..].IndexOf((byte)0xFF);
                    if (next < 0 || pos + next + 1 >= data.Length)
                        return Truncated;
                    pos += next;
                    byte after = data[pos + 1];
                    if (after == 0x00 || (after >= 0xD0 && after <= 0xD7))
                        pos += 2;
                    else if (after == 0xFF)
                        pos += 1;
                    else
                        break; // a marker: the scan is over
                }
            }
        }

        /// <summary>Uncompressed BMP pixel data must fill height rows of the 4-byte aligned row size after the pixel offset.</summary>
        static string? FindBmpTruncation(ReadOnlySpan<byte> data)
        {
            if (data.Length < 18)
                return "the BMP data ends inside its file header (the file is truncated).";
            long pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]);
            int headerSize = BinaryPrimitives.ReadInt32LittleEndian(data[14..]);
            if (headerSize < 12 || 14L + headerSize > data.Length)
                return "the BMP data ends inside its info header (the file is truncated).";
            long width, height, bitsPerPixel, compression;
            if (headerSize == 12)
            {
                width = BinaryPrimitives.ReadUInt16LittleEndian(data[18..]);
                height = BinaryPrimitives.ReadUInt16LittleEndian(data[20..]);
                bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(data[24..]);
                compression = 0;
            }
            else
            {
                if (headerSize < 20)
                    return null; // let the decoder judge an odd header
                width = BinaryPrimitives.ReadInt32LittleEndian(data[18..]);
                height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[22..]));
                bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(data[28..]);
                compression = BinaryPrimitives.ReadUInt32LittleEndian(data[30..]);
            }
            bool uncompressed = compression is 0 or 3 or 6; // BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS
            if (!uncompressed || width <= 0 || bitsPerPixel <= 0)
                return null;
            long rowBytes = (width * bitsPerPixel + 31) / 32 * 4;
            long needed = pixelOffset + rowBytes * height;
            return data.Length < needed
                ? $"the BMP pixel data needs {needed:N0} bytes but the file has {data.Length:N0} (the file is truncated)."
                : null;
        }
    }
}
