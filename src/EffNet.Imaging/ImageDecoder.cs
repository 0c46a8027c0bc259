using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using StbImageSharp;

namespace EffNet.Imaging
{
    /// <summary>
    /// Decodes JPEG, PNG, BMP, GIF (first frame), TGA and PSD (the merged image) to 8-bit RGB the way
    /// <c>PIL.Image.open(p).convert("RGB")</c> does: grayscale is replicated to R, G and B, alpha is dropped (no
    /// blending: a transparent pixel keeps its colour), palettes are looked up, and 16-bit channels keep their high byte,
    /// except 16-bit grayscale PNG, which PIL opens as 32-bit integers and clips to 0..255.
    /// </summary>
    /// <remarks>
    /// PNG and BMP pixels are identical to PIL's. JPEG goes through stb_image's IDCT and colour conversion rather than
    /// libjpeg's, so a decoded pixel can differ from PIL's by a few levels. Radiance HDR is refused: PIL cannot read it,
    /// so torchvision has no preprocessing for it. A file or stream is read only up to a byte limit
    /// (<see cref="DefaultMaxFileBytes"/> unless the caller gives another), so an endless input is refused. Before any
    /// pixel buffer is allocated the header's width x height is checked against a pixel limit (<see cref="DefaultMaxPixels"/>
    /// unless the caller gives another), so a small file that claims a huge image is refused instead of exhausting memory. JPEG, PNG, BMP and GIF data that ends early is
    /// refused with a message saying so (stb_image alone would fill the rest of a JPEG, BMP or GIF with grey or black), and
    /// so is TGA and PSD pixel data (raw or run-length) that does not cover the image.
    /// </remarks>
    public static class ImageDecoder
    {
        /// <summary>The formats <see cref="Decode(string, long, long)"/> reads, for help texts: "JPEG, PNG, BMP, GIF (first frame), TGA or PSD".</summary>
        public const string Formats = "JPEG, PNG, BMP, GIF (first frame), TGA or PSD";

        /// <summary>
        /// The default pixel limit: 2^26 = 67,108,864 pixels (8192 x 8192), about 192 MiB of RGB. Larger images are
        /// refused with <see cref="ImageFormatException"/> before they are decoded.
        /// </summary>
        public const long DefaultMaxPixels = 1L << 26;

        /// <summary>
        /// The default limit on the encoded bytes read for one image: 512 MiB. That holds an image at the default pixel
        /// limit stored uncompressed at 4 bytes per pixel (32-bit BMP or TGA) with room for metadata, and any compressed
        /// one. Reading stops as soon as more arrives, so a special file or pipe that never ends (<c>/dev/zero</c>, a FIFO
        /// whose writer keeps writing) is refused after that many bytes instead of exhausting memory.
        /// </summary>
        public const long DefaultMaxFileBytes = 1L << 29;

        /// <summary>Reads and decodes the image file at <paramref name="path"/>, opening it once and reading it as a stream.</summary>
        /// <remarks>Special files work: a FIFO or <c>/dev/stdin</c> is read to its end, and <c>/dev/zero</c> is refused at <paramref name="maxFileBytes"/>.</remarks>
        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="ImageFormatException">The path is a directory, or the file is not a readable image, is truncated, or is too large.</exception>
        public static RgbImage Decode(string path, long maxPixels = DefaultMaxPixels, long maxFileBytes = DefaultMaxFileBytes)
        {
            ArgumentNullException.ThrowIfNull(path);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixels);
            CheckMaxFileBytes(maxFileBytes);
            byte[] data;
            try
            {
                // No FileStream buffer: ReadToLimit asks for large blocks itself.
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
                data = ReadToLimit(stream, path, maxFileBytes);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new FileNotFoundException($"Image file '{path}' does not exist.", path, e);
            }
            catch (UnauthorizedAccessException e) when (Directory.Exists(path))
            {
                throw new ImageFormatException(path, "this is a directory, not an image file; give the path of an image file.", e);
            }
            return Decode(data, path, maxPixels);
        }

        /// <summary>
        /// Reads <paramref name="stream"/> to its end, at most <paramref name="maxFileBytes"/> bytes, and decodes it;
        /// <paramref name="name"/> labels errors.
        /// </summary>
        /// <exception cref="ImageFormatException">The data is not a readable image, is truncated, or is too large.</exception>
        public static RgbImage Decode(Stream stream, string? name = null, long maxPixels = DefaultMaxPixels, long maxFileBytes = DefaultMaxFileBytes)
        {
            ArgumentNullException.ThrowIfNull(stream);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixels);
            CheckMaxFileBytes(maxFileBytes);
            return Decode(ReadToLimit(stream, name, maxFileBytes), name, maxPixels);
        }

        static void CheckMaxFileBytes(long maxFileBytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFileBytes);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFileBytes, (long)Array.MaxLength); // the bytes are held in one array
        }

        /// <summary>
        /// The rest of <paramref name="stream"/>, refused as soon as it passes <paramref name="maxFileBytes"/>. A length the
        /// stream reports is used to refuse early and to size the buffer, but reading always goes to the real end: special
        /// files report 0 (<c>/dev/zero</c> never ends) and a file can grow while it is read.
        /// </summary>
        static byte[] ReadToLimit(Stream stream, string? name, long maxFileBytes)
        {
            long known = stream.CanSeek ? Math.Max(stream.Length - stream.Position, 0) : 0;
            if (known > maxFileBytes)
                throw new ImageFormatException(name,
                    $"the file is {known:N0} bytes, above the image file limit of {maxFileBytes:N0} bytes; " +
                    "re-encode it smaller (JPEG or PNG) or pass a larger maxFileBytes to ImageDecoder.Decode.");
            // Chunks that double the total, kept apart until the end: refusing an endless input holds the limit in memory
            // once, not a half-size copy beside it as a growing array would.
            var chunks = new List<byte[]>();
            long total = 0;
            var chunk = new byte[known > 0 ? known : Math.Min(64 * 1024, maxFileBytes)];
            int filled = 0;
            while (true)
            {
                int read = stream.Read(chunk, filled, chunk.Length - filled);
                if (read == 0)
                    break;
                filled += read;
                if (filled < chunk.Length)
                    continue;
                chunks.Add(chunk);
                total += filled;
                filled = 0;
                // Full: one more byte tells the end from more data.
                int probe = stream.ReadByte();
                if (probe < 0)
                    break;
                if (total >= maxFileBytes)
                    throw new ImageFormatException(name,
                        $"the data goes on past the image file limit of {maxFileBytes:N0} bytes (an endless source such as /dev/zero, " +
                        "or a pipe that is never closed?); give an image file, or pass a larger maxFileBytes to ImageDecoder.Decode.");
                chunk = new byte[Math.Min(total, maxFileBytes - total)];
                chunk[filled++] = (byte)probe;
            }
            if (chunks.Count == 1 && filled == 0)
                return chunks[0]; // a file whose length was known: read in place
            var data = new byte[total + filled];
            long at = 0;
            foreach (byte[] full in chunks)
            {
                full.CopyTo(data, at);
                at += full.Length;
            }
            Array.Copy(chunk, 0, data, at, filled);
            return data;
        }

        /// <summary>Decodes an encoded image held in memory; <paramref name="name"/> labels errors (a file name, or null).</summary>
        /// <exception cref="ImageFormatException">The data is not a readable image, is truncated, or is too large.</exception>
        public static RgbImage Decode(byte[] data, string? name = null, long maxPixels = DefaultMaxPixels)
        {
            ArgumentNullException.ThrowIfNull(data);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixels);
            if (data.Length == 0)
                throw new ImageFormatException(name, $"the file is empty. {GetItAgain}");

            ImageContainer container = ImageContainers.Identify(data);
            if (container == ImageContainer.Hdr)
                throw new ImageFormatException(name, "Radiance HDR images are not supported: torchvision's reference pipeline (PIL) cannot read them; convert it to 8-bit PNG.");

            // stb_image calls a PNG, BMP or PSD header with a size it will not decode invalid, so the limit is checked first.
            if (ImageContainers.HeaderSize(container, data) is var (width, height))
                CheckSize(name, container, width, height, maxPixels);
            ImageInfo info = ReadInfo(data, name, container);
            CheckSize(name, container, info.Width, info.Height, maxPixels);

            string? damage = ImageContainers.FindStructuralDamage(container, data);
            if (damage is not null)
                throw new ImageFormatException(name, $"{damage} {GetItAgain}");

            RgbImage image;
            try
            {
                image = container == ImageContainer.Png && info.BitsPerChannel == 16 && info.ColorComponents == ColorComponents.Grey
                    ? DecodeGray16Png(data)
                    : DecodeRgb8(data);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new ImageFormatException(name, $"the {container.Describe()} data is corrupt ({Reason(e)}). {GetItAgain}", e);
            }

            if (image.Width != info.Width || image.Height != info.Height)
                throw new ImageFormatException(name,
                    $"the {container.Describe()} header says {info.Width}x{info.Height} but the decoded image is {image.Width}x{image.Height}. {GetItAgain}");
            return image;
        }

        static void CheckSize(string? name, ImageContainer container, long width, long height, long maxPixels)
        {
            if (width <= 0 || height <= 0)
                throw new ImageFormatException(name,
                    $"the {container.Describe()} header gives an empty or negative size ({width}x{height}). {GetItAgain}");
            if (width > maxPixels / height) // width * height > maxPixels, without overflowing for PSD's 32-bit sides
                throw new ImageFormatException(name,
                    $"the {container.Describe()} header says {width}x{height} = {(decimal)width * height:N0} pixels, above the limit of {maxPixels:N0} pixels{Square(maxPixels)} " +
                    "(a guard against decompression bombs); downscale the image, or pass a larger maxPixels to ImageDecoder.Decode.");

            static string Square(long limit)
            {
                long side = (long)Math.Sqrt(limit);
                return side * side == limit ? $" ({side} x {side})" : "";
            }
        }

        static ImageInfo ReadInfo(byte[] data, string? name, ImageContainer container)
        {
            ImageInfo? info;
            try
            {
                using var stream = new StbInput(data);
                info = ImageInfo.FromStream(stream);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new ImageFormatException(name, $"the {container.Describe()} header cannot be read ({Reason(e)}). {GetItAgain}", e);
            }
            if (info is null)
                throw new ImageFormatException(name, container == ImageContainer.Unknown
                    ? "not an image format this decoder reads (JPEG, PNG, BMP, GIF, TGA, PSD); convert it to PNG or JPEG."
                    : $"the {container.Describe()} header is invalid ({HeaderFailure(data, container)}). {GetItAgain}");
            return info.Value;
        }

        /// <summary>
        /// stb_image's own reason why the header of <paramref name="container"/>'s format cannot be read. After trying every
        /// format in turn its failure reason is the last one's ("unknown image type"), so ask the one the signature names.
        /// </summary>
        static unsafe string HeaderFailure(byte[] data, ImageContainer container)
        {
            using var stream = new StbInput(data);
            var context = new StbImage.stbi__context(stream);
            StbImage.stbi__g_failure_reason = "";
            _ = container switch
            {
                ImageContainer.Png => StbImage.stbi__png_info(context, null, null, null),
                ImageContainer.Jpeg => StbImage.stbi__jpeg_info(context, null, null, null),
                ImageContainer.Bmp => StbImage.stbi__bmp_info(context, null, null, null),
                ImageContainer.Gif => StbImage.stbi__gif_info(context, null, null, null),
                ImageContainer.Psd => StbImage.stbi__psd_info(context, null, null, null),
                _ => StbImage.stbi__tga_info(context, null, null, null),
            };
            return string.IsNullOrWhiteSpace(StbImage.stbi__g_failure_reason) ? "stb_image gives no reason" : $"stb_image: {StbImage.stbi__g_failure_reason}";
        }

        static RgbImage DecodeRgb8(byte[] data)
        {
            using var stream = new StbInput(data);
            ImageResult result = ImageResult.FromStream(stream, ColorComponents.RedGreenBlue);
            return RgbImage.Own(result.Width, result.Height, result.Data);
        }

        /// <summary>
        /// PIL opens a 16-bit grayscale PNG as mode "I" and <c>convert("RGB")</c> clips each value to 0..255 (it does not
        /// scale), so 256 and above become white. stb_image would keep the high byte instead; read the 16-bit values.
        /// </summary>
        static unsafe RgbImage DecodeGray16Png(byte[] data)
        {
            using var stream = new StbInput(data);
            var context = new StbImage.stbi__context(stream);
            int width, height, components;
            ushort* gray = StbImage.stbi__load_and_postprocess_16bit(context, &width, &height, &components, 1);
            if (gray == null)
                throw new InvalidOperationException(StbImage.stbi__g_failure_reason);
            try
            {
                var rgb = new byte[checked(width * height * 3)];
                for (int i = 0, o = 0; i < width * height; i++, o += 3)
                {
                    byte v = (byte)Math.Min((int)gray[i], 255);
                    rgb[o] = rgb[o + 1] = rgb[o + 2] = v;
                }
                return RgbImage.Own(width, height, rgb);
            }
            finally
            {
                Marshal.FreeHGlobal((IntPtr)gray); // stb_image's allocations are Marshal.AllocHGlobal
            }
        }

        /// <summary>The fix for data that is damaged, cut short or mislabelled.</summary>
        const string GetItAgain = "Copy, download or export the image again.";

        /// <summary>
        /// stb_image reports a failure as InvalidOperationException carrying its short reason, which can be empty; any other
        /// exception is a fault inside the decoder on data it did not expect (the inner exception keeps it for a bug report).
        /// </summary>
        static string Reason(Exception e) => e switch
        {
            InvalidOperationException when !string.IsNullOrWhiteSpace(e.Message) => "stb_image: " + e.Message.TrimEnd('.'),
            InvalidOperationException => "stb_image gives no reason",
            _ => $"the decoder failed on it with {e.GetType().Name}",
        };
    }
}
