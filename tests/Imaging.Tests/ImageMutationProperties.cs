using System;
using System.IO;
using System.Linq;
using CsCheck;
using EffNet.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Imaging.Tests
{
    /// <summary>
    /// Thousands of random mutations of tiny images of every format and flavour (baseline and progressive JPEG, plain,
    /// interlaced, palette and 16-bit PNG, GIF, BMP, RLE TGA): each decodes or throws <see cref="ImageFormatException"/>,
    /// and the managed allocation stays within a multiple of the file plus the pixel limit's RGB buffer.
    /// </summary>
    public sealed class ImageMutationProperties
    {
        const long MaxPixels = 1 << 16; // 256 x 256: a mutated header claiming more is refused before decoding
        readonly ITestOutputHelper _output;

        public ImageMutationProperties(ITestOutputHelper output) => _output = output;

        [Fact]
        public void Damaged_images_decode_or_throw_ImageFormatException_within_the_allocation_bound()
        {
            string[] files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "FuzzSeeds")).OrderBy(f => f, StringComparer.Ordinal).ToArray();
            Assert.True(files.Length >= 10, $"expected the fuzz image seeds, found {files.Length}");
            byte[][] seeds = files.Select(File.ReadAllBytes).ToArray();
            foreach (byte[] seed in seeds)
                ImageDecoder.Decode(seed, "seed", MaxPixels);

            var tally = new MutantTally();
            Gen.Select(Gen.Int[0, seeds.Length - 1], Mutation.Generator(headerBytes: 64, fileBytes: 1024)).Sample((seed, mutations) =>
            {
                byte[] bytes = Mutation.ApplyAll(seeds[seed], mutations);
                tally.Check<ImageFormatException>(() =>
                {
                    RgbImage image = ImageDecoder.Decode(bytes, "mutant", MaxPixels);
                    Assert.Equal((long)image.Width * image.Height * 3, image.Pixels.Length);
                }, bytes, 16L * bytes.Length + 8 * MaxPixels + (1 << 20), Mutation.Print(mutations));
            }, iter: 5000, print: t => $"{Path.GetFileName(files[t.Item1])}: {Mutation.Print(t.Item2)}");
            _output.WriteLine("images: " + tally);
        }
    }
}
