using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using Xunit;

namespace EffNet.Imaging.Tests
{
    public sealed class ImageDecoderTests : IDisposable
    {
        readonly string _directory = Directory.CreateTempSubdirectory("effnet-imaging-").FullName;

        public void Dispose() => Directory.Delete(_directory, recursive: true);

        string Write(string name, byte[] bytes)
        {
            string path = Path.Combine(_directory, name);
            File.WriteAllBytes(path, bytes);
            return path;
        }

        static ImageFormatException Refused(string path, long maxPixels = ImageDecoder.DefaultMaxPixels)
        {
            var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(path, maxPixels));
            Assert.Equal(path, e.Path);
            Assert.StartsWith(path + ": ", e.Message);
            return e;
        }

        [Fact]
        public void Grayscale_is_replicated_to_rgb()
        {
            RgbImage gray = ImageDecoder.Decode(Fixtures.PathOf("gray.png"));
            Assert.Equal((180, 120), (gray.Width, gray.Height));
            for (int i = 0; i < gray.Pixels.Length; i += 3)
                Assert.True(gray.Pixels[i] == gray.Pixels[i + 1] && gray.Pixels[i] == gray.Pixels[i + 2]);
        }

        [Theory]
        [InlineData(0, 0, 0)]
        [InlineData(1, 0, 2)]       // ramp value 3 * y + 2 * x
        [InlineData(50, 30, 190)]
        [InlineData(100, 80, 255)]  // 440: clipped, not 440 >> 8 = 1
        [InlineData(20, 15, 255)]   // 60000
        public void Sixteen_bit_grayscale_png_is_clipped_like_PIL_mode_I(int x, int y, byte expected)
        {
            RgbImage image = ImageDecoder.Decode(Fixtures.PathOf("gray16.png"));
            Assert.Equal(expected, image[x, y, 0]);
            Assert.Equal(expected, image[x, y, 2]);
        }

        [Fact]
        public void Stream_and_bytes_decode_like_the_file()
        {
            RgbImage file = ImageDecoder.Decode(Fixtures.PathOf("rgba.png"));
            using FileStream stream = File.OpenRead(Fixtures.PathOf("rgba.png"));
            Assert.True(file.Pixels.SequenceEqual(ImageDecoder.Decode(stream, "rgba.png").Pixels));
            Assert.True(file.Pixels.SequenceEqual(ImageDecoder.Decode(Fixtures.Bytes("rgba.png")).Pixels));
        }

        [Fact]
        public void A_missing_file_is_FileNotFoundException()
        {
            string path = Path.Combine(_directory, "nowhere.png");
            var e = Assert.Throws<FileNotFoundException>(() => ImageDecoder.Decode(path));
            Assert.Equal(path, e.FileName);
        }

        [Fact]
        public void An_empty_file_is_refused() => Assert.Contains("empty", Refused(Write("empty.jpg", [])).Message);

        [Fact]
        public void Text_is_not_an_image()
        {
            string message = Refused(Write("notes.png", "these are not the pixels you are looking for\n"u8.ToArray())).Message;
            Assert.Contains("not an image format this decoder reads", message);
        }

        [Fact]
        public void Radiance_hdr_is_refused() =>
            Assert.Contains("HDR", Refused(Write("sky.hdr", "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n"u8.ToArray())).Message);

        /// <summary>
        /// Cut at 10%, 50% and 90%, and (except GIF, whose last bytes, the image's end marker and the file trailer, PIL
        /// does not need either) 2 and 1 bytes short.
        /// </summary>
        [Theory]
        [InlineData("photo.jpg", "JPEG")]
        [InlineData("photo.png", "PNG")]
        [InlineData("photo.bmp", "BMP")]
        [InlineData("palette.gif", "GIF")]
        public void Truncated_files_are_refused_with_the_file_name(string fixture, string format)
        {
            byte[] whole = Fixtures.Bytes(fixture);
            int[] lengths = [whole.Length / 10, whole.Length / 2, whole.Length * 9 / 10, whole.Length - 2, whole.Length - 1];
            foreach (int length in format == "GIF" ? lengths[..3] : lengths)
            {
                string path = Write($"cut-{length}-{fixture}", whole[..length]);
                string message = Refused(path).Message;
                Assert.Contains(format, message);
                Assert.Contains("truncated", message);
            }
        }

        [Fact]
        public void The_pixel_limit_is_inclusive_and_named_in_the_message()
        {
            string path = Fixtures.PathOf("photo.png"); // 300 x 200
            Assert.Equal(300, ImageDecoder.Decode(path, maxPixels: 60_000).Width);
            string message = Refused(path, maxPixels: 59_999).Message;
            Assert.Contains("300x200 = 60,000 pixels", message);
            Assert.Contains("limit of 59,999", message);
        }

        /// <summary>Sizes under stb_image's own maximum, and over it (2^24 a side, 2^30 bytes for PNG), where it calls the header invalid.</summary>
        public static TheoryData<string, byte[]> Bombs() => new()
        {
            { "bomb.png", PngHeader(20_000, 5_000) },
            { "bomb.jpg", JpegHeader(60_000, 60_000) },
            { "bomb.bmp", BmpHeader(50_000, 50_000) },
            { "bomb.gif", GifHeader(65_535, 65_535) },
            { "beyond-stb.png", PngHeader(60_000, 60_000) },
            { "beyond-stb.bmp", BmpHeader(1 << 25, -(1 << 25)) },
            { "beyond-stb.psd", PsdHeader(1 << 25, 1 << 25) },
        };

        /// <summary>A tiny file whose header claims billions of pixels is refused from the header, before any pixel buffer exists.</summary>
        [Theory]
        [MemberData(nameof(Bombs))]
        public void A_decompression_bomb_is_refused_before_allocating(string name, byte[] header)
        {
            string path = Write(name, header);
            long before = GC.GetAllocatedBytesForCurrentThread();
            string message = Refused(path).Message;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Contains("above the limit of 67,108,864 pixels (8192 x 8192)", message);
            Assert.EndsWith("; downscale the image, or pass a larger maxPixels to ImageDecoder.Decode.", message);
            Assert.True(allocated < 1 << 20, $"{allocated:N0} bytes allocated while refusing {name}");
        }

        [Fact]
        public void A_60000_pixel_square_PNG_is_refused_by_the_pixel_limit_not_as_an_unknown_type()
        {
            string path = Write("square.png", PngHeader(60_000, 60_000));
            Assert.Equal($"{path}: the PNG header says 60000x60000 = 3,600,000,000 pixels, above the limit of 67,108,864 pixels (8192 x 8192) " +
                         "(a guard against decompression bombs); downscale the image, or pass a larger maxPixels to ImageDecoder.Decode.",
                Refused(path).Message);
        }

        /// <summary>
        /// Above the pixel limit the caller chose, stb_image can still refuse a size (a PNG of more than 2^30 bytes decoded);
        /// its reason for that format is given, not the "unknown image type" it ends on after trying every format.
        /// </summary>
        [Fact]
        public void A_header_stb_image_refuses_is_reported_with_its_reason_for_that_format()
        {
            string message = Refused(Write("square.png", PngHeader(60_000, 60_000)), maxPixels: long.MaxValue).Message;
            Assert.Contains("the PNG header is invalid (stb_image: too large). Copy, download or export the image again.", message);
            Assert.DoesNotContain("unknown image type", message);
        }

        /// <summary>Cut and bit-flipped copies of every fixture format: each decodes or throws ImageFormatException, nothing else.</summary>
        [Theory]
        [InlineData("photo.jpg")]
        [InlineData("photo.png")]
        [InlineData("photo.bmp")]
        [InlineData("palette.gif")]
        [InlineData("palette.png")]
        [InlineData("gray16.png")]
        [InlineData("gray_alpha.png")]
        public void Damaged_files_decode_or_throw_ImageFormatException(string fixture)
        {
            byte[] whole = Fixtures.Bytes(fixture);
            var random = new Random(fixture.Length * 7919 + whole.Length);
            for (int trial = 0; trial < 60; trial++)
            {
                byte[] damaged = trial < 20 ? whole[..random.Next(1, whole.Length)] : (byte[])whole.Clone();
                if (trial >= 20)
                    for (int flips = random.Next(1, 9); flips > 0; flips--)
                        damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
                try
                {
                    RgbImage image = ImageDecoder.Decode(damaged, $"{fixture} #{trial}");
                    Assert.Equal(image.Width * image.Height * 3, image.Pixels.Length);
                }
                catch (ImageFormatException e)
                {
                    Assert.StartsWith($"{fixture} #{trial}: ", e.Message);
                }
            }
        }

        static byte[] PngHeader(int width, int height)
        {
            var bytes = new byte[8 + 25 + 12];
            new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(bytes, 0);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 13);
            "IHDR"u8.CopyTo(bytes.AsSpan(12));
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
            bytes[24] = 8; // bit depth
            bytes[25] = 2; // RGB
            "IEND"u8.CopyTo(bytes.AsSpan(8 + 25 + 4)); // CRCs left zero: stb_image does not check them
            return bytes;
        }

        static byte[] GifHeader(int width, int height)
        {
            byte[] bytes = [.. "GIF89a"u8, 0, 0, 0, 0, 0, 0, 0, 0x3B];
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)width);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)height);
            return bytes;
        }

        static byte[] PsdHeader(uint width, uint height)
        {
            byte[] bytes = ImageCorpusTests.Psd(rle: false);
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(14), height);
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(18), width);
            return bytes;
        }

        static byte[] JpegHeader(int width, int height)
        {
            byte[] frame = [0xFF, 0xC0, 0x00, 0x11, 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 3,
                            1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0];
            return [0xFF, 0xD8, .. frame, 0xFF, 0xD9];
        }

        static byte[] BmpHeader(int width, int height)
        {
            var bytes = new byte[54];
            "BM"u8.CopyTo(bytes);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
            return bytes;
        }
    }
}
