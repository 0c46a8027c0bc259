using System;
using System.Collections.Generic;
using System.Globalization;
using EffNet.Model;

namespace EffNet
{
    /// <summary>How an image's shorter side is resampled before the crop (Pillow's and torchvision's filters of these names).</summary>
    public enum PreprocessingInterpolation : byte
    {
        Bilinear = 0,
        Bicubic = 1,
    }

    /// <summary>
    /// The preprocessing a model's weights expect, as torchvision's <c>ImageClassification</c> preset describes it: resize
    /// the shorter side to <see cref="ResizeSize"/>, center-crop <see cref="CropSize"/> square, scale to [0, 1], subtract
    /// <see cref="Mean"/> and divide by <see cref="Std"/> per channel (R, G, B). EffNet.Imaging's <c>Preprocessing</c>
    /// runs it; a weight blob records it.
    /// </summary>
    public sealed record PreprocessingInfo
    {
        /// <summary>The largest resize or crop size accepted.</summary>
        public const int MaxSize = 16384;

        /// <summary>ImageNet channel means as torchvision passes them (Python floats rounded to float32).</summary>
        public static readonly (float R, float G, float B) ImageNetMean = ((float)0.485, (float)0.456, (float)0.406);

        /// <summary>ImageNet channel standard deviations as torchvision passes them.</summary>
        public static readonly (float R, float G, float B) ImageNetStd = ((float)0.229, (float)0.224, (float)0.225);

        /// <exception cref="ArgumentException">A value is out of range; the message names it and the allowed range.</exception>
        public PreprocessingInfo(int resizeSize, int cropSize, PreprocessingInterpolation interpolation,
                                 (float R, float G, float B) mean, (float R, float G, float B) std)
        {
            ResizeSize = resizeSize;
            CropSize = cropSize;
            Interpolation = interpolation;
            Mean = mean;
            Std = std;
            string[] problems = Problems();
            if (problems.Length > 0)
                throw new ArgumentException("Invalid preprocessing: " + string.Join(" ", problems));
        }

        /// <summary>With ImageNet's mean and std.</summary>
        public PreprocessingInfo(int resizeSize, int cropSize, PreprocessingInterpolation interpolation)
            : this(resizeSize, cropSize, interpolation, ImageNetMean, ImageNetStd)
        {
        }

        /// <summary>The length the shorter side is resized to.</summary>
        public int ResizeSize { get; }

        /// <summary>The side of the square center crop: the model's input resolution.</summary>
        public int CropSize { get; }

        public PreprocessingInterpolation Interpolation { get; }

        /// <summary>Subtracted from each channel after scaling to [0, 1].</summary>
        public (float R, float G, float B) Mean { get; }

        /// <summary>Each channel is divided by this after the mean is subtracted.</summary>
        public (float R, float G, float B) Std { get; }

        /// <summary>Problems with the values, one sentence each; empty when valid.</summary>
        string[] Problems()
        {
            var problems = new List<string>();
            if (ResizeSize is < 1 or > MaxSize)
                problems.Add($"resize size {ResizeSize} must be 1..{MaxSize}.");
            if (CropSize is < 1 or > MaxSize)
                problems.Add($"crop size {CropSize} must be 1..{MaxSize}.");
            if (!Enum.IsDefined(Interpolation))
                problems.Add($"interpolation {(int)Interpolation} is neither bilinear (0) nor bicubic (1).");
            if (!float.IsFinite(Mean.R) || !float.IsFinite(Mean.G) || !float.IsFinite(Mean.B))
                problems.Add($"every mean must be finite, not {Format(Mean)}.");
            foreach (float s in new[] { Std.R, Std.G, Std.B })
                if (!float.IsFinite(s) || s == 0f)
                {
                    problems.Add($"every std must be finite and non-zero, not {Format(Std)}.");
                    break;
                }
            return problems.ToArray();
        }

        /// <summary>
        /// The preset of torchvision's DEFAULT weights for <c>efficientnet_b{phi}</c>: B0 256 -&gt; 224, B1 255 -&gt; 240
        /// bilinear (IMAGENET1K_V2), B2 288 -&gt; 288, B3 320 -&gt; 300, B4 384 -&gt; 380, B5 456, B6 528, B7 600, all
        /// others bicubic, ImageNet mean and std.
        /// </summary>
        public static PreprocessingInfo ForTorchvision(int phi) => phi switch
        {
            0 => new PreprocessingInfo(256, 224, PreprocessingInterpolation.Bicubic),
            1 => new PreprocessingInfo(255, 240, PreprocessingInterpolation.Bilinear),
            2 => new PreprocessingInfo(288, 288, PreprocessingInterpolation.Bicubic),
            3 => new PreprocessingInfo(320, 300, PreprocessingInterpolation.Bicubic),
            4 => new PreprocessingInfo(384, 380, PreprocessingInterpolation.Bicubic),
            5 => new PreprocessingInfo(456, 456, PreprocessingInterpolation.Bicubic),
            6 => new PreprocessingInfo(528, 528, PreprocessingInterpolation.Bicubic),
            7 => new PreprocessingInfo(600, 600, PreprocessingInterpolation.Bicubic),
            _ => throw new ArgumentOutOfRangeException(nameof(phi), phi, "torchvision publishes EfficientNet B0..B7 (phi 0..7)."),
        };

        /// <summary>
        /// timm's preset for <c>tf_efficientnet_lite0..4</c>: crop to the evaluation size after resizing to floor(size /
        /// crop fraction) with crop fractions 0.875, 0.882, 0.890, 0.904, 0.920; bicubic for Lite0-2, bilinear for Lite3-4;
        /// mean = std = 0.5.
        /// </summary>
        public static PreprocessingInfo ForTimmLite(int phi) => phi switch
        {
            0 => new PreprocessingInfo(256, 224, PreprocessingInterpolation.Bicubic, HalfGrey, HalfGrey),
            1 => new PreprocessingInfo(272, 240, PreprocessingInterpolation.Bicubic, HalfGrey, HalfGrey),
            2 => new PreprocessingInfo(292, 260, PreprocessingInterpolation.Bicubic, HalfGrey, HalfGrey),
            3 => new PreprocessingInfo(331, 300, PreprocessingInterpolation.Bilinear, HalfGrey, HalfGrey),
            4 => new PreprocessingInfo(413, 380, PreprocessingInterpolation.Bilinear, HalfGrey, HalfGrey),
            _ => throw new ArgumentOutOfRangeException(nameof(phi), phi, "timm publishes tf_efficientnet_lite0..4 (phi 0..4)."),
        };

        static readonly (float R, float G, float B) HalfGrey = (0.5f, 0.5f, 0.5f);

        /// <summary>
        /// torchvision's preset for <c>efficientnet_v2_s/m/l</c> (IMAGENET1K_V1): S resize and crop 384 bilinear, M 480
        /// bilinear, both with the ImageNet mean and std; L 480 bicubic with mean = std = 0.5.
        /// </summary>
        public static PreprocessingInfo ForTorchvisionV2(ModelFamily family) => family switch
        {
            ModelFamily.EfficientNetV2S => new PreprocessingInfo(384, 384, PreprocessingInterpolation.Bilinear),
            ModelFamily.EfficientNetV2M => new PreprocessingInfo(480, 480, PreprocessingInterpolation.Bilinear),
            ModelFamily.EfficientNetV2L => new PreprocessingInfo(480, 480, PreprocessingInterpolation.Bicubic, HalfGrey, HalfGrey),
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, "torchvision publishes EfficientNetV2 S, M and L."),
        };

        /// <summary>
        /// The published preset the weights of <paramref name="config"/> most likely expect: torchvision's, when the config is
        /// B0..B7 with symmetric padding at the resolution torchvision's preset crops to (B2: 288, not its native 260);
        /// timm's for Lite0..4 with TF-SAME padding at its evaluation size; torchvision's for V2 S, M and L; otherwise null (TF-SAME B-series ports and custom
        /// sizes were published with other or no presets).
        /// </summary>
        public static PreprocessingInfo? PublishedFor(ModelConfig config)
        {
            ArgumentNullException.ThrowIfNull(config);
            if (config.Phi < 0)
                return null;
            PreprocessingInfo preset;
            if (config.Family == ModelFamily.EfficientNetLite && config.Padding == EfficientNetPadding.Same)
                preset = ForTimmLite(config.Phi);
            else if (config.Family == ModelFamily.EfficientNet && config.Padding == EfficientNetPadding.Symmetric)
                preset = ForTorchvision(config.Phi);
            else if (config.Family >= ModelFamily.EfficientNetV2S && config.Padding == EfficientNetPadding.Symmetric)
                preset = ForTorchvisionV2(config.Family);
            else
                return null;
            return preset.CropSize == config.Resolution ? preset : null;
        }

        /// <summary>"resize 256, crop 224, bicubic, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)".</summary>
        public override string ToString()
            => string.Format(CultureInfo.InvariantCulture, "resize {0}, crop {1}, {2}, mean {3}, std {4}",
                ResizeSize, CropSize, Interpolation.ToString().ToLowerInvariant(), Format(Mean), Format(Std));

        static string Format((float R, float G, float B) v)
            => string.Format(CultureInfo.InvariantCulture, "({0}, {1}, {2})", v.R, v.G, v.B);
    }
}
