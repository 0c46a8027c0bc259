using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using EffNet.Import;
using EffNet.Model;

namespace EffNet.Cli
{
    /// <summary>The options of `effnet import` that say what travels with the weights: --labels and the preprocessing.</summary>
    sealed class ImportMetadataOptions
    {
        readonly Option<FileInfo?> _labels = new("--labels")
        {
            Description = "Class labels to store in the blob: a UTF-8 file with one label per line, or a JSON array of strings; exactly one per class, in class-index order.",
        };
        readonly Option<int?> _resize = new("--resize") { Description = "Preprocessing: the size the image's shorter side is resized to (default: the published preset of the variant)." };
        readonly Option<int?> _crop = new("--crop") { Description = "Preprocessing: the center crop, which must be the model's resolution (default: the resolution)." };
        readonly Option<string?> _interpolation = new("--interpolation") { Description = "Preprocessing: the resize filter (default: the preset's, else bicubic)." };
        readonly Option<string?> _mean = new("--mean") { Description = "Preprocessing: per-channel mean, R,G,B (default: ImageNet's 0.485,0.456,0.406)." };
        readonly Option<string?> _std = new("--std") { Description = "Preprocessing: per-channel standard deviation, R,G,B (default: ImageNet's 0.229,0.224,0.225)." };

        public ImportMetadataOptions() => _interpolation.AcceptOnlyFromAmong("bilinear", "bicubic");

        public IEnumerable<Option> All => new Option[] { _labels, _resize, _crop, _interpolation, _mean, _std };

        /// <summary>
        /// The labels (read and checked against <paramref name="config"/>'s classes) and the preprocessing: the variant's
        /// published preset with any option applied on top; without a preset, --resize is required once any is given.
        /// </summary>
        public ImportMetadata Read(ParseResult parse, ModelConfig config)
        {
            IReadOnlyList<string>? labels = null;
            if (parse.GetValue(_labels) is FileInfo file)
            {
                labels = LabelsFile.Read(file.FullName);
                string[] problems = new WeightBlobMetadata(labels, null, null).Problems(config);
                if (problems.Length > 0)
                    throw new UserException($"{file.FullName}: {string.Join(" ", problems)}");
            }
            return new ImportMetadata { Labels = labels, Preprocessing = Preprocessing(parse, config) };
        }

        PreprocessingInfo? Preprocessing(ParseResult parse, ModelConfig config)
        {
            PreprocessingInfo? preset = PreprocessingInfo.PublishedFor(config);
            int? resize = parse.GetValue(_resize), crop = parse.GetValue(_crop);
            string? interpolation = parse.GetValue(_interpolation), mean = parse.GetValue(_mean), std = parse.GetValue(_std);
            if (resize is null && crop is null && interpolation is null && mean is null && std is null)
                return null; // the importer records the preset, if there is one
            if (preset is null && resize is null)
                throw new UserException($"--resize is required with the other preprocessing options: {config.DisplayName} has no published preprocessing to start from.");
            return new PreprocessingInfo(
                resize ?? preset!.ResizeSize,
                crop ?? config.Resolution,
                interpolation is null ? preset?.Interpolation ?? PreprocessingInterpolation.Bicubic
                    : interpolation == "bilinear" ? PreprocessingInterpolation.Bilinear : PreprocessingInterpolation.Bicubic,
                mean is null ? preset?.Mean ?? PreprocessingInfo.ImageNetMean : Channels("--mean", mean),
                std is null ? preset?.Std ?? PreprocessingInfo.ImageNetStd : Channels("--std", std));
        }

        static (float R, float G, float B) Channels(string option, string text)
        {
            string[] parts = text.Split(',');
            var values = new float[3];
            if (parts.Length != 3 || !parts.Select((p, i) => float.TryParse(p.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i])).All(ok => ok))
                throw new UserException($"{option} '{text}' must be three numbers separated by commas, R,G,B, e.g. {option} 0.5,0.5,0.5.");
            return (values[0], values[1], values[2]);
        }

        /// <summary>What the import recorded, for its report.</summary>
        public static IEnumerable<string> Describe(WeightBlobMetadata metadata)
        {
            yield return "Labels: " + (metadata.Labels is { } labels ? $"{labels.Count} ({Preview(labels)})" : "none (give --labels FILE to store them)");
            yield return "Preprocessing: " + (metadata.Preprocessing?.ToString() ?? "none recorded: no published preset fits this model (give --resize to record one)");
        }

        /// <summary>"tench, goldfish, great white shark, ..." : the first few labels.</summary>
        public static string Preview(IReadOnlyList<string> labels)
            => string.Join(", ", labels.Take(3)) + (labels.Count > 3 ? ", ..." : "");
    }
}
