using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using EffNet.Model;

namespace EffNet.Cli
{
    /// <summary>The command tree. Each command is one method; the work is done by EffNet.Runtime and EffNet.Imaging.</summary>
    static partial class Commands
    {
        public static RootCommand Create(TextWriter output, TextWriter error)
        {
            var root = new RootCommand(
                "effnet: import, inspect and run EfficientNet-B0..B7 weights at any resolution, class count and padding.\n\n" +
                "Typical use:\n" +
                "  effnet import b0.pth -o b0.effw              convert a torchvision/timm checkpoint (the model is read from it)\n" +
                "  effnet classify --weights b0.effw photos/     top-5 labels for every image in a folder\n" +
                "  effnet inspect b0.effw                        what a weight file is for\n" +
                "  effnet train -w b0.effw -d photos/ -o my.effw  a new classifier for the classes in photos/<class>/\n" +
                "  effnet quantize -w my.effw -c photos/ -o my.int8.effw  int8 weights, calibrated on photos/");
            root.Add(Import(output));
            root.Add(Inspect(output));
            root.Add(Run(output));
            root.Add(Classify(output, error));
            root.Add(Train(output, error));
            root.Add(Quantize(output, error));
            return root;
        }

        static Command Inspect(TextWriter output)
        {
            var blob = new Argument<FileInfo>("model.effw") { Description = "A weight blob written by `effnet import`." };
            var command = new Command("inspect", "Print the model card of a weight blob: variant, resolution, classes, parameters, multiply-adds, arena bytes, fingerprint, source, labels, preprocessing and provenance.")
            {
                blob,
            };
            command.SetAction(parse =>
            {
                FileInfo file = parse.GetRequiredValue(blob);
                WeightBlobInfo info = WeightBlob.ReadInfo(file.FullName);
                output.Write(ModelCard(info, file));
                return ExitCodes.Success;
            });
            return command;
        }

        /// <summary>The model card of a blob; the numbers are recomputed from the configuration it records and checked against its fingerprint.</summary>
        internal static string ModelCard(WeightBlobInfo info, FileInfo file)
        {
            var card = new System.Text.StringBuilder();
            void Line(string name, string value) => card.Append(name.PadRight(16)).Append(value).Append('\n');
            Line("file", $"{file.FullName} ({file.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes)");
            Line("model", info.ModelDescription);
            if (info.Config.Validate().Length == 0 && NetworkLayout.Create(info.Config) is { } layout && layout.Fingerprint == info.Fingerprint)
            {
                ModelConfig config = layout.Config;
                // A member's name says which coefficients it has; a custom network's name already lists them.
                Line("variant", config.Phi < 0 ? config.VariantName
                    : config.VariantName + $" (width {config.Width.ToString(CultureInfo.InvariantCulture)}, depth {config.Depth.ToString(CultureInfo.InvariantCulture)})");
                Line("input", $"float32 [3, {config.Resolution}, {config.Resolution}] CHW");
                Line("classes", config.NumClasses.ToString(CultureInfo.InvariantCulture));
                Line("padding", config.Padding == EfficientNetPadding.Same ? "TF SAME" : "symmetric (PyTorch)");
                Line("parameters", layout.ParameterCount.ToString("N0", CultureInfo.InvariantCulture));
                Line("multiply-adds", layout.MultiplyAdds.ToString("N0", CultureInfo.InvariantCulture));
                Line("blocks", layout.Blocks.Count.ToString(CultureInfo.InvariantCulture));
                Line("arena bytes", EfficientNetModel.PlanArenaBytes(config).ToString("N0", CultureInfo.InvariantCulture));
                ConvLayer[] int8 = layout.Layers.Where(l => l.Precision == EfficientNetPrecision.Int8).ToArray();
                Line("precision", int8.Length == 0 ? "float32 in every layer"
                    : $"int8 in {int8.Length} of {layout.Layers.Count} weighted layers (1x1 convs but streamed expansions, Fused-MBConv convs but Winograd's), " +
                      $"float32 arithmetic in the rest, whose weights are stored as levels (s8; s16 for the classifier; the stem's as floats) and widened at load");
                if (int8.Length > 0)
                    Line("int8 layers", string.Join(", ", int8.Select(l => l.Module)));
            }
            else
            {
                Line("variant", "unknown: the recorded configuration does not reproduce the fingerprint");
            }
            Line("weight bytes", info.DataBytes.ToString("N0", CultureInfo.InvariantCulture));
            Line("tensors", info.Tensors.Length.ToString(CultureInfo.InvariantCulture));
            Line("fingerprint", $"0x{info.Fingerprint:x16}");
            Line("format", $"EffNet weight blob v{info.Version}");
            if (info.NonFiniteAllowed)
                Line("non-finite", "allowed: imported with --allow-non-finite, the weights may hold NaN or infinity");
            Line("source", info.SourceDescription);
            WeightBlobMetadata metadata = info.Metadata;
            Line("labels", metadata.Labels is { } labels ? $"{labels.Count}: {ImportMetadataOptions.Preview(labels)}" : "none");
            Line("preprocessing", metadata.Preprocessing is not { } preprocessing ? "unknown (none recorded)"
                : preprocessing + (info.Version == 1 ? " (the variant's published preset: a v1 blob records none)" : ""));
            if (metadata.Provenance is { } provenance)
            {
                Line("source file", provenance.SourceFileName);
                Line("source sha256", provenance.SourceSha256);
                Line("written by", $"EffNet {provenance.ToolVersion} at {provenance.CreatedText}");
            }
            return card.ToString();
        }
    }
}
