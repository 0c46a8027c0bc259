using System;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Imaging.Tests
{
    /// <summary>
    /// Decode + preprocess against the tensors torchvision 0.14 (Pillow 9.4) made from the same files. PNG, BMP and GIF
    /// decode to PIL's exact pixels, so the tensors must agree to float32 rounding (in practice: bit for bit).
    /// </summary>
    public sealed class TorchvisionEquivalenceTests(ITestOutputHelper output)
    {
        /// <summary>Lossless inputs: the whole pipeline is exact, so only float32 rounding could differ.</summary>
        const float LosslessTolerance = 1e-6f;

        public static TheoryData<string, string> LosslessCases()
        {
            var data = new TheoryData<string, string>();
            foreach (GoldenCase c in Fixtures.Manifest.Cases)
                data.Add(c.Image, c.Preset);
            return data;
        }

        [Theory]
        [MemberData(nameof(LosslessCases))]
        public void Tensor_matches_torchvision(string image, string preset)
        {
            GoldenCase golden = Fixtures.Case(image, preset);
            (int[] shape, float[] expected) = Fixtures.ReadNpy(golden.Tensor);
            Assert.Equal([3, golden.Crop, golden.Crop], shape);

            RgbImage decoded = ImageDecoder.Decode(Fixtures.PathOf(image));
            Assert.Equal((golden.Width, golden.Height), (decoded.Width, decoded.Height));
            float[] actual = golden.Preprocessing.Apply(decoded);

            (float maxDiff, int mismatches) = Compare(expected, actual);
            output.WriteLine($"{image} [{golden.PilMode}] {preset}: max |diff| = {maxDiff:G3}, elements differing: {mismatches} of {expected.Length}");
            Assert.True(maxDiff <= LosslessTolerance, $"{image} {preset}: max |diff| {maxDiff} > {LosslessTolerance} ({mismatches} elements differ)");
        }

        [Theory]
        [InlineData("b0", 0, TorchvisionWeights.Default)]
        [InlineData("b1v1", 1, TorchvisionWeights.ImageNet1KV1)]
        [InlineData("b1v2", 1, TorchvisionWeights.Default)]
        [InlineData("b1v2", 1, TorchvisionWeights.ImageNet1KV2)]
        [InlineData("b2", 2, TorchvisionWeights.Default)]
        [InlineData("b3", 3, TorchvisionWeights.ImageNet1KV1)]
        public void ForTorchvision_matches_the_weights_transforms(string preset, int phi, TorchvisionWeights weights)
        {
            GoldenCase golden = Fixtures.Case("photo.png", preset);
            Assert.Equal(golden.Preprocessing, Preprocessing.ForTorchvision(phi, weights));
        }

        [Fact]
        public void Normalization_matches_torch_for_every_byte_value()
        {
            (int[] shape, float[] expected) = Fixtures.ReadNpy("normalize.npy");
            Assert.Equal([3, 256], shape);
            Assert.Equal(Fixtures.Manifest.Mean, new[] {Preprocessing.ImageNetMean.R, Preprocessing.ImageNetMean.G, Preprocessing.ImageNetMean.B });
            Assert.Equal(Fixtures.Manifest.Std, new[] {Preprocessing.ImageNetStd.R, Preprocessing.ImageNetStd.G, Preprocessing.ImageNetStd.B });

            // A 16x16 image of every byte value in every channel; resize and crop 16 leave it untouched.
            byte[] rgb = Enumerable.Range(0, 256).SelectMany(v => new[] { (byte)v, (byte)v, (byte)v }).ToArray();
            float[] tensor = new Preprocessing(16, 16, ResizeInterpolation.Bicubic).Apply(new RgbImage(16, 16, rgb));
            for (int c = 0; c < 3; c++)
                for (int v = 0; v < 256; v++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected[c * 256 + v]), BitConverter.SingleToInt32Bits(tensor[c * 256 + v]));
        }

        /// <summary>
        /// stb_image and libjpeg decode JPEG with different IDCTs and colour conversions, so pixels may differ by a few
        /// levels; the reference is PIL's decode of the same file (photo.jpg.pil.png).
        /// </summary>
        const int JpegPixelTolerance = 4;

        const double JpegMeanPixelTolerance = 0.25;

        /// <summary>A level of difference is 1/255/std ≈ 0.0175 after normalisation; resizing averages differences down.</summary>
        const float JpegTensorTolerance = JpegPixelTolerance / 255f / 0.224f;

        [Theory]
        [InlineData("photo.jpg")]
        [InlineData("large_640x480.jpg")]
        public void Jpeg_decodes_within_a_few_levels_of_libjpeg(string jpeg)
        {
            RgbImage ours = ImageDecoder.Decode(Fixtures.PathOf(jpeg));
            RgbImage pil = ImageDecoder.Decode(Fixtures.PathOf(jpeg + ".pil.png"));
            Assert.Equal((pil.Width, pil.Height), (ours.Width, ours.Height));
            int max = 0;
            long total = 0;
            for (int i = 0; i < ours.Pixels.Length; i++)
            {
                int d = Math.Abs(ours.Pixels[i] - pil.Pixels[i]);
                max = Math.Max(max, d);
                total += d;
            }
            double mean = (double)total / ours.Pixels.Length;
            output.WriteLine($"{jpeg} stb_image vs libjpeg: max |diff| = {max} levels, mean {mean:F3}");
            Assert.True(max <= JpegPixelTolerance, $"max pixel difference {max} > {JpegPixelTolerance}");
            Assert.True(mean <= JpegMeanPixelTolerance, $"mean pixel difference {mean} > {JpegMeanPixelTolerance}");
        }

        [Theory]
        [InlineData("photo.jpg", "b0")]
        [InlineData("photo.jpg", "b1v2")]
        [InlineData("large_640x480.jpg", "b0")]
        [InlineData("large_640x480.jpg", "b1v2")]
        public void Jpeg_tensor_is_within_the_decoder_tolerance_of_torchvision(string jpeg, string preset)
        {
            GoldenCase golden = Fixtures.Case(jpeg + ".pil.png", preset);
            (_, float[] expected) = Fixtures.ReadNpy(golden.Tensor);
            float[] actual = golden.Preprocessing.Apply(ImageDecoder.Decode(Fixtures.PathOf(jpeg)));
            (float maxDiff, int mismatches) = Compare(expected, actual);
            double meanDiff = expected.Zip(actual, (e, a) => (double)Math.Abs(e - a)).Average();
            output.WriteLine($"{jpeg} {preset}: max |diff| = {maxDiff:G3}, mean {meanDiff:G3}, elements differing: {mismatches} of {expected.Length}");
            Assert.True(maxDiff <= JpegTensorTolerance, $"max |diff| {maxDiff} > {JpegTensorTolerance}");
        }

        static (float MaxDiff, int Mismatches) Compare(float[] expected, float[] actual)
        {
            Assert.Equal(expected.Length, actual.Length);
            float max = 0f;
            int mismatches = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                float d = Math.Abs(expected[i] - actual[i]);
                if (d > 0f)
                    mismatches++;
                max = Math.Max(max, d);
            }
            return (max, mismatches);
        }
    }
}
