using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using EffNet.Import;
using EffNet.Model;
using Spectre.Console;

namespace EffNet.Cli
{
    static partial class Commands
    {
        static Command Import(TextWriter output)
        {
            var checkpoint = new Argument<FileInfo>("checkpoint")
            {
                Description = "A torch.save(model.state_dict()) file (.pth/.pt) or a .safetensors file of EfficientNet-B0..B7 (torchvision or timm key names), " +
                              "EfficientNet-Lite0..4 (timm key names) or EfficientNetV2-S/M/L (torchvision key names).",
            };
            var phi = new Option<int?>("--phi") { Description = "The variant, 0..7 for EfficientNet-B0..B7 (0..4 for a Lite checkpoint). Default: read from the checkpoint's shapes." };
            var width = new Option<double?>("--width") { Description = "Width multiplier of a custom size, when the shapes leave it open (never with --phi)." };
            var depth = new Option<double?>("--depth") { Description = "Depth multiplier of a custom size, when the shapes leave it open (never with --phi)." };
            var classes = new Option<int?>("--classes") { Description = "Classifier outputs. Default: read from the classifier." };
            var resolution = new Option<int?>("--resolution") { Description = "Input size the blob is for (default: the variant's native size, 224 for a custom size; torchvision evaluates B2 at 288)." };
            var padding = new Option<string?>("--padding")
            {
                Description = "torch: symmetric padding (torchvision, timm efficientnet_b*). tf: TensorFlow SAME (timm tf_efficientnet_*, Keras ports). " +
                              "Default: torch, except tf for Lite (nearly every published Lite is a TF port; torch for timm's efficientnet_lite0). " +
                              "timm names are the same for both kinds: pass tf for tf_efficientnet_* weights. tf on torchvision names needs --force.",
            };
            padding.AcceptOnlyFromAmong("torch", "tf");
            var epsilon = new Option<float?>("--bn-eps")
            {
                Description = "BatchNorm epsilon the weights were trained with (not stored in checkpoints). Default: the source's: torchvision's own " +
                              "(1e-5 for B0..B4 and custom sizes, 1e-3 for B5..B7 and V2), 1e-5 for timm efficientnet_b* and efficientnet_lite0, 1e-3 with --padding tf. Another value needs --force.",
            };
            var force = new Option<bool>("--force")
            {
                Description = "Accept a --padding or --bn-eps that contradicts the checkpoint's source (e.g. tf padding on torchvision weights); the blob records it.",
            };
            var outputFile = new Option<FileInfo>("--output", "-o") { Description = "The weight blob to write (written atomically).", Required = true };
            var allowNonFinite = new Option<bool>("--allow-non-finite")
            {
                Description = "Keep NaN and infinite weights (refused by default: they make every output NaN). The blob records that it may hold them.",
            };

            var command = new Command("import",
                "Convert a checkpoint into a weight blob: the family (B-series, Lite, V2), variant, classes, padding and BatchNorm epsilon are read from its keys and " +
                "shapes (flags override them; a flag that contradicts the checkpoint is refused), every tensor is checked, BatchNorm " +
                "is folded and weights are packed.")
            {
                checkpoint, phi, width, depth, classes, resolution, padding, epsilon, force, outputFile, allowNonFinite,
            };
            var metadata = new ImportMetadataOptions();
            foreach (Option option in metadata.All) command.Add(option);
            command.SetAction(parse =>
            {
                FileInfo source = parse.GetRequiredValue(checkpoint);
                FileInfo target = parse.GetRequiredValue(outputFile);
                if (!source.Exists && !Directory.Exists(source.FullName)) // a directory is refused as such by the reader
                    throw new UserException($"checkpoint '{source.FullName}' does not exist.");
                var options = new ImportOptions
                {
                    Phi = parse.GetValue(phi),
                    Width = parse.GetValue(width),
                    Depth = parse.GetValue(depth),
                    NumClasses = parse.GetValue(classes),
                    Resolution = parse.GetValue(resolution),
                    Padding = parse.GetValue(padding) switch { "tf" => EfficientNetPadding.Same, "torch" => EfficientNetPadding.Symmetric, _ => null },
                    BatchNormEpsilon = parse.GetValue(epsilon),
                    Force = parse.GetValue(force),
                    AllowNonFinite = parse.GetValue(allowNonFinite),
                    MetadataFor = config => metadata.Read(parse, config),
                };

                ImportResult result;
                try
                {
                    result = WithProgress($"Importing {source.Name}", progress => CheckpointImporter.Import(source.FullName, target.FullName, options, progress));
                }
                catch (CheckpointMismatchException mismatch)
                {
                    throw new UserException(mismatch.DescribeFor(source.ToString(), target.ToString())); // the paths as typed
                }
                output.WriteLine($"Wrote {target.FullName} ({result.OutputBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes) for {result.Config.DisplayName}.");
                output.WriteLine($"Checkpoint: {result.Summary}");
                output.WriteLine($"Source: {result.SourceDescription}.");
                foreach (string line in ImportMetadataOptions.Describe(result.Metadata)) output.WriteLine(line + ".");
                return ExitCodes.Success;
            });
            return command;
        }

        /// <summary>Runs <paramref name="work"/> under a progress bar when a person is watching a terminal; silently otherwise.</summary>
        static T WithProgress<T>(string title, Func<IProgress<double>?, T> work)
        {
            if (Console.IsOutputRedirected || Console.IsErrorRedirected || Environment.GetEnvironmentVariable("CI") is not null)
                return work(null);
            T result = default!;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(context =>
                {
                    ProgressTask task = context.AddTask(title, maxValue: 1.0);
                    result = work(new Progress<double>(value => task.Value = value));
                    task.Value = 1.0;
                });
            return result;
        }
    }
}
