using System;
using System.IO;
using System.Linq;
using Xunit;

namespace EffNet.Imaging.Tests
{
    public sealed class PreprocessingTests
    {
        /// <summary>torchvision's published presets (architecture reference, section 4.1).</summary>
        [Theory]
        [InlineData(0, TorchvisionWeights.Default, 256, 224, ResizeInterpolation.Bicubic)]
        [InlineData(1, TorchvisionWeights.Default, 255, 240, ResizeInterpolation.Bilinear)]
        [InlineData(1, TorchvisionWeights.ImageNet1KV2, 255, 240, ResizeInterpolation.Bilinear)]
        [InlineData(1, TorchvisionWeights.ImageNet1KV1, 256, 240, ResizeInterpolation.Bicubic)]
        [InlineData(2, TorchvisionWeights.Default, 288, 288, ResizeInterpolation.Bicubic)]
        [InlineData(3, TorchvisionWeights.Default, 320, 300, ResizeInterpolation.Bicubic)]
        [InlineData(4, TorchvisionWeights.ImageNet1KV1, 384, 380, ResizeInterpolation.Bicubic)]
        [InlineData(5, TorchvisionWeights.Default, 456, 456, ResizeInterpolation.Bicubic)]
        [InlineData(6, TorchvisionWeights.Default, 528, 528, ResizeInterpolation.Bicubic)]
        [InlineData(7, TorchvisionWeights.Default, 600, 600, ResizeInterpolation.Bicubic)]
        public void Torchvision_presets(int phi, TorchvisionWeights weights, int resize, int crop, ResizeInterpolation interpolation)
        {
            Preprocessing p = Preprocessing.ForTorchvision(phi, weights);
            Assert.Equal((resize, crop, interpolation), (p.ResizeSize, p.CropSize, p.Interpolation));
            Assert.Equal(Preprocessing.ImageNetMean, p.Mean);
            Assert.Equal(Preprocessing.ImageNetStd, p.Std);
            Assert.Equal(3 * crop * crop, p.TensorLength);
            if (weights == TorchvisionWeights.Default)
                Assert.Equal(p, Preprocessing.ForTorchvision(phi));
        }

        [Fact]
        public void The_preprocessing_a_weight_blob_records_converts_both_ways_without_loss()
        {
            var info = new PreprocessingInfo(232, 224, PreprocessingInterpolation.Bilinear, (0.5f, 0.25f, 0.125f), (0.2f, 0.3f, 0.4f));
            Preprocessing p = Preprocessing.From(info);
            Assert.Equal((232, 224, ResizeInterpolation.Bilinear), (p.ResizeSize, p.CropSize, p.Interpolation));
            Assert.Equal(new ChannelValues(0.5f, 0.25f, 0.125f), p.Mean);
            Assert.Equal(new ChannelValues(0.2f, 0.3f, 0.4f), p.Std);
            Assert.Equal(info, p.ToInfo());
            for (int phi = 0; phi <= 7; phi++)
                Assert.Equal(Preprocessing.ForTorchvision(phi), Preprocessing.From(PreprocessingInfo.ForTorchvision(phi)));
        }

        [Fact]
        public void Unpublished_weights_are_refused()
        {
            Assert.Throws<ArgumentException>(() => Preprocessing.ForTorchvision(0, TorchvisionWeights.ImageNet1KV2));
            Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessing.ForTorchvision(8));
            Assert.Throws<ArgumentOutOfRangeException>(() => Preprocessing.ForTorchvision(-1));
        }

        [Fact]
        public void Settings_are_overridden_with_with()
        {
            Preprocessing p = Preprocessing.ForTorchvision(0) with { CropSize = 256, Mean = new(0.5f, 0.5f, 0.5f), Std = new(0.5f, 0.5f, 0.5f) };
            Assert.Equal((256, 256, ResizeInterpolation.Bicubic), (p.ResizeSize, p.CropSize, p.Interpolation));
            Assert.Equal(3 * 256 * 256, p.TensorLength);
            Assert.NotEqual(Preprocessing.ForTorchvision(0), p);

            Assert.Throws<ArgumentOutOfRangeException>(() => p with { CropSize = 0 });
            Assert.Throws<ArgumentOutOfRangeException>(() => p with { ResizeSize = Preprocessing.MaxSize + 1 });
            Assert.Throws<ArgumentOutOfRangeException>(() => p with { Std = new(1f, 0f, 1f) });
            Assert.Throws<ArgumentOutOfRangeException>(() => p with { Interpolation = (ResizeInterpolation)7 });
        }

        /// <summary>The shorter side becomes the resize size; the longer is int(resize * long / short), truncated.</summary>
        [Theory]
        [InlineData(300, 200, 256, 384, 256)]
        [InlineData(97, 143, 256, 256, 377)]    // 377.40
        [InlineData(143, 97, 255, 375, 255)]    // 375.93: truncated, not rounded
        [InlineData(1001, 757, 256, 338, 256)]  // 338.51
        [InlineData(200, 200, 224, 224, 224)]
        [InlineData(40, 30, 255, 340, 255)]
        public void Resized_size_follows_torchvision(int width, int height, int resize, int newWidth, int newHeight) =>
            Assert.Equal((newWidth, newHeight), new Preprocessing(resize, 224, ResizeInterpolation.Bilinear).ResizedSize(width, height));

        /// <summary>Every pixel a distinct value, so a crop tells where it was cut: R = x, G = y.</summary>
        static RgbImage Coordinates(int width, int height) =>
            new(width, height, Enumerable.Range(0, width * height).SelectMany(i => new[] { (byte)(i % width), (byte)(i / width), (byte)1 }).ToArray());

        /// <summary>The crop starts at int(round((size - crop) / 2)), Python's round: 6.5 -> 6, 7.5 -> 8, 2.5 -> 2.</summary>
        [Theory]
        [InlineData(16, 21, 8, 4, 6)]
        [InlineData(16, 23, 8, 4, 8)]
        [InlineData(21, 29, 16, 2, 6)]
        public void Crop_offsets_round_half_to_even(int width, int height, int crop, int left, int top)
        {
            // The resize size is the image's shorter side, so nothing is resampled.
            RgbImage cropped = new Preprocessing(Math.Min(width, height), crop, ResizeInterpolation.Bicubic).ResizeAndCrop(Coordinates(width, height));
            Assert.Equal((crop, crop), (cropped.Width, cropped.Height));
            Assert.Equal((left, top), ((int)cropped[0, 0, 0], (int)cropped[0, 0, 1]));
            Assert.Equal((left + crop - 1, top + crop - 1), ((int)cropped[crop - 1, crop - 1, 0], (int)cropped[crop - 1, crop - 1, 1]));
        }

        /// <summary>An image smaller than the crop is padded with black: the smaller half of the margin before it.</summary>
        [Fact]
        public void A_small_image_is_padded_with_black_smaller_half_first()
        {
            RgbImage cropped = new Preprocessing(10, 13, ResizeInterpolation.Bilinear).ResizeAndCrop(Coordinates(10, 10));
            Assert.Equal(0, cropped[0, 0, 2]);       // padding (blue is 1 on every image pixel)
            Assert.Equal(1, cropped[1, 1, 2]);       // image (0, 0)
            Assert.Equal((0, 0), ((int)cropped[1, 1, 0], (int)cropped[1, 1, 1]));
            Assert.Equal((9, 9), ((int)cropped[10, 10, 0], (int)cropped[10, 10, 1]));
            Assert.Equal(0, cropped[11, 11, 2]);
            Assert.Equal(0, cropped[12, 12, 2]);

            // Padding normalises like any black pixel: (0 - mean) / std.
            float[] tensor = new Preprocessing(10, 13, ResizeInterpolation.Bilinear).Apply(Coordinates(10, 10));
            Assert.Equal(-0.485f / 0.229f, tensor[0], 5);
        }

        [Fact]
        public void The_path_overload_decodes_and_matches_the_image_overload()
        {
            Preprocessing p = Preprocessing.ForTorchvision(1);
            var fromPath = new float[p.TensorLength + 5];
            p.Apply(Fixtures.PathOf("odd_97x143.png"), fromPath);
            float[] fromImage = p.Apply(ImageDecoder.Decode(Fixtures.PathOf("odd_97x143.png")));
            Assert.True(fromPath.AsSpan(0, p.TensorLength).SequenceEqual(fromImage));
            Assert.Throws<FileNotFoundException>(() => p.Apply("no-such-image.png", fromPath));
        }

        [Fact]
        public void A_short_destination_is_refused()
        {
            Preprocessing p = Preprocessing.ForTorchvision(0);
            var e = Assert.Throws<ArgumentException>(() => p.Apply(Coordinates(4, 4), new float[p.TensorLength - 1]));
            Assert.Contains("3 x 224 x 224", e.Message);
        }

        [Fact]
        public void An_extreme_aspect_ratio_is_refused() =>
            Assert.Throws<ArgumentException>(() => new Preprocessing(16384, 224, ResizeInterpolation.Bilinear).ResizedSize(1 << 24, 1));
    }
}
