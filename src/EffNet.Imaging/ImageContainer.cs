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
        /// The width and height a PNG, BMP or PSD header gives, or null for other formats and a header cut short. stb_image
        /// refuses sizes of these formats above 2^24 a side (PNG above 2^30 bytes) and then reports only "unknown image type",
        /// so the pixel limit is checked on this first. JPEG, GIF and TGA sides are 16-bit and stb_image reads them as they are.
        /// </summary>
        public static (long Width, long Height)? HeaderSize(ImageContainer container, ReadOnlySpan<byte> data)
        {
            switch (container)
            {
                case ImageContainer.Png when data.Length >= 24 && data[12..16].SequenceEqual("IHDR"u8):
                    return (BinaryPrimitives.ReadUInt32BigEndian(data[16..]), BinaryPrimitives.ReadUInt32BigEndian(data[20..]));
                case ImageContainer.Psd when data.Length >= 22:
                    return (BinaryPrimitives.ReadUInt32BigEndian(data[18..]), BinaryPrimitives.ReadUInt32BigEndian(data[14..]));
                case ImageContainer.Bmp when data.Length >= 26:
                    int infoSize = BinaryPrimitives.ReadInt32LittleEndian(data[14..]);
                    if (infoSize == 12) // OS/2 BITMAPCOREHEADER: 16-bit sides
                        return (BinaryPrimitives.ReadUInt16LittleEndian(data[18..]), BinaryPrimitives.ReadUInt16LittleEndian(data[20..]));
                    // A negative height means the rows are stored top-down.
                    return (BinaryPrimitives.ReadInt32LittleEndian(data[18..]), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[22..])));
                default:
                    return null;
            }
        }

        /// <summary>
        /// Why the data ends too early or its structure is broken, or null. stb_image reads past the end of its input as
        /// zeros, so a truncated JPEG, BMP or GIF comes back partly grey or black without an error (where PIL raises "image
        /// file is truncated"), a truncated PNG fails with a terse chunk error, and some GIF damage fails with no reason at
        /// all; these walks of each format's structure name the problem and its offset instead.
        /// </summary>
        public static string? FindStructuralDamage(ImageContainer container, ReadOnlySpan<byte> data) => container switch
        {
            ImageContainer.Jpeg => FindJpegTruncation(data),
            ImageContainer.Png => FindPngTruncation(data),
            ImageContainer.Bmp => FindBmpTruncation(data),
            ImageContainer.Gif => FindGifDamage(data),
            ImageContainer.Psd => FindPsdTruncation(data),
            _ => FindTgaTruncation(data), // stb_image read a header from data without a signature: TGA
        };

        /// <summary>TGA pixel data, raw or run-length packets, must cover width x height pixels (stb_image reads zeros past the end).</summary>
        static string? FindTgaTruncation(ReadOnlySpan<byte> data)
        {
            if (data.Length < 18)
                return $"the TGA data ends at offset {data.Length}, inside its 18-byte header (the file is truncated).";
            int type = data[2], bits = data[16];
            bool colorMapped = data[1] == 1;
            long width = BinaryPrimitives.ReadUInt16LittleEndian(data[12..]), height = BinaryPrimitives.ReadUInt16LittleEndian(data[14..]);
            long mapBytes = colorMapped ? BinaryPrimitives.ReadUInt16LittleEndian(data[5..]) * (long)((data[7] + 7) / 8) : 0;
            long pos = 18 + data[0] + mapBytes, pixels = width * height, pixelBytes = (bits + 7) / 8;
            if (pixelBytes == 0 || (type & ~8) is not (1 or 2 or 3))
                return null; // not a layout this walk knows: stb_image judges it
            if ((type & 8) == 0)
            {
                long needed = pos + pixels * pixelBytes;
                return needed > data.Length
                    ? $"the TGA pixel data at offset {pos:N0} needs a file of {needed:N0} bytes but it has {data.Length:N0} (the file is truncated)."
                    : null;
            }
            for (long done = 0; done < pixels;)
            {
                if (pos >= data.Length)
                    return $"the TGA run-length data ends at offset {data.Length:N0} after {done:N0} of {pixels:N0} pixels (the file is truncated).";
                int packet = data[(int)pos++];
                int count = (packet & 0x7F) + 1;
                pos += (packet & 0x80) != 0 ? pixelBytes : count * pixelBytes;
                done += count;
            }
            return pos > data.Length ? $"the TGA run-length data needs {pos:N0} bytes but the file has {data.Length:N0} (the file is truncated)." : null;
        }

        /// <summary>PSD: the three length-prefixed sections, then the merged image's channels, raw or PackBits with a byte-count table.</summary>
        static string? FindPsdTruncation(ReadOnlySpan<byte> data)
        {
            if (data.Length < 26)
                return $"the PSD data ends at offset {data.Length}, inside its 26-byte header (the file is truncated).";
            long channels = BinaryPrimitives.ReadUInt16BigEndian(data[12..]);
            long height = BinaryPrimitives.ReadUInt32BigEndian(data[14..]), width = BinaryPrimitives.ReadUInt32BigEndian(data[18..]);
            long depth = BinaryPrimitives.ReadUInt16BigEndian(data[22..]);
            long pos = 26;
            for (int section = 0; section < 3; section++)
            {
                if (pos + 4 > data.Length)
                    return $"the PSD data ends at offset {data.Length:N0}, inside the length of section {section + 1} at offset {pos:N0} (the file is truncated).";
                pos += 4 + BinaryPrimitives.ReadUInt32BigEndian(data[(int)pos..]);
            }
            if (pos + 2 > data.Length)
                return $"the PSD data ends at offset {data.Length:N0}, before the image data's compression field at offset {pos:N0} (the file is truncated).";
            int compression = BinaryPrimitives.ReadUInt16BigEndian(data[(int)pos..]);
            pos += 2;
            long planes = Math.Min(channels, 4), pixels = width * height; // stb_image reads at most four channels
            long needed;
            if (compression == 0)
                needed = pos + planes * pixels * Math.Max(depth / 8, 1);
            else if (compression == 1)
            {
                // A table of row byte counts, then PackBits per channel: n < 128 copies n + 1 bytes, n > 128 repeats one byte 257 - n times.
                long at = pos + 2 * channels * height;
                for (long plane = 0; plane < planes; plane++)
                    for (long done = 0; done < pixels;)
                    {
                        if (at >= data.Length)
                            return $"the PSD run-length data ends at offset {data.Length:N0} in channel {plane} after {done:N0} of {pixels:N0} pixels (the file is truncated).";
                        int n = data[(int)at++];
                        if (n < 128) { at += n + 1; done += n + 1; }
                        else if (n > 128) { at += 1; done += 257 - n; }
                    }
                needed = at;
            }
            else
                return null; // stb_image refuses other compressions itself
            return needed > data.Length
                ? $"the PSD image data at offset {pos:N0} needs a file of {needed:N0} bytes but it has {data.Length:N0} (the file is truncated)."
                : null;
        }

        /// <summary>PNG chunks (length, type, data, CRC) must follow each other up to IEND.</summary>
        static string? FindPngTruncation(ReadOnlySpan<byte> data)
        {
            long pos = 8;
            while (pos + 8 <= data.Length)
            {
                uint length = BinaryPrimitives.ReadUInt32BigEndian(data[(int)pos..]);
                bool end = data.Slice((int)pos + 4, 4).SequenceEqual("IEND"u8);
                if (pos + 12L + length > data.Length)
                    return $"the PNG chunk at offset {pos} needs {12L + length:N0} bytes but the file ends at offset {data.Length:N0}, before its IEND chunk (the file is truncated).";
                pos += 12L + length;
                if (end)
                    return null;
            }
            return $"the PNG data ends at offset {data.Length:N0}, before its IEND chunk (the file is truncated).";
        }

        const int MaxLzwCodeSize = 12; // the largest stb_image and PIL decode

        /// <summary>
        /// The blocks of a GIF must reach the end of the first image's compressed data (the frame PIL and stb_image read);
        /// the trailer may be missing. The walk also names what stb_image refuses without a reason: a trailer before any
        /// image, and an LZW code size above 12.
        /// </summary>
        static string? FindGifDamage(ReadOnlySpan<byte> data)
        {
            string Truncated = $"the GIF data ends at offset {data.Length:N0}, inside its first image (the file is truncated).";
            if (data.Length < 13)
                return Truncated;
            long pos = 13 + ColorTableBytes(data[10]);
            while (true)
            {
                if (pos >= data.Length)
                    return Truncated;
                byte block = data[(int)pos++];
                if (block == 0x21) // extension: label, then sub-blocks
                {
                    if (!SkipSubBlocks(data, ref pos, pos + 1))
                        return Truncated;
                }
                else if (block == 0x2C) // image descriptor, local colour table, LZW code size, sub-blocks
                {
                    if (pos + 9 > data.Length)
                        return Truncated;
                    long codeSizeAt = pos + 9 + ColorTableBytes(data[(int)pos + 8]);
                    if (codeSizeAt >= data.Length)
                        return Truncated;
                    int codeSize = data[(int)codeSizeAt];
                    if (codeSize > MaxLzwCodeSize)
                        return $"the GIF's LZW code size at offset {codeSizeAt:N0} is {codeSize}: GIF images use 2..8 and a decoder accepts at most {MaxLzwCodeSize} (the file is damaged).";
                    return SkipSubBlocks(data, ref pos, codeSizeAt + 1) ? null : Truncated;
                }
                else if (block == 0x3B)
                {
                    return $"the GIF's trailer at offset {pos - 1:N0} comes before any image (the file has no picture in it).";
                }
                else
                {
                    return $"the GIF block at offset {pos - 1:N0} starts with 0x{block:X2}, not an image (0x2C), extension (0x21) or trailer (0x3B) (the file is damaged).";
                }
            }

            static long ColorTableBytes(byte flags) => (flags & 0x80) != 0 ? 3L << ((flags & 7) + 1) : 0;

            // Complete when the terminating empty sub-block is reached; PIL also accepts data that stops right after a
            // whole sub-block (the LZW end code is inside), so that counts as complete too.
            static bool SkipSubBlocks(ReadOnlySpan<byte> data, ref long pos, long start)
            {
                pos = start;
                while (pos < data.Length)
                {
                    byte size = data[(int)pos++];
                    if (size == 0)
                        return true;
                    pos += size;
                }
                return pos == data.Length && pos > start + 1;
            }
        }

        /// <summary>
        /// Walks the JPEG marker segments (each with its length) and the entropy-coded data after every SOS (up to the
        /// next marker that is not a stuffed 0xFF00 or a restart marker) and requires an end-of-image marker.
        /// </summary>
        static string? FindJpegTruncation(ReadOnlySpan<byte> data)
        {
            string Truncated = $"the JPEG data ends at offset {data.Length:N0}, before its end-of-image marker (the file is truncated).";
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
                return $"the BMP data ends at offset {data.Length}, inside its 18-byte file header (the file is truncated).";
            long pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]);
            int headerSize = BinaryPrimitives.ReadInt32LittleEndian(data[14..]);
            if (headerSize < 12 || 14L + headerSize > data.Length)
                return $"the BMP info header at offset 14 claims {headerSize} bytes but the file ends at offset {data.Length:N0} (the file is truncated or the size is invalid).";
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
                ? $"the BMP pixel data at offset {pixelOffset:N0} ({height} rows of {rowBytes:N0} bytes) needs a file of {needed:N0} bytes but it has {data.Length:N0} (the file is truncated)."
                : null;
        }
    }
}
