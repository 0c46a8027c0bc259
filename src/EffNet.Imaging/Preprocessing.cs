using System;

namespace EffNet.Imaging
{
    /// <summary>How the shorter side is resampled to <see cref="Preprocessing.ResizeSize"/> (Pillow's filters of these names).</summary>
    public enum ResizeInterpolation
    {
        /// <summary>Triangle filter, support 1 (Pillow <c>BILINEAR</c>, torchvision <c>InterpolationMode.BILINEAR</c>).</summary>
        Bilinear,

        /// <summary>Keys cubic, a = -0.5, support 2 (Pillow <c>BICUBIC</c>, torchvision <c>InterpolationMode.BICUBIC</c>).</summary>
        Bicubic,
    }

    /// <summary>Which of torchvision's published weight sets a <see cref="Preprocessing"/> is for.</summary>
    public enum TorchvisionWeights
    {
        /// <summary><c>DEFAULT</c>: IMAGENET1K_V2 for B1, IMAGENET1K_V1 for every other variant.</summary>
        Default,

        /// <summary><c>IMAGENET1K_V1</c>, published for B0..B7.</summary>
        ImageNet1KV1,

        /// <summary><c>IMAGENET1K_V2</c>, published for B1 only.</summary>
        ImageNet1KV2,
    }

    /// <summary>One value per colour channel, in R, G, B order.</summary>
    public readonly record struct ChannelValues(float R, float G, float B)
    {
        public float this[int channel] => channel switch
        {
            0 => R,
            1 => G,
            2 => B,
            _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "Channels are 0 (R), 1 (G) and 2 (B)."),
        };

        public override string ToString() => $"({R}, {G}, {B})";
    }

    /// <summary>
    /// torchvision's <c>ImageClassification</c> preset transform, exactly: resize the shorter side to
    /// <see cref="ResizeSize"/> (the longer to <c>int(ResizeSize * long / short)</c>) with Pillow's antialiased
    /// resampler, center-crop <see cref="CropSize"/> x <see cref="CropSize"/> (padding with black where the image is
    /// smaller), scale the bytes to [0, 1] and normalise with <see cref="Mean"/> and <see cref="Std"/>; the result is a
    /// float32 tensor [3, CropSize, CropSize], CHW. All arithmetic matches torchvision 0.14 with Pillow 9.4 to the bit.
    /// </summary>
    /// <remarks>
    /// Change a setting with <c>with</c>: <c>Preprocessing.ForTorchvision(0) with { CropSize = 256 }</c>.
    /// Note that torchvision's crop is not always the model's native resolution: B2's is 288 (native 260).
    /// </remarks>
    public sealed record Preprocessing
    {
        /// <summary>The largest resize or crop size accepted.</summary>
        public const int MaxSize = PreprocessingInfo.MaxSize;

        /// <summary>ImageNet channel means as torchvision passes them (Python floats rounded to float32).</summary>
        public static readonly ChannelValues ImageNetMean = Channels(PreprocessingInfo.ImageNetMean);

        /// <summary>ImageNet channel standard deviations as torchvision passes them.</summary>
        public static readonly ChannelValues ImageNetStd = Channels(PreprocessingInfo.ImageNetStd);

        readonly int _resizeSize;
        readonly int _cropSize;
        readonly ResizeInterpolation _interpolation;
        readonly ChannelValues _std = ImageNetStd;

        /// <summary>A preset with ImageNet's mean and std.</summary>
        public Preprocessing(int resizeSize, int cropSize, ResizeInterpolation interpolation)
        {
            ResizeSize = resizeSize;
            CropSize = cropSize;
            Interpolation = interpolation;
        }

        /// <summary>The length the shorter side is resized to.</summary>
        public int ResizeSize
        {
            get => _resizeSize;
            init => _resizeSize = CheckSize(value, nameof(ResizeSize));
        }

        /// <summary>The side of the square center crop, and of the output tensor.</summary>
        public int CropSize
        {
            get => _cropSize;
            init => _cropSize = CheckSize(value, nameof(CropSize));
        }

        public ResizeInterpolation Interpolation
        {
            get => _interpolation;
            init => _interpolation = Enum.IsDefined(value)
                ? value
                : throw new ArgumentOutOfRangeException(nameof(Interpolation), value, "Use Bilinear or Bicubic.");
        }

        /// <summary>Subtracted from each channel after scaling to [0, 1].</summary>
        public ChannelValues Mean { get; init; } = ImageNetMean;

        /// <summary>Each channel is divided by this after the mean is subtracted; every value must be finite and non-zero.</summary>
        public ChannelValues Std
        {
            get => _std;
            init
            {
                for (int c = 0; c < 3; c++)
                    if (value[c] == 0f || !float.IsFinite(value[c]))
                        throw new ArgumentOutOfRangeException(nameof(Std), value, "Every standard deviation must be finite and non-zero.");
                _std = value;
            }
        }

        /// <summary>Floats in the output tensor: 3 * CropSize * CropSize.</summary>
        public int TensorLength => 3 * CropSize * CropSize;

        /// <summary>The preset of torchvision's DEFAULT weights for <c>efficientnet_b{phi}</c> (B1: IMAGENET1K_V2).</summary>
        public static Preprocessing ForTorchvision(int phi) => ForTorchvision(phi, TorchvisionWeights.Default);

        /// <summary>
        /// The preset of one of torchvision's weight sets for <c>efficientnet_b{phi}</c>: <see cref="PreprocessingInfo.ForTorchvision"/>
        /// (DEFAULT), except B1's IMAGENET1K_V1, 256 -&gt; 240 bicubic.
        /// </summary>
        public static Preprocessing ForTorchvision(int phi, TorchvisionWeights weights)
        {
            if (phi is < 0 or > 7)
                throw new ArgumentOutOfRangeException(nameof(phi), phi, "torchvision publishes EfficientNet B0..B7 (phi 0..7).");
            if (!Enum.IsDefined(weights))
                throw new ArgumentOutOfRangeException(nameof(weights), weights, null);
            if (weights == TorchvisionWeights.ImageNet1KV2 && phi != 1)
                throw new ArgumentException($"torchvision publishes IMAGENET1K_V2 weights only for B1, not B{phi}.", nameof(weights));
            if (phi == 1 && weights == TorchvisionWeights.ImageNet1KV1)
                return new Preprocessing(256, 240, ResizeInterpolation.Bicubic);
            return From(PreprocessingInfo.ForTorchvision(phi));
        }

        /// <summary>The preprocessing a weight blob records (<c>WeightInfo.Metadata.Preprocessing</c>).</summary>
        public static Preprocessing From(PreprocessingInfo info)
        {
            ArgumentNullException.ThrowIfNull(info);
            return new Preprocessing(info.ResizeSize, info.CropSize,
                info.Interpolation == PreprocessingInterpolation.Bilinear ? ResizeInterpolation.Bilinear : ResizeInterpolation.Bicubic)
            {
                Mean = Channels(info.Mean),
                Std = Channels(info.Std),
            };
        }

        /// <summary>These settings as a weight blob records them.</summary>
        public PreprocessingInfo ToInfo()
            => new PreprocessingInfo(ResizeSize, CropSize,
                Interpolation == ResizeInterpolation.Bilinear ? PreprocessingInterpolation.Bilinear : PreprocessingInterpolation.Bicubic,
                (Mean.R, Mean.G, Mean.B), (Std.R, Std.G, Std.B));

        static ChannelValues Channels((float R, float G, float B) values) => new(values.R, values.G, values.B);

        /// <summary>
        /// The size torchvision resizes a <paramref name="width"/> x <paramref name="height"/> image to: the shorter side
        /// becomes <see cref="ResizeSize"/>, the longer <c>int(ResizeSize * long / short)</c> (truncated; a square image
        /// counts its width as the shorter side).
        /// </summary>
        public (int Width, int Height) ResizedSize(int width, int height)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
            bool widthIsShort = width <= height;
            int shortSide = widthIsShort ? width : height, longSide = widthIsShort ? height : width;
            double newLong = (double)((long)ResizeSize * longSide) / shortSide;
            if (newLong > int.MaxValue / 4)
                throw new ArgumentException(
                    $"A {width}x{height} image resized to {ResizeSize} on its shorter side would be {newLong:N0} pixels long; its aspect ratio is too extreme.");
            return widthIsShort ? (ResizeSize, (int)newLong) : ((int)newLong, ResizeSize);
        }

        /// <summary>
        /// Resize and center crop, still as bytes: the CropSize x CropSize image whose normalised pixels
        /// <see cref="Apply(RgbImage, Span{float})"/> returns. Only the cropped part of the resized image is computed.
        /// </summary>
        public RgbImage ResizeAndCrop(RgbImage image)
        {
            ArgumentNullException.ThrowIfNull(image);
            (int width, int height) = ResizedSize(image.Width, image.Height);
            int crop = CropSize;

            // torchvision's center_crop: pad (left/top get the smaller half) where the image is smaller than the crop,
            // then cut at int(round((size - crop) / 2.0)), Python's round: halves go to the even neighbour.
            int padLeft = crop > width ? (crop - width) / 2 : 0, padRight = crop > width ? (crop - width + 1) / 2 : 0;
            int padTop = crop > height ? (crop - height) / 2 : 0, padBottom = crop > height ? (crop - height + 1) / 2 : 0;
            int left = (int)Math.Round((width + padLeft + padRight - crop) / 2.0, MidpointRounding.ToEven) - padLeft;
            int top = (int)Math.Round((height + padTop + padBottom - crop) / 2.0, MidpointRounding.ToEven) - padTop;

            var pixels = new byte[3 * crop * crop]; // zero: the padding colour
            Resampler.ResizeWindow(image, width, height, Interpolation, new Resampler.Window(left, top, crop, crop), pixels);
            return RgbImage.Own(crop, crop, pixels);
        }

        /// <summary>
        /// Writes the preprocessed tensor of <paramref name="image"/>, float32 [3, CropSize, CropSize] CHW, to
        /// <paramref name="destination"/> (at least <see cref="TensorLength"/> floats).
        /// </summary>
        public void Apply(RgbImage image, Span<float> destination)
        {
            ArgumentNullException.ThrowIfNull(image);
            CheckDestination(destination);
            Normalize(ResizeAndCrop(image), destination);
        }

        /// <summary>Decodes the image file at <paramref name="path"/> and writes its preprocessed tensor.</summary>
        /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="ImageFormatException">The file is not a readable image, is truncated, or is too large.</exception>
        public void Apply(string path, Span<float> destination, long maxPixels = ImageDecoder.DefaultMaxPixels,
            long maxFileBytes = ImageDecoder.DefaultMaxFileBytes)
        {
            CheckDestination(destination);
            Apply(ImageDecoder.Decode(path, maxPixels, maxFileBytes), destination);
        }

        /// <summary>The preprocessed tensor of <paramref name="image"/> in a new array.</summary>
        public float[] Apply(RgbImage image)
        {
            var tensor = new float[TensorLength];
            Apply(image, tensor);
            return tensor;
        }

        /// <summary>
        /// torchvision's <c>convert_image_dtype(float)</c> then <c>Normalize</c>, in float32 as torch does it:
        /// (byte / 255 - mean) / std, CHW. Only 256 values per channel exist, so they are tabulated.
        /// </summary>
        void Normalize(RgbImage crop, Span<float> destination)
        {
            Span<float> table = stackalloc float[3 * 256];
            for (int c = 0; c < 3; c++)
            {
                float mean = Mean[c], std = Std[c];
                for (int v = 0; v < 256; v++)
                    table[c * 256 + v] = ((float)v / 255f - mean) / std;
            }
            ReadOnlySpan<byte> pixels = crop.Pixels;
            int plane = crop.Width * crop.Height;
            for (int c = 0; c < 3; c++)
            {
                ReadOnlySpan<float> lookup = table.Slice(c * 256, 256);
                Span<float> output = destination.Slice(c * plane, plane);
                for (int i = 0; i < plane; i++)
                    output[i] = lookup[pixels[i * 3 + c]];
            }
        }

        void CheckDestination(Span<float> destination)
        {
            if (destination.Length < TensorLength)
                throw new ArgumentException(
                    $"The tensor needs {TensorLength} floats (3 x {CropSize} x {CropSize}) but the destination holds {destination.Length}.",
                    nameof(destination));
        }

        static int CheckSize(int value, string name) => value is >= 1 and <= MaxSize
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"Must be 1..{MaxSize}.");
    }
}
