using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using EffNet.Model;

namespace EffNet.Import
{
    /// <summary>What <see cref="CheckpointImporter.Import(string, string, ImportOptions?, IProgress{double}?)"/> did.</summary>
    /// <param name="Format">The checkpoint's file format.</param>
    /// <param name="Layout">Whose key names the checkpoint used.</param>
    /// <param name="BatchNormEpsilon">The epsilon folded into the weights.</param>
    /// <param name="TensorCount">Tensors read from the checkpoint (num_batches_tracked included).</param>
    /// <param name="OutputBytes">Size of the weight blob written.</param>
    /// <param name="SourceDescription">The source text stored in the blob.</param>
    public sealed record ImportResult(CheckpointFormat Format, KeyLayout Layout, float BatchNormEpsilon, int TensorCount, long OutputBytes, string SourceDescription)
    {
        /// <summary>The model the blob is for.</summary>
        public ModelConfig Config { get; init; } = null!;

        /// <summary>
        /// What the checkpoint held and what the import took it for, one or two sentences: "EfficientNet-B0 with 5 classes,
        /// torchvision weights: symmetric padding, BatchNorm eps 0.00001." Says what was assumed and what was forced.
        /// </summary>
        public string Summary { get; init; } = "";

        /// <summary>The labels, preprocessing and provenance recorded in the blob.</summary>
        public WeightBlobMetadata Metadata { get; init; } = WeightBlobMetadata.None;
    }

    /// <summary>What an import records in the blob besides the weights.</summary>
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
        /// What the checkpoint at <paramref name="checkpointPath"/> holds (variant or width and depth, classes, key names,
        /// who trained it), read from its keys and shapes alone: no tensor is read.
        /// </summary>
        /// <exception cref="FileNotFoundException">The checkpoint does not exist.</exception>
        /// <exception cref="WeightFormatException">The file is no checkpoint, or its keys are no torchvision or timm EfficientNet's.</exception>
        public static CheckpointInfo Inspect(string checkpointPath)
        {
            ArgumentNullException.ThrowIfNull(checkpointPath);
            return WithMappedCheckpoint(checkpointPath, checkpoint => checkpoint.Infer());
        }

        /// <summary><see cref="Inspect(string)"/> of an opened checkpoint: only its keys, shapes and metadata are used.</summary>
        internal static CheckpointInfo Inspect(CheckpointFile file, string name) => new MappedCheckpoint(file, name).Infer();

        /// <summary>
        /// Imports the checkpoint as the model it holds: the variant (or width and depth), classes, padding and BatchNorm
        /// epsilon are read from its keys and shapes (<see cref="Inspect(string)"/>), and <paramref name="options"/> may set any of
        /// them. Then every tensor is checked, BatchNorm is folded and the blob is written to <paramref name="outputPath"/>
        /// atomically.
        /// </summary>
        /// <exception cref="CheckpointMismatchException">
        /// An option contradicts the checkpoint (a variant, width, depth or class count its shapes do not have; a padding or
        /// epsilon its source does not use, unless <see cref="ImportOptions.Force"/>), or its shapes leave the width or depth open.
        /// </exception>
        /// <exception cref="FileNotFoundException">The checkpoint does not exist.</exception>
        /// <exception cref="WeightFormatException">The checkpoint is unreadable or does not fit the model; the message says why.</exception>
        public static ImportResult Import(string checkpointPath, string outputPath, ImportOptions? options = null, IProgress<double>? progress = null)
        {
            ArgumentNullException.ThrowIfNull(checkpointPath);
            ArgumentNullException.ThrowIfNull(outputPath);
            options ??= new ImportOptions();
            ImportPlan.CheckRanges(options);
            EffNet.IO.AtomicFile.CheckTarget(outputPath, checkpointPath); // before the long read: the output must not destroy the checkpoint
            return WithMappedCheckpoint(checkpointPath, checkpoint =>
            {
                CheckpointInfo info = checkpoint.Infer();
                ImportPlan plan = ImportPlan.Make(info, options, checkpointPath, outputPath);
                NetworkLayout layout = NetworkLayout.Create(plan.Config);
                CheckFits(checkpoint, layout, () => info);
                (WeightBlobMetadata recorded, DateTimeOffset created) = Recorded(options.MetadataFor?.Invoke(plan.Config), plan.Config);
                string description = Describe(checkpoint, plan.Epsilon) +
                                     (plan.Forced.Count > 0 ? "; forced: " + string.Join(" ", plan.Forced) : "");
                return Write(checkpoint, layout, outputPath, plan.Epsilon, description, progress, options.AllowNonFinite, recorded, created) with { Summary = plan.Summary };
            });
        }

        /// <summary>
        /// Reads <paramref name="checkpointPath"/>, maps its keys to torchvision's, checks every tensor against the model
        /// <paramref name="config"/> describes (one error, before anything is written: what the checkpoint holds when it is
        /// another model, otherwise the tensors that do not fit), folds BatchNorm and writes the blob to
        /// <paramref name="outputPath"/> atomically. <see cref="Import(string, string, ImportOptions?, IProgress{double}?)"/>
        /// reads the model from the checkpoint instead.
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
        public static ImportResult Import(string checkpointPath, ModelConfig config, string outputPath,
                                          float? batchNormEpsilon = null, IProgress<double>? progress = null, bool allowNonFinite = false,
                                          ImportMetadata? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(checkpointPath);
            ArgumentNullException.ThrowIfNull(config);
            ArgumentNullException.ThrowIfNull(outputPath);
            CheckEpsilon(batchNormEpsilon);
            NetworkLayout layout = NetworkLayout.Create(config);
            (WeightBlobMetadata recorded, DateTimeOffset created) = Recorded(metadata, config);
            EffNet.IO.AtomicFile.CheckTarget(outputPath, checkpointPath); // before the long read: the output must not destroy the checkpoint
            return WithMappedCheckpoint(checkpointPath, checkpoint =>
            {
                CheckFits(checkpoint, layout, () => TryInfer(checkpoint));
                float epsilon = batchNormEpsilon ?? DefaultEpsilon(config, checkpoint.Keys);
                return Write(checkpoint, layout, outputPath, epsilon, Describe(checkpoint, epsilon), progress, allowNonFinite, recorded, created);
            });
        }

        /// <summary>The labels and preprocessing to record for <paramref name="config"/> (the published preset by default), checked before any tensor is read.</summary>
        static (WeightBlobMetadata Recorded, DateTimeOffset Created) Recorded(ImportMetadata? metadata, ModelConfig config)
        {
            var recorded = new WeightBlobMetadata(metadata?.Labels, metadata?.Preprocessing ?? PreprocessingInfo.PublishedFor(config), null);
            string[] problems = recorded.Problems(config);
            if (problems.Length > 0)
                throw new ArgumentException(string.Join(" ", problems), nameof(metadata));
            return (recorded, metadata?.CreatedUtc ?? WeightProvenance.Now());
        }

        /// <summary>The BatchNorm epsilon a checkpoint of <paramref name="keys"/> for <paramref name="config"/> was most likely trained with.</summary>
        public static float DefaultEpsilon(ModelConfig config, KeyLayout keys)
        {
            ArgumentNullException.ThrowIfNull(config);
            if (config.Padding == EfficientNetPadding.Same)
                return BatchNormFolding.TensorFlowEpsilon;
            return (keys == KeyLayout.Torchvision ? WeightSource.Torchvision : WeightSource.Timm).Epsilon(config.Phi, config.Family);
        }

        internal static void CheckEpsilon(float? batchNormEpsilon)
        {
            if (batchNormEpsilon is float given && !(given > 0 && float.IsFinite(given)))
                throw new ArgumentOutOfRangeException(nameof(batchNormEpsilon), given, "BatchNorm epsilon must be a positive number (1e-5 for PyTorch-trained weights, 1e-3 for TensorFlow-trained).");
        }

        /// <summary>A checkpoint opened, its wrapper prefix removed and its keys mapped to torchvision's; no tensor read yet.</summary>
        sealed class MappedCheckpoint
        {
            public MappedCheckpoint(CheckpointFile file, string path, Stream? source = null)
            {
                File = file;
                Path = path;
                Source = source;
                (Dictionary<string, string> unwrapped, Prefix) = KeyMapping.StripWrapperPrefix(file.Shapes.Keys.ToDictionary(key => key, StringComparer.Ordinal));
                Keys = KeyMapping.Detect(unwrapped.Keys, path);
                Families = KeyMapping.FamiliesOf(unwrapped.Keys, Keys, key => unwrapped.TryGetValue(key, out string? own) ? file.Shapes[own] : null);
                try
                {
                    // Our blobs name B-series and V2 tensors as torchvision does, Lite tensors as timm does (no torchvision Lite exists).
                    OwnKeys = Families[0] == ModelFamily.EfficientNet ? KeyMapping.ToTorchvision(unwrapped, Keys) : unwrapped;
                }
                catch (WeightFormatException e) when (e.Path is null)
                {
                    throw new WeightFormatException(path, e.Message);
                }
                Shapes = OwnKeys.ToDictionary(entry => entry.Key, entry => file.Shapes[entry.Value], StringComparer.Ordinal);
            }

            public CheckpointFile File { get; }
            public string Path { get; }

            /// <summary>The checkpoint's bytes, for the SHA-256 of the provenance; null when only its description was given.</summary>
            public Stream? Source { get; }
            public string Prefix { get; }
            public KeyLayout Keys { get; }

            /// <summary>The families its keys and shapes can be (<see cref="KeyMapping.FamiliesOf"/>): the B-series, Lite, or the V2 sizes.</summary>
            public IReadOnlyList<ModelFamily> Families { get; }

            /// <summary>Our name (torchvision's, or timm's for Lite) -> the checkpoint's own key.</summary>
            public Dictionary<string, string> OwnKeys { get; }

            /// <summary>Every tensor's shape under our name.</summary>
            public Dictionary<string, int[]> Shapes { get; }

            public CheckpointInfo Infer() => Families[0] == ModelFamily.EfficientNet
                ? CheckpointInfo.Infer(File.Format, Keys, Prefix, Shapes, File.Metadata, Path)
                : CheckpointInfo.InferMember(Families, File.Format, Keys, Prefix, Shapes, File.Metadata, Path);
        }

        static T WithMappedCheckpoint<T>(string checkpointPath, Func<MappedCheckpoint, T> work)
            => CheckpointReader.WithFile(checkpointPath, stream =>
            {
                using CheckpointFile file = CheckpointReader.Open(stream, checkpointPath);
                return work(new MappedCheckpoint(file, checkpointPath, stream));
            });

        /// <summary>What the checkpoint holds, or null when it lacks a part that tells (its tensors are then listed instead).</summary>
        static CheckpointInfo? TryInfer(MappedCheckpoint checkpoint)
        {
            try
            {
                return checkpoint.Infer();
            }
            catch (WeightFormatException)
            {
                return null;
            }
        }

        /// <summary>
        /// Checks every name and shape against the model before any tensor is read. A checkpoint that is wholly another
        /// model is refused with what it holds (<paramref name="infer"/>, asked only then) and how to import it; any other
        /// misfit with a few of the tensors and counts.
        /// </summary>
        static void CheckFits(MappedCheckpoint checkpoint, NetworkLayout layout, Func<CheckpointInfo?> infer)
        {
            if (Fits(checkpoint, layout))
                return;
            if (infer() is CheckpointInfo info && info.AnyFittingConfig is ModelConfig held && Fits(checkpoint, NetworkLayout.Create(held)))
                throw new WeightFormatException(checkpoint.Path, string.Format(CultureInfo.InvariantCulture,
                    "the checkpoint holds {0}, not {1}: import it for [{2}({3})] (CheckpointImporter.Inspect tells what a checkpoint holds).",
                    info.ModelName, layout.Config.DisplayName, FamilySpec.Of(info.Family).AttributeName,
                    AttributeArguments(info)));
            try
            {
                WeightBlobWriter.CheckShapes(layout, checkpoint.Shapes);
            }
            catch (WeightFormatException e) when (e.Path is null)
            {
                throw new WeightFormatException(checkpoint.Path, e.Message);
            }
        }

        static bool Fits(MappedCheckpoint checkpoint, NetworkLayout layout)
        {
            try
            {
                WeightBlobWriter.CheckShapes(layout, checkpoint.Shapes);
                return true;
            }
            catch (WeightFormatException)
            {
                return false;
            }
        }

        /// <summary>"Phi = 0, NumClasses = 5" or "Width = 0.5, Depth = 0.6, NumClasses = 10": the attribute of the model a checkpoint holds.</summary>
        static string AttributeArguments(CheckpointInfo info)
        {
            // Any width and depth that reproduce the shapes build the same network, so the first of several will do.
            string variant = info.Phi >= 0
                ? "Phi = " + info.Phi.ToString(CultureInfo.InvariantCulture)
                : string.Format(CultureInfo.InvariantCulture, "Width = {0}, Depth = {1}",
                    info.Widths.Count > 0 ? info.Widths[0].ToString(CultureInfo.InvariantCulture) : "?",
                    info.Depths.Count > 0 ? info.Depths[0].ToString(CultureInfo.InvariantCulture) : "?");
            return info.NumClasses == ModelConfig.DefaultNumClasses ? variant : variant + ", NumClasses = " + info.NumClasses.ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>"b0.pth: PyTorch checkpoint, torchvision keys, float32/int64; BatchNorm eps 0.00001": the source text stored in the blob.</summary>
        static string Describe(MappedCheckpoint checkpoint, float epsilon) => string.Format(CultureInfo.InvariantCulture,
            "{0}: {1} checkpoint, {2} keys{3}, {4}; BatchNorm eps {5}",
            Path.GetFileName(checkpoint.Path), checkpoint.File.Format == CheckpointFormat.PyTorch ? "PyTorch" : "safetensors",
            checkpoint.Keys == KeyLayout.Torchvision ? "torchvision" : "timm",
            checkpoint.Prefix.Length > 0 ? " (prefix '" + checkpoint.Prefix + "' removed)" : "",
            string.Join("/", checkpoint.File.ElementTypeNames), ImportPlan.Format(epsilon));

        /// <summary>
        /// Reads only the model's tensors (names and shapes are checked already), so a checkpoint that does not fit costs no
        /// more than its description, and one that does no more than the model's weights; folds and writes the blob.
        /// </summary>
        static ImportResult Write(MappedCheckpoint checkpoint, NetworkLayout layout, string outputPath, float epsilon, string description,
                                  IProgress<double>? progress, bool allowNonFinite, WeightBlobMetadata recorded, DateTimeOffset created)
        {
            string[] packed = WeightBlobWriter.PackedTensors(layout).Select(entry => entry.Key).ToArray();
            Dictionary<string, SourceTensor> read = checkpoint.File.Read(packed.Select(name => checkpoint.OwnKeys[name]),
                                                                         progress is null ? null : new Scaled(progress, 0, 0.8));
            if (!allowNonFinite)
                NonFiniteValues.Check(read, checkpoint.Path); // under the checkpoint's own key names
            Dictionary<string, SourceTensor> stateDict = packed.ToDictionary(name => name, name => read[checkpoint.OwnKeys[name]], StringComparer.Ordinal);
            progress?.Report(0.85);
            // A second, streamed pass over the file, once it is known to fit: the SHA-256 of exactly the bytes imported.
            checkpoint.Source!.Position = 0;
            string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(checkpoint.Source));
            recorded = recorded with { Provenance = new WeightProvenance(Path.GetFileName(checkpoint.Path), sha256, WeightProvenance.CurrentToolVersion, created) };
            try
            {
                WeightBlobWriter.Write(outputPath, layout, stateDict, epsilon, description, allowNonFinite, recorded);
            }
            catch (WeightFormatException e) when (e.Path is null)
            {
                throw new WeightFormatException(checkpoint.Path, e.Message); // BatchNorm folded into a non-finite value
            }
            progress?.Report(1.0);
            return new ImportResult(checkpoint.File.Format, checkpoint.Keys, epsilon, checkpoint.File.Shapes.Count, new FileInfo(outputPath).Length, description)
            {
                Config = layout.Config,
                Summary = layout.Config.DisplayName + ".",
                Metadata = recorded,
            };
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
