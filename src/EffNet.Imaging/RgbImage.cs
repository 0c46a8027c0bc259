using System;

namespace EffNet.Imaging
{
    /// <summary>
    /// An 8-bit RGB image, rows top to bottom, pixels left to right, three bytes (R, G, B) per pixel, no padding:
    /// what <c>numpy.asarray(PIL.Image.open(p).convert("RGB"))</c> holds.
    /// </summary>
    public sealed class RgbImage
    {
        readonly byte[] _pixels;

        /// <summary>Copies <paramref name="rgb"/>, which must hold exactly <c>width * height * 3</c> bytes.</summary>
        public RgbImage(int width, int height, ReadOnlySpan<byte> rgb)
            : this(width, height, rgb.ToArray(), nameof(rgb))
        {
        }

        RgbImage(int width, int height, byte[] pixels, string parameterName)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            if (pixels.LongLength != (long)width * height * 3)
                throw new ArgumentException($"A {width}x{height} RGB image holds {(long)width * height * 3} bytes, but {pixels.LongLength} were given.", parameterName);
            Width = width;
            Height = height;
            _pixels = pixels;
        }

        /// <summary>Wraps <paramref name="pixels"/> without copying; the caller gives up the array.</summary>
        internal static RgbImage Own(int width, int height, byte[] pixels) => new(width, height, pixels, nameof(pixels));

        public int Width { get; }
        public int Height { get; }

        /// <summary>All pixels, <c>(y * Width + x) * 3 + channel</c>.</summary>
        public ReadOnlySpan<byte> Pixels => _pixels;

        internal byte[] Array => _pixels;

        /// <summary>One channel (0 = R, 1 = G, 2 = B) of one pixel.</summary>
        public byte this[int x, int y, int channel]
        {
            get
            {
                if ((uint)x >= (uint)Width || (uint)y >= (uint)Height || (uint)channel > 2)
                    throw new ArgumentOutOfRangeException(null, $"({x}, {y}, {channel}) is outside this {Width}x{Height}x3 image.");
                return _pixels[(y * Width + x) * 3 + channel];
            }
        }

        public override string ToString() => $"RgbImage {Width}x{Height}";
    }
}
