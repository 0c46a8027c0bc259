using System;
using System.IO;
using EffNet.Imaging;
using EffNet.Training;
using Xunit;

namespace EffNet.Training.Tests
{
    /// <summary>The confusion matrix's PNG: a valid image whose cells are shaded by the share of their row.</summary>
    public sealed class ConfusionImageTests
    {
        static RgbImage Draw(int[,] confusion)
        {
            using var png = new MemoryStream();
            ConfusionImage.Write(confusion, png);
            return ImageDecoder.Decode(png.ToArray(), "confusion.png");
        }

        // The colour of a cell's corner, clear of the number written in its middle.
        static (byte R, byte G, byte B) Corner(RgbImage image, int row, int column)
        {
            int x = 28 + column * 44 + 3, y = 28 + row * 44 + 3, at = (y * image.Width + x) * 3;
            ReadOnlySpan<byte> rgb = image.Pixels;
            return (rgb[at], rgb[at + 1], rgb[at + 2]);
        }

        [Fact]
        public void A_cell_holding_its_whole_row_is_deep_blue_and_an_empty_one_white()
        {
            RgbImage image = Draw(new[,] { { 10, 0, 0 }, { 2, 6, 2 }, { 0, 0, 0 } });
            Assert.Equal((3 * 44 + 29, 3 * 44 + 29), (image.Width, image.Height));
            Assert.Equal(((byte)30, (byte)80, (byte)180), Corner(image, 0, 0));     // 10 of 10
            Assert.Equal(((byte)255, (byte)255, (byte)255), Corner(image, 0, 1));  // 0 of 10
            Assert.Equal(((byte)120, (byte)150, (byte)210), Corner(image, 1, 1));  // 6 of 10
            Assert.Equal(((byte)255, (byte)255, (byte)255), Corner(image, 2, 2));  // an empty row
        }

        [Fact]
        public void A_matrix_that_is_not_square_is_refused()
        {
            var e = Assert.Throws<ArgumentException>(() => ConfusionImage.Write(new int[2, 3], Stream.Null));
            Assert.Contains("2 x 3", e.Message);
        }
    }
}
