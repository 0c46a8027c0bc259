using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using EffNet.Cli.Classify;
using EffNet.Imaging;
using EffNet.Model;

namespace EffNet.Cli
{
    static partial class Commands
    {
        /// <summary>Below this many images the run is short and its own output says how far it got: no progress bar.</summary>
        const int ProgressMinimumImages = 50;

        static Command Classify(TextWriter output, TextWriter error)
        {
            var weights = new Option<FileInfo>("--weights", "-w") { Description = "Weight blob from `effnet import`.", Required = true };
            var inputs = new Argument<string[]>("images")
            {
                Description = $"Image files ({ImageDecoder.Formats}, told by their first bytes, not their names), directories " +
                              $"(searched at any depth for {string.Join(" ", ImageFiles.Extensions)}, in sorted order) " +
                              "or glob patterns (* ? [a-z] and ** for any depth, quoted so the shell leaves them).",
                Arity = ArgumentArity.OneOrMore,
            };
            var top = new Option<int>("--top", "-k") { Description = "How many classes to print per image.", DefaultValueFactory = _ => 5 };
            var format = new Option<string>("--format", "-f")
            {
                Description = "text, json (one array), jsonl (an object per line) or csv (a row per image and rank).",
                DefaultValueFactory = _ => "text",
            };
            format.AcceptOnlyFromAmong("text", "json", "jsonl", "csv");
            var json = new Option<bool>("--json") { Description = "The same as --format json.", Hidden = true };
            var threads = new Option<int>("--threads", "-t")
            {
                Description = "Images classified at once, each on its own thread and arena (default: every core).",
                DefaultValueFactory = _ => Environment.ProcessorCount,
            };
            var noProgress = new Option<bool>("--no-progress")
            {
                Description = $"No progress bar (shown on a terminal's standard error when the results go to a file or pipe and there are {ProgressMinimumImages} images or more).",
            };
            var command = new Command("classify",
                "Classify images: decode, preprocess as the blob records (else torchvision's preset for the variant: resize of the " +
                "shorter side, centre crop, ImageNet mean/std), run the model, print the top classes with the blob's labels " +
                "(else ImageNet's for 1000 classes, else 'class N'). Each path prints as given (a directory's files as the directory " +
                "joined to their path below it). An image that cannot be read is reported on standard error and the run goes on; " +
                "a summary line (images, failures, images per second) ends standard error. Exit code 0 when every image was " +
                "classified, 1 when any failed.")
            {
                weights, inputs, top, format, json, threads, noProgress,
            };
            command.SetAction(parse =>
            {
                int k = parse.GetValue(top);
                if (k < 1) throw new UserException($"--top must be at least 1, not {k}.");
                int workers = parse.GetValue(threads);
                if (workers < 1) throw new UserException($"--threads must be at least 1, not {workers}.");
                ResultFormat resultFormat = parse.GetValue(json) ? ResultFormat.Json : Enum.Parse<ResultFormat>(parse.GetValue(format)!, ignoreCase: true);
                var (images, problems) = ImageInputs.Expand(parse.GetRequiredValue(inputs));

                // Whole images run side by side, one thread each; a lone image gets the threads inside its inference instead.
                workers = Math.Max(1, Math.Min(workers, images.Count));
                int threadsPerImage = images.Count == 1 ? parse.GetValue(threads) : 1;
                using IEfficientNetModel model = EfficientNetModel.Load(parse.GetRequiredValue(weights).FullName, new ModelOptions { Threads = threadsPerImage });
                Preprocessing preprocessing = model.WeightInfo.Metadata.Preprocessing is PreprocessingInfo recorded
                    ? Preprocessing.From(recorded)
                    : PreprocessingFor(model.Config);
                ResultWriter results = ResultWriter.For(resultFormat, output, new ClassLabels(model.Labels, model.NumClasses));
                var pipeline = new ClassifyPipeline(model, preprocessing, k);

                int failed = problems.Count;
                var clock = Stopwatch.StartNew();
                void Classify(ProgressScope progress)
                {
                    progress.SetTotal(images.Count);
                    foreach (string problem in problems)
                        progress.Report("effnet: " + problem);
                    results.Begin();
                    pipeline.Run(images, workers, result =>
                    {
                        if (result.Top is { } best) results.Write(result.Input.DisplayPath, best);
                        else { failed++; progress.Report("effnet: " + result.Error); }
                        progress.Advance();
                    });
                    results.End();
                }
                // A bar only where someone watches it and the results do not scroll over it.
                if (images.Count >= ProgressMinimumImages && !parse.GetValue(noProgress)
                    && ProgressDisplay.ErrorIsTerminal(error) && ProgressDisplay.OutputIsElsewhere(output))
                    ProgressDisplay.Run("classify", Classify);
                else
                    Classify(ProgressScope.Without(error.WriteLine));
                output.Flush();

                double seconds = clock.Elapsed.TotalSeconds;
                int classified = images.Count - (failed - problems.Count);
                error.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "{0} image{1} classified, {2} failed, in {3:F1} s: {4:F1} images/s on {5} thread{6}",
                    classified, classified == 1 ? "" : "s", failed, seconds, classified / Math.Max(seconds, 1e-9),
                    workers * threadsPerImage, workers * threadsPerImage == 1 ? "" : "s"));
                return failed == 0 ? ExitCodes.Success : ExitCodes.UserError;
            });
            return command;
        }

        /// <summary>torchvision's preset for the variant; the crop follows the model's resolution when that differs.</summary>
        internal static Preprocessing PreprocessingFor(ModelConfig config)
        {
            if (config.Phi < 0)
                throw new UserException(
                    $"classify needs a B0..B7 variant, whose preprocessing torchvision defines, but the weights are for {config.DisplayName}. " +
                    "Preprocess the images yourself and use `effnet run`.");
            Preprocessing preset = Preprocessing.ForTorchvision(config.Phi);
            return preset.CropSize == config.Resolution
                ? preset
                : preset with { ResizeSize = Math.Max(preset.ResizeSize, config.Resolution), CropSize = config.Resolution };
        }
    }
}
