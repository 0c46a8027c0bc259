using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using EffNet.Model;

namespace EffNet.Import
{
    /// <summary>What <see cref="CheckpointImporter.Import"/> did.</summary>
    /// <param name="Format">The checkpoint's file format.</param>
    /// <param name="Layout">Whose key names the checkpoint used.</param>
    /// <param name="BatchNormEpsilon">The epsilon folded into the weights.</param>
    /// <param name="TensorCount">Tensors read from the checkpoint (num_batches_tracked included).</param>
    /// <param name="OutputBytes">Size of the weight blob written.</param>
    /// <param name="SourceDescription">The source text stored in the blob.</param>
    public sealed record ImportResult(CheckpointFormat Format, KeyLayout Layout, float BatchNormEpsilon, int TensorCount, long OutputBytes, string SourceDescription)
    {
        /// <summary>The labels, preprocessing and provenance recorded in the blob.</summary>
        public WeightBlobMetadata Metadata { get; init; } = WeightBlobMetadata.None;
    }

    /// <summary>What <see cref="CheckpointImporter.Import"/> records in the blob besides the weights.</summary>
    public sealed record ImportMetadata
    {
        /// <summary>One label per class, in class-index order (<see cref="LabelsFile.Read"/> reads them from a file); null for none.</summary>
        public IReadOnlyList<string>? Labels { get; init; }

        /// <summary>The preprocessing the weights expect; null for the published preset (<see cref="PreprocessingInfo.PublishedFor"/>), if any.</summary>
        public PreprocessingInfo? Preprocessing { get; init; }

        /// <summary>The creation time recorded (UTC, whole seconds); null for now. Fix it to make an import reproducible byte for byte.</summary>
        public DateTimeOffset? CreatedUtc { get; init; }
    }

    /// <summary>Turns a PyTorch or safetensors checkpoint of torchvision or timm EfficientNet into a weight blob for one model.</summary>
    public static class CheckpointImporter
    {
        /// <summary>
        /// Reads <paramref name="checkpointPath"/>, maps its keys to torchvision's, checks every tensor against the model
        /// <paramref name="config"/> describes (one error listing all problems, before anything is written), folds
        /// BatchNorm and writes the blob to <paramref name="outputPath"/> atomically.
        /// </summary>
        /// <param name="batchNormEpsilon">
        /// The epsilon the checkpoint's BatchNorms were trained with. By default: 1e-3 for SAME padding (TensorFlow-trained
        /// weights); for torchvision keys, torchvision's own (1e-5 for B0..B4, 1e-3 for B5..B7, 1e-5 for custom sizes);
        /// for timm keys with symmetric padding, 1e-5.
        /// </param>
        /// <param name="progress">Receives 0..1 as tensors are read and the blob is written.</param>
        /// <param name="allowNonFinite">
        /// False (the default): a NaN or infinity in any tensor of the checkpoint, or produced by folding BatchNorm, is
        /// refused with a message naming the tensor (as the checkpoint names it) and the first bad index. True: such values
        /// are kept and the blob records that it may hold them.
        /// </param>
        /// <param name="metadata">Labels, preprocessing and creation time to record; the provenance records the checkpoint's file name and SHA-256.</param>
        /// <exception cref="FileNotFoundException">The checkpoint does not exist.</exception>
        /// <exception cref="WeightFormatException">The checkpoint is unreadable or does not fit the model; the message says why.</exception>
        /// <exception cref="ArgumentException">The labels or preprocessing do not fit the model (checked before the checkpoint is read).</exception>
        public static ImportResult Import(string checkpointPath, ModelConfig config, string outputPath,
                                          float? batchNormEpsilon = null, IProgress<double>? progress = null, bool allowNonFinite = false,
                                          ImportMetadata? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(checkpointPath);
            ArgumentNullException.ThrowIfNull(config);
            ArgumentNullException.ThrowIfNull(outputPath);
            if (batchNormEpsilon is float given && !(given > 0 && float.IsFinite(given)))
                throw new ArgumentOutOfRangeException(nameof(batchNormEpsilon), given, "BatchNorm epsilon must be a positive number (1e-5 for PyTorch-trained weights, 1e-3 for TensorFlow-trained).");
            NetworkLayout layout = NetworkLayout.Create(config);
            var recorded = new WeightBlobMetadata(metadata?.Labels, metadata?.Preprocessing ?? PreprocessingInfo.PublishedFor(config), null);
            string[] problems = recorded.Problems(config);
            if (problems.Length > 0)
                throw new ArgumentException(string.Join(" ", problems), nameof(metadata));
            DateTimeOffset created = metadata?.CreatedUtc ?? WeightProvenance.Now();
            EffNet.IO.AtomicFile.CheckTarget(outputPath, checkpointPath); // before the long read: the output must not destroy the checkpoint
            return CheckpointReader.WithFile(checkpointPath, file =>
            {
                using CheckpointFile checkpoint = CheckpointReader.Open(file, checkpointPath);
                // A second, streamed pass over the file, once it is known to fit: SHA-256 of exactly the bytes imported.
                WeightBlobMetadata Complete()
                {
                    file.Position = 0;
                    string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file));
                    return recorded with { Provenance = new WeightProvenance(Path.GetFileName(checkpointPath), sha256, WeightProvenance.CurrentToolVersion, created) };
                }
                return ImportOpened(checkpoint, checkpointPath, layout, outputPath, batchNormEpsilon, progress, allowNonFinite, Complete);
            });
        }

        /// <summary>
        /// Maps the keys and checks every name and shape against the model before any tensor is read; then reads only the
        /// model's tensors, so a checkpoint that does not fit costs no more than its description, and one that does no more
        /// than the model's weights.
        /// </summary>
        static ImportResult ImportOpened(CheckpointFile checkpoint, string checkpointPath, NetworkLayout layout, string outputPath,
                                         float? batchNormEpsilon, IProgress<double>? progress, bool allowNonFinite, Func<WeightBlobMetadata> metadata)
        {
            (Dictionary<string, string> unwrapped, string prefix) = KeyMapping.StripWrapperPrefix(checkpoint.Shapes.Keys.ToDictionary(key => key, StringComparer.Ordinal));
            KeyLayout keys = KeyMapping.Detect(unwrapped.Keys, checkpointPath);
            Dictionary<string, string> checkpointKeys; // torchvision's name -> the checkpoint's own key
            try
            {
                checkpointKeys = KeyMapping.ToTorchvision(unwrapped, keys);
            }
            catch (WeightFormatException e) when (e.Path is null)
            {
                throw new WeightFormatException(checkpointPath, e.Message);
            }

            Dictionary<string, int[]> shapes = checkpointKeys.ToDictionary(entry => entry.Key, entry => checkpoint.Shapes[entry.Value], StringComparer.Ordinal);
            try
            {
                WeightBlobWriter.CheckShapes(layout, shapes);
            }
            catch (WeightFormatException e) when (e.Path is null)
            {
                throw new WeightFormatException(checkpointPath, e.Message + DescribeCheckpointModel(shapes, layout));
            }

            string[] packed = WeightBlobWriter.PackedTensors(layout).Select(entry => entry.Key).ToArray();
            Dictionary<string, SourceTensor> read = checkpoint.Read(packed.Select(name => checkpointKeys[name]),
                                                                    progress is null ? null : new Scaled(progress, 0, 0.8));
            if (!allowNonFinite)
                NonFiniteValues.Check(read, checkpointPath); // under the checkpoint's own key names
            Dictionary<string, SourceTensor> stateDict = packed.ToDictionary(name => name, name => read[checkpointKeys[name]], StringComparer.Ordinal);
            progress?.Report(0.85);

            float epsilon = batchNormEpsilon ?? DefaultEpsilon(layout.Config, keys);
            string description = string.Format(CultureInfo.InvariantCulture,
                "{0}: {1} checkpoint, {2} keys{3}, {4}; BatchNorm eps {5}",
                Path.GetFileName(checkpointPath), checkpoint.Format == CheckpointFormat.PyTorch ? "PyTorch" : "safetensors",
                keys == KeyLayout.Torchvision ? "torchvision" : "timm",
                prefix.Length > 0 ? " (prefix '" + prefix + "' removed)" : "",
                string.Join("/", checkpoint.ElementTypeNames), epsilon);
            WeightBlobMetadata recorded = metadata();
            try
            {
                WeightBlobWriter.Write(outputPath, layout, stateDict, epsilon, description, allowNonFinite, recorded);
            }
            catch (WeightFormatException e) when (e.Path is null)
            {
                throw new WeightFormatException(checkpointPath, e.Message); // BatchNorm folded into a non-finite value
            }
            progress?.Report(1.0);
            return new ImportResult(checkpoint.Format, keys, epsilon, checkpoint.Shapes.Count, new FileInfo(outputPath).Length, description) { Metadata = recorded };
        }

        /// <summary>The BatchNorm epsilon a checkpoint of <paramref name="keys"/> for <paramref name="config"/> was most likely trained with.</summary>
        public static float DefaultEpsilon(ModelConfig config, KeyLayout keys)
        {
            ArgumentNullException.ThrowIfNull(config);
            if (config.Padding == EfficientNetPadding.Same)
                return BatchNormFolding.TensorFlowEpsilon;
            if (keys == KeyLayout.Torchvision && config.Phi >= 0)
                return BatchNormFolding.TorchvisionEpsilon(config.Phi);
            return BatchNormFolding.PyTorchEpsilon;
        }

        /// <summary>
        /// " The checkpoint looks like EfficientNet-B0 with 10 classes ..." when the tensors do not fit: reads the stem width,
        /// the blocks per stage, the head width and the classifier from the (torchvision-named) tensors.
        /// </summary>
        static string DescribeCheckpointModel(Dictionary<string, int[]> shapes, NetworkLayout expected)
        {
            if (!shapes.TryGetValue("features.0.0.weight", out int[]? stem) || stem.Length != 4 ||
                !shapes.TryGetValue("classifier.1.weight", out int[]? classifier) || classifier.Length != 2)
                return "";
            var repeats = new int[BlockTable.Stages.Length];
            foreach (string key in shapes.Keys)
            {
                string[] parts = key.Split('.', 4);
                if (parts.Length == 4 && parts[0] == "features" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int stage) &&
                    stage >= 1 && stage <= repeats.Length && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int block) && block < 1000)
                    repeats[stage - 1] = Math.Max(repeats[stage - 1], block + 1);
            }
            int classes = classifier[0], features = classifier[1], stemChannels = stem[0];
            if (SameShape(expected, stemChannels, repeats, features, classes))
                return ""; // the network fits: the problem lies in the listed tensors themselves

            string found = string.Format(CultureInfo.InvariantCulture,
                " The checkpoint has a {0}-channel stem, {1} blocks ({2} per stage) and a classifier of {3}",
                stemChannels, repeats.Sum(), string.Join("/", repeats), SourceTensor.FormatShape(classifier));
            if (classes < ModelConfig.MinNumClasses || classes > ModelConfig.MaxNumClasses)
                return found + ".";
            for (int phi = Scaling.MinPhi; phi <= Scaling.MaxPhi; phi++)
            {
                if (SameShape(NetworkLayout.Create(ModelConfig.ForPhi(phi, numClasses: classes)), stemChannels, repeats, features, classes))
                    return found + string.Format(CultureInfo.InvariantCulture,
                        ": it looks like EfficientNet-B{0} with {1} classes, while this model is {2}. Import it for [EfficientNet(Phi = {0}{3})].",
                        phi, classes, expected.Config.DisplayName, classes != ModelConfig.DefaultNumClasses ? ", NumClasses = " + classes : "");
            }
            return found + ", which matches none of B0..B7 (a custom width and depth?), while this model is " + expected.Config.DisplayName + ".";
        }

        static bool SameShape(NetworkLayout layout, int stemChannels, int[] repeats, int features, int classes)
        {
            var layoutRepeats = new int[repeats.Length];
            foreach (BlockLayout b in layout.Blocks) layoutRepeats[b.Stage - 1]++;
            return layout.Stem.OutChannels == stemChannels && layout.FeatureCount == features &&
                   layout.Config.NumClasses == classes && layoutRepeats.SequenceEqual(repeats);
        }

        /// <summary>Maps a sub-task's 0..1 progress onto [from, to] of the whole.</summary>
        sealed class Scaled : IProgress<double>
        {
            readonly IProgress<double> _inner;
            readonly double _from, _to;

            public Scaled(IProgress<double> inner, double from, double to)
            {
                _inner = inner; _from = from; _to = to;
            }

            public void Report(double value) => _inner.Report(_from + (_to - _from) * value);
        }
    }
}
