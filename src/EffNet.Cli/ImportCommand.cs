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
                Description = "A torch.save(model.state_dict()) file (.pth/.pt) or a .safetensors file, with torchvision or timm key names.",
            };
            var phi = new Option<int>("--phi") { Description = "The variant: 0..7 for EfficientNet-B0..B7.", Required = true };
            var classes = new Option<int>("--classes") { Description = "Classifier outputs.", DefaultValueFactory = _ => ModelConfig.DefaultNumClasses };
            var resolution = new Option<int?>("--resolution") { Description = "Input size the blob is for (default: the variant's native size; torchvision evaluates B2 at 288)." };
            var padding = new Option<string>("--padding")
            {
                Description = "torch: symmetric padding (torchvision, timm efficientnet_b*). tf: TensorFlow SAME (timm tf_efficientnet_b*, Keras ports).",
                DefaultValueFactory = _ => "torch",
            };
            padding.AcceptOnlyFromAmong("torch", "tf");
            var epsilon = new Option<float?>("--bn-eps")
            {
                Description = "BatchNorm epsilon the weights were trained with (not stored in checkpoints). Default: 1e-3 for tf padding, " +
                              "torchvision's own for torchvision keys (1e-5 for B0..B4, 1e-3 for B5..B7), 1e-5 for timm keys.",
            };
            var outputFile = new Option<FileInfo>("--output", "-o") { Description = "The weight blob to write (written atomically).", Required = true };
            var allowNonFinite = new Option<bool>("--allow-non-finite")
            {
                Description = "Keep NaN and infinite weights (refused by default: they make every output NaN). The blob records that it may hold them.",
            };

            var command = new Command("import",
                "Convert a checkpoint into a weight blob for one model: every tensor is checked against the model first " +
                "(missing, unexpected and mis-shaped keys are listed together), BatchNorm is folded and weights are packed.")
            {
                checkpoint, phi, classes, resolution, padding, epsilon, outputFile, allowNonFinite,
            };
            var metadata = new ImportMetadataOptions();
            foreach (Option option in metadata.All) command.Add(option);
            command.SetAction(parse =>
            {
                int variant = parse.GetValue(phi);
                if (variant < Scaling.MinPhi || variant > Scaling.MaxPhi)
                    throw new UserException($"--phi {variant} is not a variant; use 0..7 for EfficientNet-B0..B7.");
                var config = ModelConfig.ForPhi(variant, parse.GetValue(resolution), parse.GetValue(classes),
                    parse.GetValue(padding) == "tf" ? EfficientNetPadding.Same : EfficientNetPadding.Symmetric);
                string[] problems = config.Validate();
                if (problems.Length > 0) throw new UserException(string.Join(" ", problems));
                FileInfo source = parse.GetRequiredValue(checkpoint);
                FileInfo target = parse.GetRequiredValue(outputFile);
                if (!source.Exists) throw new UserException($"checkpoint '{source.FullName}' does not exist.");
                ImportMetadata recorded = metadata.Read(parse, config);

                ImportResult result = WithProgress($"Importing {source.Name}", progress =>
                    CheckpointImporter.Import(source.FullName, config, target.FullName, parse.GetValue(epsilon), progress, parse.GetValue(allowNonFinite), recorded));
                output.WriteLine($"Wrote {target.FullName} ({result.OutputBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes) for {config.DisplayName}.");
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
