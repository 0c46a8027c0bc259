using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using EffNet.Imaging;
using EffNet.Quantization;
using EffNet.Training;

namespace EffNet.Cli
{
    static partial class Commands
    {
        static Command Quantize(TextWriter output, TextWriter error)
        {
            var weights = new Option<FileInfo>("--weights", "-w") { Description = "The float32 weight blob to quantise.", Required = true };
            var calibration = new Option<DirectoryInfo>("--calibration", "-c") { Description = "Images the model will see (a few hundred from its training data): each int8 layer's input range is measured on them.", Required = true };
            var images = new Option<int>("--images", "-n") { Description = "Calibration images to use, spread evenly over the folder's sorted files (0: all).", DefaultValueFactory = _ => 200 };
            var outputPath = new Option<FileInfo>("--output", "-o") { Description = "The int8 weight blob.", Required = true };
            var method = new Option<string>("--method") { Description = "How a layer's input range is chosen: 'percentile' (each side clipped at --percentile) or 'minmax'.", DefaultValueFactory = _ => "percentile" };
            var percentile = new Option<double>("--percentile") { Description = "Share of each side's values inside the range, in percent.", DefaultValueFactory = _ => new QuantizeOptions().Percentile };
            var evaluate = new Option<DirectoryInfo>("--eval") { Description = "Also compare the int8 model with the float32 one on these labelled images (one folder per label): accuracy of each and top-1 agreement." };
            var command = new Command("quantize",
                "Quantise a float32 blob to int8 (post-training, static): the 1x1 convolutions (and V2's Fused-MBConv convolutions) get int8 weights with one scale per " +
                "output channel and u8 inputs with one scale and zero point each, measured on the calibration images read with " +
                "the blob's own preprocessing. The stem, depthwise convolutions, squeeze-excitation and classifier stay float32 " +
                "(docs/quantization.md says why). The int8 blob runs everywhere the float32 one does.")
            {
                weights, calibration, images, outputPath, method, percentile, evaluate,
            };
            command.SetAction(parse =>
            {
                string source = parse.GetRequiredValue(weights).FullName, target = parse.GetRequiredValue(outputPath).FullName;
                EffNet.IO.AtomicFile.CheckTarget(target, source);
                int count = parse.GetValue(images);
                if (count < 0) throw new UserException($"--images must be 0 (all) or more, not {count}.");
                var options = new QuantizeOptions
                {
                    Method = parse.GetValue(method) switch
                    {
                        "percentile" => CalibrationMethod.Percentile,
                        "minmax" => CalibrationMethod.MinMax,
                        var other => throw new UserException($"--method '{other}' is not one of: percentile, minmax."),
                    },
                    Percentile = parse.GetValue(percentile),
                };
                if (options.Method == CalibrationMethod.Percentile && !QuantizeOptions.IsValidPercentile(options.Percentile))
                    throw new UserException($"--percentile must be above 50 and at most 100, not {options.Percentile.ToString(CultureInfo.InvariantCulture)}.");

                WeightBlobInfo info = WeightBlob.ReadInfo(source);
                PreprocessingInfo recorded = info.Metadata.Preprocessing ?? PreprocessingInfo.PublishedFor(info.Config)
                    ?? throw new UserException($"{source} records no preprocessing, so the calibration images cannot be read as the model reads them: import it again with --resize and --crop.");
                var preprocessing = Preprocessing.From(recorded);
                string folder = parse.GetRequiredValue(calibration).FullName;
                if (!Directory.Exists(folder)) throw new UserException($"--calibration {folder}: no such folder.");
                string[] files = Spread(ImageFiles.Below(folder), count);
                if (files.Length == 0)
                    throw new UserException($"--calibration {folder}: no images (searched for {string.Join(" ", ImageFiles.Extensions)} at any depth).");

                int skipped = 0;
                IEnumerable<float[]> Calibration(ProgressScope progress)
                {
                    foreach (string file in files)
                    {
                        var tensor = new float[preprocessing.TensorLength];
                        try
                        {
                            preprocessing.Apply(file, tensor);
                        }
                        catch (Exception e) when (ImageFiles.IsUnreadable(e))
                        {
                            progress.Report("effnet: skipped " + ImageFiles.Unreadable(file, e));
                            skipped++;
                            progress.Advance();
                            continue;
                        }
                        yield return tensor;
                    }
                }
                QuantizationReport? report = null;
                void Run(ProgressScope progress)
                {
                    progress.SetTotal(files.Length);
                    report = Quantizer.Quantize(source, Calibration(progress), target, options, _ => progress.Advance());
                }
                if (ProgressDisplay.ErrorIsTerminal(error))
                    ProgressDisplay.Run("calibration", Run);
                else
                    Run(ProgressScope.Without(error.WriteLine));

                output.WriteLine(string.Format(CultureInfo.InvariantCulture, "calibration: {0} images from {1} ({2} skipped), {3}",
                    report!.CalibrationImages, folder, skipped,
                    options.Method == CalibrationMethod.MinMax ? "min-max ranges" : $"ranges clipped at the {options.Percentile.ToString(CultureInfo.InvariantCulture)} percentile"));
                output.WriteLine("layer".PadRight(32) + "input range".PadRight(24) + "scale".PadRight(12) + "zero point");
                foreach (QuantizedLayer layer in report.Layers)
                    output.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-32}[{1,8:G4}, {2,8:G4}]      {3,-12:G4}{4}",
                        layer.Module, layer.Low, layer.High, layer.InputScale, layer.InputZeroPoint));
                int levelsOnly = Model.NetworkLayout.Create(report.Config).Layers.Count(l => l.StoredAsLevels);
                output.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "Wrote {0}: {1}, {2} int8 layers and {3} float32 ones stored as levels, {4:N0} bytes ({5:F2} of the float32 blob's {6:N0}).",
                    target, report.Config.DisplayName, report.Layers.Count, levelsOnly, report.Int8BlobBytes, (double)report.Int8BlobBytes / report.FloatBlobBytes, report.FloatBlobBytes));

                if (parse.GetValue(evaluate) is DirectoryInfo evaluation)
                {
                    LabelledImages data = LabelledImages.FromFolders(evaluation.FullName);
                    using var reference = EfficientNetModel.Load(source);
                    using var candidate = EfficientNetModel.Load(target);
                    PrecisionComparison c = PrecisionComparison.Measure(reference, candidate, data);
                    output.WriteLine(string.Format(CultureInfo.InvariantCulture,
                        "evaluation on {0} images: float32 accuracy {1:P2}, int8 accuracy {2:P2}, top-1 agreement {3:P2}, mean relative logit error {4:G3}",
                        c.Images, c.ReferenceAccuracy, c.CandidateAccuracy, c.Agreement, c.MeanRelativeLogitError));
                }
                return ExitCodes.Success;
            });
            return command;
        }

        /// <summary><paramref name="count"/> of <paramref name="files"/> at even steps through the sorted list (so every class folder has its share), or all of them for 0.</summary>
        static string[] Spread(string[] files, int count)
            => count == 0 || count >= files.Length ? files
                : Enumerable.Range(0, count).Select(i => files[(int)((long)i * files.Length / count)]).ToArray();
    }
}
