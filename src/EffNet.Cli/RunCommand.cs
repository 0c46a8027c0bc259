using System;
using System.CommandLine;
using System.IO;
using EffNet.Import;
using EffNet.IO;

namespace EffNet.Cli
{
    static partial class Commands
    {
        static Command Run(TextWriter output)
        {
            var weights = new Option<FileInfo>("--weights", "-w") { Description = "Weight blob from `effnet import`.", Required = true };
            var input = new Option<FileInfo>("--input", "-i")
            {
                Description = "NumPy .npy float32 [N, 3, H, W] (NCHW, normalised), N >= 1. float64 is converted to float32 (numpy's default type; the output says so).",
                Required = true,
            };
            var outputFile = new Option<FileInfo>("--output", "-o") { Description = "NumPy .npy float32 [N, classes] logits to write.", Required = true };
            var command = new Command("run", "Run the model on a batch of preprocessed images from a .npy file and write the logits as .npy.")
            {
                weights, input, outputFile,
            };
            command.SetAction(parse =>
            {
                string weightsPath = parse.GetRequiredValue(weights).FullName;
                FileInfo source = parse.GetRequiredValue(input);
                FileInfo target = parse.GetRequiredValue(outputFile);
                AtomicFile.CheckTarget(target.FullName, weightsPath, source.FullName); // before the work: the output must not destroy an input
                using IEfficientNetModel model = EfficientNetModel.Load(weightsPath);
                SourceTensor batch = NpyFile.Read(source.FullName, out string storedType);
                int[] shape = batch.Shape;
                int size = model.Config.Resolution;
                if (shape.Length != 4 || shape[0] < 1 || shape[1] != 3 || shape[2] != size || shape[3] != size)
                    throw new UserException($"{source.Name} holds {SourceTensor.FormatShape(shape)}, but this model takes [N, 3, {size}, {size}] (NCHW float32, N >= 1).");

                int firstNonFinite = NonFiniteValues.IndexOf(batch.Data);
                if (firstNonFinite >= 0)
                    throw new UserException(
                        $"{source.Name} holds {NonFiniteValues.Name(batch.Data[firstNonFinite])} in image {firstNonFinite / model.InputLength} at " +
                        $"{NonFiniteValues.Position(firstNonFinite % model.InputLength, shape[1..])} [c, y, x]; every logit of that image would be NaN. " +
                        "Fix the preprocessing that wrote the input: it must hold only finite values.");

                int images = shape[0];
                var logits = new float[images * model.NumClasses];
                model.RunBatch(batch.Data, logits); // whole images on the cores side by side; the same bits as one at a time

                using (AtomicFile logitsFile = AtomicFile.Create(target.FullName, weightsPath, source.FullName))
                {
                    NpyFile.Write(logitsFile.Stream, logits, new[] { images, model.NumClasses });
                    logitsFile.Commit();
                }
                string converted = storedType == "float32" ? "" : $" ({source.Name} holds {storedType}: converted to float32)";
                output.WriteLine($"Wrote {target.FullName}: [{images}, {model.NumClasses}] logits for {model.Config.DisplayName}{converted}.");
                return ExitCodes.Success;
            });
            return command;
        }
    }
}
