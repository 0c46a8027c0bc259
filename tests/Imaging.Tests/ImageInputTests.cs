using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace EffNet.Imaging.Tests
{
    /// <summary>
    /// How the decoder reads its input: once, as a stream, never more than the byte limit. Special files (devices, FIFOs)
    /// either decode or are refused with a one-line message; none of them exhausts memory.
    /// </summary>
    public sealed class ImageInputTests : IDisposable
    {
        readonly string _directory = Directory.CreateTempSubdirectory("effnet-imaging-input-").FullName;

        public void Dispose() => Directory.Delete(_directory, recursive: true);

        static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

        /// <summary>Runs <paramref name="decode"/> on another thread so a hang fails the test instead of stopping the run.</summary>
        static async Task<Exception?> WithinPatience(Action decode)
        {
            Task<Exception?> work = Task.Run<Exception?>(() => Record.Exception(decode));
            Assert.True(await Task.WhenAny(work, Task.Delay(Patience)) == work, $"the decoder did not answer within {Patience}");
            return await work;
        }

        static void AssertOneLine(Exception? error, string expected)
        {
            var refused = Assert.IsType<ImageFormatException>(error);
            Assert.DoesNotContain('\n', refused.Message);
            Assert.True(refused.Message.Contains(expected, StringComparison.Ordinal), $"\"{expected}\" not in: {refused.Message}");
        }

        string MakeFifo(string name)
        {
            string path = Path.Combine(_directory, name);
            using Process mkfifo = Process.Start("mkfifo", [path]);
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
            return path;
        }

        /// <summary>A stream without length or seeking, like a pipe: the bytes given, then either the end or zeros forever.</summary>
        sealed class Pipe(byte[] content, bool endless) : Stream
        {
            public long BytesRead { get; private set; }
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override int Read(byte[] buffer, int offset, int count)
            {
                long left = content.Length - BytesRead;
                int n = left > 0 ? (int)Math.Min(count, left) : endless ? count : 0;
                if (left > 0)
                    Array.Copy(content, BytesRead, buffer, offset, n);
                else
                    Array.Clear(buffer, offset, n);
                BytesRead += n;
                return n;
            }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }

        [Fact]
        public void An_endless_stream_is_refused_just_past_the_byte_limit()
        {
            var endless = new Pipe([], endless: true);
            var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(endless, "pipe", maxFileBytes: 100_000));
            Assert.Equal("pipe: the data goes on past the image file limit of 100,000 bytes (an endless source such as /dev/zero, " +
                         "or a pipe that is never closed?); give an image file, or pass a larger maxFileBytes to ImageDecoder.Decode.", e.Message);
            Assert.Equal(100_001, endless.BytesRead); // the limit, and one byte to see that more follows
        }

        [Fact]
        public async Task Dev_zero_is_refused_at_the_byte_limit()
        {
            if (OperatingSystem.IsWindows())
                return; // no /dev/zero
            AssertOneLine(await WithinPatience(() => ImageDecoder.Decode("/dev/zero", maxFileBytes: 1 << 20)),
                "/dev/zero: the data goes on past the image file limit of 1,048,576 bytes");
        }

        [Fact]
        public void A_file_larger_than_the_byte_limit_is_refused_from_its_length()
        {
            string path = Path.Combine(_directory, "big.png");
            File.WriteAllBytes(path, Fixtures.Bytes("photo.png"));
            long length = new FileInfo(path).Length;
            var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(path, maxFileBytes: length - 1));
            Assert.Equal($"{path}: the file is {length:N0} bytes, above the image file limit of {length - 1:N0} bytes; " +
                         "re-encode it smaller (JPEG or PNG) or pass a larger maxFileBytes to ImageDecoder.Decode.", e.Message);
        }

        [Fact]
        public void A_file_exactly_at_the_byte_limit_decodes()
        {
            string path = Fixtures.PathOf("photo.png");
            RgbImage image = ImageDecoder.Decode(path, maxFileBytes: new FileInfo(path).Length);
            Assert.Equal((300, 200), (image.Width, image.Height));
            using var stream = new MemoryStream(Fixtures.Bytes("photo.png"));
            Assert.Equal(300, ImageDecoder.Decode(stream, "photo.png", maxFileBytes: stream.Length).Width);
        }

        [Fact]
        public void A_stream_of_unknown_length_decodes_like_the_file()
        {
            byte[] bytes = Fixtures.Bytes("photo.jpg");
            using var unseekable = new BufferedStream(new Pipe(bytes, endless: false), 7); // tiny reads, no length
            RgbImage fromStream = ImageDecoder.Decode(unseekable, "photo.jpg", maxFileBytes: bytes.Length);
            Assert.True(fromStream.Pixels.SequenceEqual(ImageDecoder.Decode(bytes, "photo.jpg").Pixels));
        }

        [Fact]
        public async Task An_image_written_into_a_FIFO_decodes()
        {
            if (OperatingSystem.IsWindows())
                return; // no mkfifo
            string fifo = MakeFifo("image.fifo");
            byte[] bytes = Fixtures.Bytes("photo.png"); // 29 KB: more than one pipe buffer of 16 KB on some systems
            Task writer = Task.Run(() => File.WriteAllBytes(fifo, bytes));
            RgbImage? image = null;
            Assert.Null(await WithinPatience(() => image = ImageDecoder.Decode(fifo)));
            await writer;
            Assert.True(image!.Pixels.SequenceEqual(ImageDecoder.Decode(bytes).Pixels));
        }

        [Fact]
        public async Task A_FIFO_whose_writer_never_stops_is_refused_at_the_byte_limit()
        {
            if (OperatingSystem.IsWindows())
                return; // no mkfifo
            string fifo = MakeFifo("endless.fifo");
            Task writer = Task.Run(() =>
            {
                using var output = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                var block = new byte[64 * 1024];
                try
                {
                    while (true)
                        output.Write(block);
                }
                catch (IOException)
                {
                    // the reader closed the FIFO: broken pipe
                }
            });
            AssertOneLine(await WithinPatience(() => ImageDecoder.Decode(fifo, maxFileBytes: 1 << 20)),
                "the data goes on past the image file limit of 1,048,576 bytes");
            Assert.True(await Task.WhenAny(writer, Task.Delay(Patience)) == writer, "the writer was not released");
        }

        [Fact]
        public void A_directory_is_refused_as_not_an_image_file()
        {
            var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(_directory));
            Assert.Equal($"{_directory}: this is a directory, not an image file; give the path of an image file.", e.Message);
        }
    }
}
