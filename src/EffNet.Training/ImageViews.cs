using System;
using EffNet.Imaging;

namespace EffNet.Training
{
    /// <summary>
    /// The views of a training image whose features are computed: view 0 is the image itself, view 1 its mirror image, and
    /// each further view a random crop (35 % to 100 % of the area, aspect ratio 3:4 to 4:3, then the model's preprocessing),
    /// drawn from a generator seeded by the image's content and the view number, so the same file always gives the same views.
    /// </summary>
    public static class ImageViews
    {
        /// <summary>The smallest crop, as a share of the image's area.</summary>
        public const double MinCropArea = 0.35;

        public static RgbImage View(RgbImage image, int view, ulong contentSeed)
        {
            if (view == 0) return image;
            if (view == 1) return Mirror(image);
            var random = new Random(unchecked((int)(contentSeed ^ (contentSeed >> 32)) ^ (view * (int)0x9E3779B1)));
            double area = image.Width * (double)image.Height;
            for (int attempt = 0; attempt < 10; attempt++)
            {
                double target = area * (MinCropArea + (1 - MinCropArea) * random.NextDouble());
                double ratio = Math.Exp(Math.Log(3.0 / 4) + (Math.Log(4.0 / 3) - Math.Log(3.0 / 4)) * random.NextDouble());
                int width = (int)Math.Round(Math.Sqrt(target * ratio)), height = (int)Math.Round(Math.Sqrt(target / ratio));
                if (width < 1 || height < 1 || width > image.Width || height > image.Height) continue;
                int left = random.Next(image.Width - width + 1), top = random.Next(image.Height - height + 1);
                return Crop(image, left, top, width, height);
            }
            return image; // no crop of those proportions fits (a very long image): the whole image
        }

        static RgbImage Mirror(RgbImage image)
        {
            var pixels = new byte[image.Pixels.Length];
            ReadOnlySpan<byte> source = image.Pixels;
            int row = image.Width * 3;
            for (int y = 0; y < image.Height; y++)
                for (int x = 0; x < image.Width; x++)
                    source.Slice(y * row + (image.Width - 1 - x) * 3, 3).CopyTo(pixels.AsSpan(y * row + x * 3, 3));
            return new RgbImage(image.Width, image.Height, pixels);
        }

        static RgbImage Crop(RgbImage image, int left, int top, int width, int height)
        {
            var pixels = new byte[width * height * 3];
            for (int y = 0; y < height; y++)
                image.Pixels.Slice(((top + y) * image.Width + left) * 3, width * 3).CopyTo(pixels.AsSpan(y * width * 3, width * 3));
            return new RgbImage(width, height, pixels);
        }
    }
}
