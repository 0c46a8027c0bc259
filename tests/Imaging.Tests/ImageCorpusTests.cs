using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace EffNet.Imaging.Tests
{
    /// <summary>
    /// Hand-crafted bad images of every format the decoder reads: cut in each section, sizes and lengths that lie, invalid
    /// fields. Each is refused with <see cref="ImageFormatException"/> whose message starts with the file's name and names the
    /// format and the problem (with the offset wherever our own structural checks find it; stb_image's own errors carry
    /// none). Inputs that once hung the decoder must now be answered promptly.
    /// </summary>
    public sealed class ImageCorpusTests
    {
        public sealed record Case(string Name, Func<byte[]> Bytes, string Expected)
        {
            public override string ToString() => Name;
        }

        static byte[] Seed(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "FuzzSeeds", name));

        static byte[] Cut(byte[] bytes, int keep) => bytes[..(keep >= 0 ? keep : bytes.Length + keep)];

        static byte[] Edit(byte[] bytes, Action<byte[]> edit)
        {
            byte[] copy = (byte[])bytes.Clone();
            edit(copy);
            return copy;
        }

        /// <summary>The offset of the first marker 0xFF <paramref name="marker"/> of a JPEG.</summary>
        static int Marker(byte[] jpeg, byte marker)
        {
            for (int i = 0; i + 1 < jpeg.Length; i++)
                if (jpeg[i] == 0xFF && jpeg[i + 1] == marker) return i;
            throw new InvalidOperationException($"no marker 0x{marker:X2}");
        }

        /// <summary>The offset of a PNG chunk's length field.</summary>
        static int Chunk(byte[] png, string type)
        {
            for (int at = 8; ; at += 12 + (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at)))
                if (png.AsSpan(at + 4, 4).SequenceEqual(System.Text.Encoding.ASCII.GetBytes(type))) return at;
        }

        /// <summary>The offset of a GIF's first block after the header and global colour table.</summary>
        static int FirstGifBlock(byte[] gif) => 13 + GifColorTableBytes(gif[10]);

        static int GifColorTableBytes(byte flags) => (flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0;

        /// <summary>The offset of the LZW code size byte of a GIF's first image.</summary>
        static int GifLzwCodeSize(byte[] gif)
        {
            int at = FirstGifBlock(gif);
            while (gif[at] == 0x21) // extension: introducer, label, sub-blocks up to an empty one
                for (at += 2; gif[at++] != 0;)
                    at += gif[at - 1];
            Assert.Equal(0x2C, gif[at]);
            return at + 10 + GifColorTableBytes(gif[at + 9]);
        }

        /// <summary>A 2 x 2 RGB PSD, raw or PackBits.</summary>
        internal static byte[] Psd(bool rle)
        {
            var header = new byte[26];
            "8BPS"u8.CopyTo(header);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), 1);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(12), 3);
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(14), 2);
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(18), 2);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(22), 8);
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(24), 3);
            byte[] sections = new byte[12]; // colour mode data, image resources, layers: all empty
            // Raw: compression 0, then 4 pixels of each channel. PackBits: compression 1, a table of 3 x 2 row byte counts (stb_image
            // skips it), then per channel a literal run of 4 (0x03), a repeat of 4 (0xFD = 257 - 4) and a literal run of 4.
            byte[] image = rle
                ? new byte[] { 0, 1 }.Concat(new byte[12]).Concat(new byte[] { 0x03, 10, 20, 30, 40, 0xFD, 50, 0x03, 60, 70, 80, 90 }).ToArray()
                : new byte[] { 0, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120 };
            return header.Concat(sections).Concat(image).ToArray();
        }

        public static TheoryData<Case> Cases()
        {
            byte[] png = Seed("rgb.png"), jpeg = Seed("baseline.jpg"), gif = Seed("palette.gif"), bmp = Seed("rgb.bmp"), tga = Seed("rle.tga");
            var data = new TheoryData<Case>();
            void Add(string name, Func<byte[]> bytes, string expected) => data.Add(new Case(name, bytes, expected));

            Add("empty", () => Array.Empty<byte>(), "the file is empty");
            Add("text", () => "not an image at all, just words"u8.ToArray(), "not an image format this decoder reads");
            Add("Radiance HDR", () => "#?RADIANCE\n"u8.ToArray(), "HDR");

            Add("PNG cut in the signature", () => Cut(png, 5), "not an image format this decoder reads");
            Add("PNG cut in IHDR", () => Cut(png, 20), "PNG");
            Add("PNG cut in IDAT", () => Cut(png, Chunk(png, "IDAT") + 20), "PNG chunk at offset");
            Add("PNG cut in IEND", () => Cut(png, -4), "PNG chunk at offset");
            Add("PNG without IEND", () => Cut(png, Chunk(png, "IEND")), "PNG data ends at offset");
            Add("PNG width 0", () => Edit(png, b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(16), 0)), "PNG");
            Add("PNG 100000 x 100000", () => Edit(png, b => { BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(16), 100_000); BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(20), 100_000); }),
                "the PNG header says 100000x100000 = 10,000,000,000 pixels, above the limit of 1,048,576 pixels (1024 x 1024)");
            Add("PNG bit depth 3", () => Edit(png, b => b[24] = 3), "PNG header is invalid");
            Add("PNG IDAT length lies", () => Edit(png, b => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(Chunk(png, "IDAT")), 0xFFFFFFF0)), "PNG chunk at offset");
            Add("PNG zlib header broken", () => Edit(png, b => b[Chunk(png, "IDAT") + 8] = 0), "PNG data is corrupt");

            Add("JPEG only SOI", () => Cut(jpeg, 2), "JPEG");
            Add("JPEG cut in a table", () => Cut(jpeg, Marker(jpeg, 0xDB) + 20), "JPEG");
            Add("JPEG cut in the scan", () => Cut(jpeg, -60), "JPEG data ends at offset");
            Add("JPEG without EOI", () => Cut(jpeg, -2), "JPEG data ends at offset");
            Add("JPEG height 0", () => Edit(jpeg, b => BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(Marker(jpeg, 0xC0) + 5), 0)), "JPEG");
            Add("JPEG 60000 x 60000", () => Edit(jpeg, b => { int sof = Marker(jpeg, 0xC0); BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 5), 60000); BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 7), 60000); }), "above the limit");
            Add("JPEG segment length 1", () => Edit(jpeg, b => BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(Marker(jpeg, 0xDB) + 2), 1)), "JPEG");
            Add("JPEG segment past the end", () => Edit(jpeg, b => BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(Marker(jpeg, 0xE0) + 2), 0xFFFF)), "JPEG");

            Add("GIF cut in the header", () => Cut(gif, 8), "GIF");
            Add("GIF cut in the colour table", () => Cut(gif, 40), "GIF data ends at offset 40");
            Add("GIF cut in the image", () => Cut(gif, gif.Length / 2), "GIF");
            Add("GIF 0 x 0", () => Edit(gif, b => { b[6] = b[7] = b[8] = b[9] = 0; }), "GIF");
            int lzw = GifLzwCodeSize(gif), block = FirstGifBlock(gif);
            Add("GIF LZW code size 15", () => Edit(gif, b => b[lzw] = 15), $"the GIF's LZW code size at offset {lzw} is 15: GIF images use 2..8 and a decoder accepts at most 12");
            Add("GIF trailer before the image", () => Edit(gif, b => b[block] = 0x3B), $"the GIF's trailer at offset {block} comes before any image");
            Add("GIF unknown block", () => Edit(gif, b => b[block] = 0x99), $"the GIF block at offset {block} starts with 0x99");

            Add("BMP cut in the file header", () => Cut(bmp, 10), "BMP");
            Add("BMP cut in the info header", () => Cut(bmp, 30), "BMP");
            Add("BMP cut in the pixels", () => Cut(bmp, 300), "BMP pixel data at offset 54");
            Add("BMP pixel offset past the end", () => Edit(bmp, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(10), 100_000)), "BMP");
            Add("BMP 7 bits per pixel", () => Edit(bmp, b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(28), 7)), "BMP");
            Add("BMP 50000 x 50000", () => Edit(bmp, b => { BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), 50_000); BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), 50_000); }), "above the limit");

            Add("TGA cut in the run-length data", () => Cut(tga, 100), "TGA run-length data ends at offset 100");
            Add("TGA raw cut short", () => Edit(Cut(tga, 18 + 3 * 100), b => b[2] = 2), "TGA pixel data at offset 18");

            Add("PSD cut in the header", () => Cut(Psd(rle: false), 20), "PSD");
            Add("PSD cut in the raw pixels", () => Cut(Psd(rle: false), -3), "PSD image data at offset 40");
            Add("PSD cut in a run", () => Cut(Psd(rle: true), -4), "PSD image data at offset 40 needs a file of 64 bytes but it has 60");
            Add("PSD cut between runs", () => Cut(Psd(rle: true), -5), "PSD run-length data ends at offset 59 in channel 2");
            Add("PSD 2^25 x 2^25", () => Edit(Psd(rle: false), b => { BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(14), 1 << 25); BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(18), 1 << 25); }),
                "the PSD header says 33554432x33554432 = 1,125,899,906,842,624 pixels, above the limit");
            Add("PSD section length lies", () => Edit(Psd(rle: false), b => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(26), 0x7FFFFFFF)), "PSD");
            return data;
        }

        [Theory]
        [MemberData(nameof(Cases))]
        public void Crafted_bad_image_is_refused_naming_the_file_and_the_problem(Case c)
        {
            byte[] bytes = c.Bytes();
            var error = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(bytes, "corpus.img", 1 << 20));
            Assert.Equal("corpus.img", error.Path);
            Assert.StartsWith("corpus.img: ", error.Message);
            Assert.True(error.Message.Contains(c.Expected, StringComparison.Ordinal), $"\"{c.Expected}\" not in: {error.Message}");
            Assert.DoesNotContain('\n', error.Message);
            Assert.DoesNotContain("Exception", error.Message); // a type name is not a reason
            Assert.DoesNotContain("unknown image type", error.Message); // stb_image's last guess, not the format's problem
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void The_crafted_PSD_itself_decodes(bool rle)
        {
            RgbImage image = ImageDecoder.Decode(Psd(rle), "ok.psd");
            Assert.Equal((2, 2), (image.Width, image.Height));
        }

        /// <summary>
        /// Inputs that hung stb_image (a segment length past the end made its end-of-data test never true): the 14-byte
        /// cut found by the mutation property and five found by afl-fuzz. Each must now be answered within seconds.
        /// </summary>
        [Fact]
        public async Task Inputs_that_once_hung_the_decoder_are_refused_promptly()
        {
            string[] files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "FuzzRegressions"));
            Assert.True(files.Length >= 6, $"expected the regression inputs, found {files.Length}");
            foreach (string file in files)
            {
                byte[] bytes = File.ReadAllBytes(file);
                Task<Exception> decode = Task.Run(() => Record.Exception(() => ImageDecoder.Decode(bytes, Path.GetFileName(file))));
                Task first = await Task.WhenAny(decode, Task.Delay(TimeSpan.FromSeconds(20)));
                Assert.True(first == decode, $"{Path.GetFileName(file)} still hangs the decoder");
                Assert.IsType<ImageFormatException>(await decode);
            }
        }
    }
}
