using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using EffNet.Model;
using EffNet.Planning;

namespace EffNet.Quantization
{
    /// <summary>How the calibration turns the values a layer read into its input range.</summary>
    public enum CalibrationMethod
    {
        /// <summary>The smallest and largest value seen: nothing clips, but one outlier stretches every level.</summary>
        MinMax,

        /// <summary>Each side clipped at <see cref="QuantizeOptions.Percentile"/> of its values.</summary>
        Percentile,
    }

    /// <summary>Options of <see cref="Quantizer.Quantize"/>.</summary>
    public sealed record QuantizeOptions
    {
        public CalibrationMethod Method { get; init; } = CalibrationMethod.Percentile;

        /// <summary>For <see cref="CalibrationMethod.Percentile"/>: the share of each side's values kept inside the range, in percent.</summary>
        public double Percentile { get; init; } = 99.99;

        /// <summary>Whether <paramref name="percentile"/> can be <see cref="Percentile"/>: above 50 and at most 100 (100 is the min and max).</summary>
        public static bool IsValidPercentile(double percentile) => percentile > 50 && percentile <= 100;
    }

    /// <summary>One int8 layer as calibrated: its input range and the levels chosen for it.</summary>
    public sealed record QuantizedLayer(string Module, float Low, float High, float InputScale, byte InputZeroPoint, float WorstWeightScale);

    /// <summary>What <see cref="Quantizer.Quantize"/> did.</summary>
    public sealed record QuantizationReport(ModelConfig Config, int CalibrationImages, IReadOnlyList<QuantizedLayer> Layers,
                                            long FloatBlobBytes, long Int8BlobBytes);

    /// <summary>
    /// Post-training static quantisation of a float32 blob: the layers <see cref="QuantizationPolicy"/> names get s8
    /// weights with one symmetric scale per output channel, and u8 inputs with one scale and zero point per tensor, from
    /// the values the float32 network feeds them on calibration images. Everything else is copied as it is.
    /// </summary>
    public static class Quantizer
    {
        /// <summary>
        /// Calibrates on <paramref name="calibrationImages"/> (each a CHW image preprocessed as the blob's preprocessing
        /// says) and writes the int8 blob to <paramref name="outputPath"/> atomically.
        /// </summary>
        /// <param name="progress">Called after each calibration image with the number done so far.</param>
        public static QuantizationReport Quantize(string floatBlobPath, IEnumerable<float[]> calibrationImages, string outputPath,
                                                  QuantizeOptions? options = null, Action<int>? progress = null)
        {
            ArgumentNullException.ThrowIfNull(floatBlobPath);
            ArgumentNullException.ThrowIfNull(calibrationImages);
            ArgumentNullException.ThrowIfNull(outputPath);
            options ??= new QuantizeOptions();
            if (options.Method == CalibrationMethod.Percentile && !QuantizeOptions.IsValidPercentile(options.Percentile))
                throw new ArgumentOutOfRangeException(nameof(options), options.Percentile, "The calibration percentile must be above 50 and at most 100 (100 is the min and max).");

            WeightBlobInfo info = WeightBlob.ReadInfo(floatBlobPath);
            if (info.Config.Precision != EfficientNetPrecision.Float32)
                throw new ArgumentException($"'{floatBlobPath}' is already {info.Config.DisplayName}; quantise the float32 blob it was made from.", nameof(floatBlobPath));
            NetworkLayout floatLayout = NetworkLayout.Create(info.Config);
            NetworkLayout int8Layout = NetworkLayout.Create(info.Config with { Precision = EfficientNetPrecision.Int8 });
            ForwardPlan plan = ForwardPlan.Create(floatLayout);

            using WeightBlob blob = WeightBlob.Read(floatBlobPath, floatLayout);
            float[] source = blob.Weights.ToArray(); // as stored: the layers' [in, out] order, before the kernels' packing
            blob.PackForKernels(floatLayout);

            // Each int8 layer's input, by module: what the float32 network feeds it.
            var histograms = int8Layout.Layers.Where(l => l.Precision == EfficientNetPrecision.Int8).ToDictionary(l => l.Module, _ => new ActivationHistogram());
            var arena = new float[plan.ArenaFloats + plan.RowBufferFloats];
            int imageLength = FamilySpec.InputChannels * info.Config.Resolution * info.Config.Resolution;
            int count = 0;
            PlanExecutor.CallInputObserver observe = (call, input, gate) =>
            {
                if (call.Weights is ConvLayer layer && histograms.TryGetValue(layer.Module, out ActivationHistogram? histogram))
                    histogram.Add(input, call.Input.Channels, gate);
            };
            foreach (float[] image in calibrationImages)
            {
                if (image is null || image.Length != imageLength)
                    throw new ArgumentException($"Calibration image {count} has {image?.Length ?? 0} floats; {info.Config.DisplayName} takes {imageLength} (3 x {info.Config.Resolution} x {info.Config.Resolution}).", nameof(calibrationImages));
                PlanExecutor.Forward(plan, image, blob.Weights, arena, null, null, observe);
                count++;
                progress?.Invoke(count);
            }
            if (count == 0)
                throw new ArgumentException("No calibration images: give at least one (a few hundred from the training data is usual).", nameof(calibrationImages));

            double percentile = options.Method == CalibrationMethod.MinMax ? 100 : options.Percentile;
            // The blob's image: levels and scales for every layer that stores levels, floats for the stem.
            var weights = new float[int8Layout.StoredFloats];
            var layers = new List<QuantizedLayer>();
            for (int i = 0; i < int8Layout.Layers.Count; i++)
            {
                ConvLayer from = floatLayout.Layers[i], to = int8Layout.Layers[i];
                ReadOnlySpan<float> floats = source.AsSpan((int)from.WeightOffset, (int)from.WeightLength);
                source.AsSpan((int)from.BiasOffset, (int)from.BiasLength).CopyTo(weights.AsSpan((int)to.StoredBiasOffset));
                if (!to.StoresLevels)
                {
                    floats.CopyTo(weights.AsSpan((int)to.StoredWeightOffset));
                    continue;
                }
                float worst = WeightLevels.Quantize(floats, to, weights.AsSpan((int)to.StoredWeightOffset, (int)to.StoredWeightFloats),
                                                    weights.AsSpan((int)to.StoredWeightScaleOffset, to.OutChannels));
                if (to.Precision != EfficientNetPrecision.Int8) continue;
                (float low, float high) = histograms[to.Module].Range(percentile);
                (float inputScale, byte zeroPoint) = InputLevels(low, high);
                weights[to.StoredInputQuantizationOffset] = inputScale;
                weights[to.StoredInputQuantizationOffset + 1] = zeroPoint;
                layers.Add(new QuantizedLayer(to.Module, low, high, inputScale, zeroPoint, worst));
            }

            string method = options.Method == CalibrationMethod.MinMax ? "min-max"
                : string.Format(CultureInfo.InvariantCulture, "{0} percentile", options.Percentile);
            string description = string.Format(CultureInfo.InvariantCulture, "int8 quantisation of {0} ({1} calibration images, {2})",
                Path.GetFileName(floatBlobPath), count, method);
            var provenance = new WeightProvenance(Path.GetFileName(floatBlobPath), Sha256(floatBlobPath), WeightProvenance.CurrentToolVersion, WeightProvenance.Now());
            WeightBlobWriter.WriteLaidOut(outputPath, int8Layout, weights, description, info.Metadata with { Provenance = provenance });
            return new QuantizationReport(int8Layout.Config, count, layers, new FileInfo(floatBlobPath).Length, new FileInfo(outputPath).Length);
        }

        /// <summary>u8 levels covering [low, high] (which holds 0): scale = width / 255, and 0 falls exactly on the zero point.</summary>
        public static (float Scale, byte ZeroPoint) InputLevels(float low, float high)
        {
            low = Math.Min(low, 0);
            high = Math.Max(high, 0);
            float scale = (high - low) / 255f;
            if (!(scale > 0) || !float.IsFinite(scale)) return (1f, 0); // a layer that only ever saw zeros
            int zeroPoint = Math.Clamp((int)MathF.Round(-low / scale), 0, 255);
            return (scale, (byte)zeroPoint);
        }

        static string Sha256(string path)
        {
            using FileStream file = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(file));
        }
    }
}
