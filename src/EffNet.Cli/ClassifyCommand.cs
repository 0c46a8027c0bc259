using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Text.Json;
using EffNet.Imaging;
using EffNet.Model;

namespace EffNet.Cli
{
    static partial class Commands
    {
        static Command Classify(TextWriter output)
        {
            var weights = new Option<FileInfo>("--weights", "-w") { Description = "Weight blob from `effnet import`.", Required = true };
            var images = new Argument<FileInfo[]>("images") { Description = ImageDecoder.Formats + " files (told by their first bytes, not their names).", Arity = ArgumentArity.OneOrMore };
            var top = new Option<int>("--top", "-k") { Description = "How many classes to print per image.", DefaultValueFactory = _ => 5 };
            var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
            var command = new Command("classify",
                "Classify images: decode, preprocess exactly as torchvision's transforms for the variant's published weights " +
                "(resize of the shorter side, centre crop, ImageNet mean/std), run the model, print the top classes with ImageNet names. " +
                "A model at another resolution than the preset's crop uses the preset with the crop at the model's resolution " +
                "(and the resize at least that), unless the blob records its own preprocessing; labels come from the blob (import --labels), " +
                "else ImageNet's for 1000 classes, else 'class N'.")
            {
                weights, images, top, json,
            };
            command.SetAction(parse =>
            {
                int k = parse.GetValue(top);
                if (k < 1) throw new UserException($"--top must be at least 1, not {k}.");
                using IEfficientNetModel model = EfficientNetModel.Load(parse.GetRequiredValue(weights).FullName);
                // The preprocessing the blob records (import --resize ...), else the variant's published preset.
                Preprocessing preprocessing = model.WeightInfo.Metadata.Preprocessing is PreprocessingInfo recorded
                    ? Preprocessing.From(recorded)
                    : PreprocessingFor(model.Config);
                var labels = new ClassLabels(model.Labels, model.NumClasses);
                var tensor = new float[model.InputLength];
                var logits = new float[model.NumClasses];
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true });
                bool asJson = parse.GetValue(json);
                if (asJson) writer.WriteStartArray();
                foreach (FileInfo image in parse.GetRequiredValue(images))
                {
                    preprocessing.Apply(image.FullName, tensor);
                    model.Run(tensor, logits);
                    ClassProbability[] best = Softmax.TopK(logits, Math.Min(k, logits.Length));
                    if (asJson) WriteJson(writer, image.Name, best, labels);
                    else WriteText(output, image.Name, best, labels);
                }
                if (asJson)
                {
                    writer.WriteEndArray();
                    writer.Flush();
                    output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
                }
                return ExitCodes.Success;
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

        /// <summary>The one place a class index becomes the label printed for it: the blob's labels, else ImageNet's for 1000 classes, else "class N".</summary>
        sealed record ClassLabels(System.Collections.Generic.IReadOnlyList<string>? FromBlob, int Classes)
        {
            public string Of(int index)
                => FromBlob is { } labels ? labels[index]
                 : Classes == ImageNetClasses.Count ? ImageNetClasses.Names[index]
                 : "class " + index.ToString(CultureInfo.InvariantCulture);
        }

        static void WriteText(TextWriter output, string image, ClassProbability[] best, ClassLabels labels)
        {
            output.WriteLine(image);
            for (int i = 0; i < best.Length; i++)
                output.WriteLine(string.Format(CultureInfo.InvariantCulture, "  {0}. {1,7:P2}  {2} ({3})",
                    i + 1, best[i].Probability, labels.Of(best[i].Index), best[i].Index));
        }

        static void WriteJson(Utf8JsonWriter writer, string image, ClassProbability[] best, ClassLabels labels)
        {
            writer.WriteStartObject();
            writer.WriteString("image", image);
            writer.WriteStartArray("top");
            foreach (ClassProbability p in best)
            {
                writer.WriteStartObject();
                writer.WriteNumber("index", p.Index);
                writer.WriteString("label", labels.Of(p.Index));
                writer.WriteNumber("probability", p.Probability);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }
}
