using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using EffNet.Training;

namespace EffNet.Cli
{
    static partial class Commands
    {
        static Command Train(TextWriter output, TextWriter error)
        {
            var weights = new Option<FileInfo>("--weights", "-w") { Description = "The base model's weight blob (its features are what the new head reads).", Required = true };
            var data = new Option<DirectoryInfo>("--data", "-d") { Description = "One sub-folder of images per class; the folder names become the labels, in sorted order.", Required = true };
            var outputPath = new Option<FileInfo>("--output", "-o") { Description = "The new weight blob.", Required = true };
            var validation = new Option<DirectoryInfo>("--val") { Description = "Validation images, in class folders named as in --data (instead of --val-split)." };
            var split = new Option<double>("--val-split") { Description = "Share of each class held out for validation (0 for none).", DefaultValueFactory = _ => 0.2 };
            var epochs = new Option<int>("--epochs") { Description = "Passes over the training features at most (training stops earlier when validation stops improving).", DefaultValueFactory = _ => 300 };
            var views = new Option<int>("--views") { Description = "Views per training image: the image, its mirror image, then random crops (35-100 % of the area).", DefaultValueFactory = _ => 1 };
            var seed = new Option<int>("--seed") { Description = "Seeds the validation split.", DefaultValueFactory = _ => 0 };
            var threads = new Option<int>("--threads", "-t") { Description = "Images whose features are computed at once (default: every core).", DefaultValueFactory = _ => Environment.ProcessorCount };
            var cache = new Option<DirectoryInfo>("--cache") { Description = $"Where features are kept between runs (default {FeatureExtractor.DefaultCacheFolder()})." };
            var noCache = new Option<bool>("--no-cache") { Description = "Compute every feature, keep none." };
            var noProgress = new Option<bool>("--no-progress") { Description = "No progress bar (shown on a terminal's standard error while features are computed)." };
            var unfreeze = new Option<int>("--unfreeze") { Description = "Also fine-tune the last K blocks, the head conv and the classifier through a backward pass, after the head (0: the head only).", DefaultValueFactory = _ => 0 };
            var unfreezeEpochs = new Option<int>("--unfreeze-epochs") { Description = "Passes over the training images when fine-tuning, at most (it stops earlier when validation stops improving).", DefaultValueFactory = _ => new FineTuningOptions().Epochs };
            var unfreezeRate = new Option<float>("--unfreeze-rate") { Description = "AdamW's learning rate when fine-tuning, at the start (it falls along a half cosine to zero).", DefaultValueFactory = _ => new FineTuningOptions().LearningRate };
            var confusionPng = new Option<FileInfo>("--confusion-png") { Description = "Also draw the confusion matrix as a PNG heat map (the class numbers of the text report; counts in the cells)." };
            var command = new Command("train",
                "Teach a model new classes: compute the base model's features of every image in --data (and of mirrored and " +
                "cropped views), train a new linear classifier on them with early stopping on the validation accuracy, and write " +
                "the base with that classifier, the labels and the base's preprocessing as a new blob. The other layers keep the " +
                "base's weights, unless --unfreeze K fine-tunes the last K blocks and the head conv too (BatchNorm frozen). " +
                "Unreadable images are reported on standard error and skipped.")
            {
                weights, data, outputPath, validation, split, epochs, views, seed, threads, cache, noCache, noProgress, confusionPng,
                unfreeze, unfreezeEpochs, unfreezeRate,
            };
            command.SetAction(parse =>
            {
                string output_ = parse.GetRequiredValue(outputPath).FullName;
                EffNet.IO.AtomicFile.CheckTarget(output_, parse.GetRequiredValue(weights).FullName); // before minutes of work
                string? plotPath = parse.GetValue(confusionPng)?.FullName;
                if (plotPath != null)
                {
                    EffNet.IO.AtomicFile.CheckTarget(plotPath, parse.GetRequiredValue(weights).FullName);
                    if (string.Equals(plotPath, output_, StringComparison.Ordinal))
                        throw new UserException("--confusion-png names the output blob; give the plot a file of its own.");
                }
                double fraction = parse.GetValue(split);
                if (!(fraction >= 0 && fraction < 1)) throw new UserException($"--val-split must be at least 0 and below 1, not {fraction.ToString(CultureInfo.InvariantCulture)}.");
                int epochCount = parse.GetValue(epochs), viewCount = parse.GetValue(views), threadCount = parse.GetValue(threads);
                if (epochCount < 1) throw new UserException($"--epochs must be at least 1, not {epochCount}.");
                if (viewCount < 1) throw new UserException($"--views must be at least 1 (the image itself), not {viewCount}.");
                if (threadCount < 1) throw new UserException($"--threads must be at least 1, not {threadCount}.");
                int unfrozen = parse.GetValue(unfreeze), unfreezeEpochCount = parse.GetValue(unfreezeEpochs);
                if (unfrozen < 0) throw new UserException($"--unfreeze must be 0 (the head only) or a number of blocks, not {unfrozen}.");
                if (unfreezeEpochCount < 1) throw new UserException($"--unfreeze-epochs must be at least 1, not {unfreezeEpochCount}.");
                float rate = parse.GetValue(unfreezeRate);
                if (!(rate > 0 && rate < 1)) throw new UserException($"--unfreeze-rate must be above 0 and below 1, not {rate.ToString(CultureInfo.InvariantCulture)}.");
                var options = new TrainOptions
                {
                    ValidationFolder = parse.GetValue(validation)?.FullName,
                    ValidationFraction = fraction,
                    Views = viewCount,
                    Seed = parse.GetValue(seed),
                    Threads = threadCount,
                    CacheFolder = parse.GetValue(noCache) ? null : parse.GetValue(cache)?.FullName ?? FeatureExtractor.DefaultCacheFolder(),
                    Head = new HeadTrainingOptions { Epochs = epochCount },
                    FineTuning = unfrozen > 0 ? new FineTuningOptions { Blocks = unfrozen, Epochs = unfreezeEpochCount, LearningRate = rate } : null,
                };
                TrainingReport? trained = null;
                void Run(ProgressScope progress, Action<string> log)
                    => trained = HeadTrainer.Train(parse.GetRequiredValue(weights).FullName, parse.GetRequiredValue(data).FullName, output_,
                        options, line => progress.Report("effnet: " + line), log, progress.SetTotal, progress.Advance);
                // Computing features is the long part: a bar on a terminal's standard error, with the lines it would
                // have printed meanwhile shown above it.
                if (ProgressDisplay.ErrorIsTerminal(error) && !parse.GetValue(noProgress))
                    ProgressDisplay.Run("features", progress => Run(progress, progress.Report));
                else
                    Run(ProgressScope.Without(error.WriteLine), output.WriteLine);
                TrainingReport report = trained!;

                HeadTrainingResult result = report.Result;
                output.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "features: {0} training and {1} validation images in {2:F1} s ({3} from the cache), {4} failed",
                    report.TrainImages, report.ValidationImages, report.FeatureSeconds, report.CachedImages, report.FailedImages));
                output.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "head: {0} epochs in {1:F1} s, kept epoch {2}: training accuracy {3:P1}{4}",
                    result.Epochs, report.TrainSeconds, result.BestEpoch, result.TrainAccuracy,
                    result.ValidationAccuracy is double v ? string.Format(CultureInfo.InvariantCulture, ", validation accuracy {0:P1}", v) : " (no validation set)"));
                if (report.RefitWithValidation)
                    output.WriteLine($"then trained {result.BestEpoch} epochs on the training and validation images together{(report.FineTuning is null ? " (the written head)" : "")}");
                if (report.FineTuning is FineTuningResult tuned)
                {
                    output.WriteLine(string.Format(CultureInfo.InvariantCulture,
                        "fine-tuning {0:N0} parameters: {1} epochs in {2:F1} s ({3:F0} images/s forward and backward), kept epoch {4}: training accuracy {5:P1}{6}",
                        tuned.TrainedParameters, tuned.Epochs, tuned.Seconds, tuned.ImagesPerSecond, tuned.BestEpoch, tuned.TrainAccuracy,
                        tuned.ValidationAccuracy is double tv ? string.Format(CultureInfo.InvariantCulture, ", validation accuracy {0:P1}", tv) : " (no validation set)"));
                    if (report.RefitWithValidation)
                        output.WriteLine($"then fine-tuned {tuned.BestEpoch} epochs on the training and validation images together (the written model)");
                }
                output.WriteLine($"confusion matrix ({report.ConfusionSet} images{(report.RefitWithValidation ? ", of the model before that" : "")}):");
                output.Write(report.ConfusionText());
                if (plotPath != null)
                {
                    using (var plot = EffNet.IO.AtomicFile.Create(plotPath))
                    {
                        ConfusionImage.Write(report.Confusion, plot.Stream);
                        plot.Commit();
                    }
                    output.WriteLine($"Drew the confusion matrix in {plotPath}.");
                }
                output.WriteLine($"Wrote {output_}: {report.Labels.Count} classes ({string.Join(", ", report.Labels)}).");
                return ExitCodes.Success; // unreadable images were skipped, and said so
            });
            return command;
        }
    }
}
