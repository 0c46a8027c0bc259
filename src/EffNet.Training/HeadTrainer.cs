using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using EffNet.Model;

namespace EffNet.Training
{
    /// <summary>Settings of <see cref="HeadTrainer.Train"/>.</summary>
    public sealed record TrainOptions
    {
        /// <summary>A folder of validation images (class folders named as the training ones), instead of a split.</summary>
        public string? ValidationFolder { get; init; }
        /// <summary>Share of each class held out for validation when there is no <see cref="ValidationFolder"/>; 0 for none.</summary>
        public double ValidationFraction { get; init; } = 0.2;
        /// <summary>Views per training image: the image, then its mirror image, then random crops (<see cref="ImageViews"/>). One by default: more did not help on Fashion-MNIST (docs/training.md).</summary>
        public int Views { get; init; } = 1;
        /// <summary>Seeds the validation split.</summary>
        public int Seed { get; init; }
        /// <summary>Where features are kept between runs (<see cref="FeatureExtractor.DefaultCacheFolder"/>), or null for none.</summary>
        public string? CacheFolder { get; init; } = FeatureExtractor.DefaultCacheFolder();
        public int Threads { get; init; } = Environment.ProcessorCount;
        public HeadTrainingOptions Head { get; init; } = new();
        /// <summary>Also fine-tune the last blocks, the head conv and the classifier after the head (<c>--unfreeze K</c>), or null for the head only.</summary>
        public FineTuningOptions? FineTuning { get; init; }
    }

    /// <summary>What <see cref="HeadTrainer.Train"/> did, for the report.</summary>
    public sealed record TrainingReport(
        IReadOnlyList<string> Labels, int TrainImages, int ValidationImages, int FailedImages, int CachedImages,
        HeadTrainingResult Result, int[,] Confusion, string ConfusionSet, double FeatureSeconds, double TrainSeconds,
        bool RefitWithValidation)
    {
        /// <summary>What fine-tuning did after the head, or null when only the head was trained; the confusion matrix is then the fine-tuned model's.</summary>
        public FineTuningResult? FineTuning { get; init; }

        /// <summary>The confusion matrix as text: a row per true class, a column per predicted class.</summary>
        public string ConfusionText()
        {
            int k = Labels.Count;
            int width = Math.Max(5, Labels.Max(l => l.Length));
            var text = new StringBuilder();
            text.Append("true \\ predicted".PadRight(width + 2));
            for (int j = 0; j < k; j++) text.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(6));
            text.Append('\n');
            for (int i = 0; i < k; i++)
            {
                text.Append((i.ToString(CultureInfo.InvariantCulture) + " " + Labels[i]).PadRight(width + 2));
                for (int j = 0; j < k; j++) text.Append(Confusion[i, j].ToString(CultureInfo.InvariantCulture).PadLeft(6));
                text.Append('\n');
            }
            return text.ToString();
        }
    }

    /// <summary>
    /// Teaches a base model new classes: the features of a folder of labelled images (several views of each training
    /// image), a linear head trained on them (<see cref="LinearHead"/>), and a new blob that is the base with that head,
    /// the folder names as labels and the base's preprocessing. Every layer but the classifier keeps the base's weights.
    /// </summary>
    public static class HeadTrainer
    {
        /// <param name="problem">receives one line per image that cannot be read (it is skipped)</param>
        /// <param name="log">receives a line saying what is about to be computed</param>
        /// <param name="imagesToRead">receives the number of images whose features are needed, before the first is read</param>
        /// <param name="imageRead">called once per image read (or failed), from any thread</param>
        public static TrainingReport Train(string baseBlob, string dataFolder, string output, TrainOptions options,
                                           Action<string> problem, Action<string>? log = null,
                                           Action<int>? imagesToRead = null, Action? imageRead = null)
        {
            ArgumentNullException.ThrowIfNull(options);
            if (options.Views < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Views, "Views must be at least 1 (the image itself).");
            if (options.FineTuning is FineTuningOptions requested) // before minutes of features
                TrainableNetwork.Check(NetworkLayout.Create(WeightBlob.ReadInfo(baseBlob).Config), requested.Blocks);
            LabelledImages data = LabelledImages.FromFolders(dataFolder);
            IReadOnlyList<LabelledImage> train, validation;
            if (options.ValidationFolder is string validationFolder)
            {
                LabelledImages held = LabelledImages.FromFolders(validationFolder);
                if (!held.Labels.SequenceEqual(data.Labels))
                    throw new ArgumentException($"{validationFolder}: its class folders ({string.Join(", ", held.Labels)}) differ from {dataFolder}'s ({string.Join(", ", data.Labels)}); name them alike.");
                (train, validation) = (data.Images, held.Images);
            }
            else if (options.ValidationFraction > 0)
                (train, validation) = data.Split(options.ValidationFraction, options.Seed);
            else
                (train, validation) = (data.Images, Array.Empty<LabelledImage>());

            var clock = Stopwatch.StartNew();
            int failed = 0;
            void Failed(string line) { Interlocked.Increment(ref failed); problem(line); }
            FeatureSet trainFeatures, validationFeatures;
            int cached;
            PreprocessingInfo preprocessing;
            string baseSha256;
            using (var extractor = new FeatureExtractor(baseBlob, options.CacheFolder, options.Threads))
            {
                (preprocessing, baseSha256) = (extractor.PreprocessingInfo, extractor.BaseSha256);
                log?.Invoke($"features of {train.Count} training images ({options.Views} view{(options.Views == 1 ? "" : "s")} each) and {validation.Count} validation images, {extractor.Dimension} per view");
                imagesToRead?.Invoke((train.Count + validation.Count) * (options.FineTuning is null ? 1 : 2));
                trainFeatures = extractor.Extract(train, options.Views, Failed, imageRead);
                cached = extractor.CacheHits;
                validationFeatures = extractor.Extract(validation, 1, Failed, imageRead);
                cached += extractor.CacheHits;
            }
            double featureSeconds = clock.Elapsed.TotalSeconds;

            clock.Restart();
            (LinearHead head, HeadTrainingResult result) = LinearHead.Train(trainFeatures, validationFeatures, data.Labels.Count, options.Head);
            // Held out of the training folder, the validation images chose the epoch; now they train too, for that many
            // epochs on the same schedule (with 100 images a class, holding out a fifth cost 4 points of test accuracy on
            // Fashion-MNIST). The report keeps the accuracy and confusion of the head before they joined.
            LinearHead written = head;
            bool refit = options.ValidationFolder is null && validationFeatures.Rows > 0;
            if (refit)
                written = LinearHead.Train(FeatureSet.Concat(trainFeatures, validationFeatures), null, data.Labels.Count,
                                           options.Head with { StopAfter = result.BestEpoch }).Head;
            double trainSeconds = clock.Elapsed.TotalSeconds;

            FeatureSet judged = validationFeatures.Rows > 0 ? validationFeatures : trainFeatures;
            var confusion = new int[data.Labels.Count, data.Labels.Count];
            var provenance = new WeightProvenance(Path.GetFileName(baseBlob), baseSha256, WeightProvenance.CurrentToolVersion, WeightProvenance.Now());
            string folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataFolder)));
            var metadata = new WeightBlobMetadata(data.Labels, preprocessing, provenance);
            FineTuningResult? fineTuned = null;
            if (options.FineTuning is FineTuningOptions tuning)
            {
                (TrainableNetwork tuned, fineTuned, FeatureSet tunedJudged) = FineTune(baseBlob, train, validation, data.Labels.Count, head,
                    refit ? written : null, options, tuning with { Seed = options.Seed }, log, imageRead);
                int[] predicted = FineTuner.Predict(tuned, tunedJudged);
                for (int r = 0; r < tunedJudged.Rows; r++)
                    confusion[tunedJudged.Classes[r], predicted[r]]++;
                string tunedSource = string.Format(CultureInfo.InvariantCulture,
                    "{0}, head conv and classifier fine-tuned on {1} ({2} images, {3} classes) over {4}",
                    tuning.Blocks == 1 ? "last block" : $"last {tuning.Blocks} blocks", folder, train.Count, data.Labels.Count, Path.GetFileName(baseBlob));
                WeightBlobWriter.WriteLaidOut(output, tuned.Layout, tuned.Parameters, tunedSource, metadata);
            }
            else
            {
                for (int r = 0; r < judged.Rows; r++)
                    confusion[judged.Classes[r], head.Predict(judged.Row(r))]++;
                string source = string.Format(CultureInfo.InvariantCulture, "head trained on {0} ({1} images, {2} classes) over {3}",
                    folder, train.Count, data.Labels.Count, Path.GetFileName(baseBlob));
                WeightBlobWriter.WriteWithClassifier(output, baseBlob, written.Weights, written.Bias, source, metadata);
            }

            return new TrainingReport(data.Labels, train.Count, validation.Count, failed, cached, result, confusion,
                validationFeatures.Rows > 0 ? "validation" : "training", featureSeconds, trainSeconds, refit) { FineTuning = fineTuned };
        }

        /// <summary>
        /// Fine-tunes the base's last blocks, head conv and a classifier starting from <paramref name="head"/>, on the frozen
        /// layers' output of each image; with a validation split, then again from <paramref name="refitHead"/> on the
        /// training and validation images together for the epochs validation chose. Returns the network to write, the
        /// result of the validated run, and the set its confusion matrix is judged on.
        /// </summary>
        static (TrainableNetwork Network, FineTuningResult Result, FeatureSet Judged) FineTune(
            string baseBlob, IReadOnlyList<LabelledImage> train, IReadOnlyList<LabelledImage> validation, int classes,
            LinearHead head, LinearHead? refitHead, TrainOptions options, FineTuningOptions tuning, Action<string>? log, Action? imageRead)
        {
            FeatureSet trainInputs, validationInputs;
            using (var extractor = new FeatureExtractor(baseBlob, options.CacheFolder, options.Threads, tuning.Blocks))
            {
                long bytes = ((long)train.Count * options.Views + validation.Count) * extractor.Dimension * sizeof(float);
                if (bytes > MaxBlockInputBytes)
                    throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                        "--unfreeze {0} keeps the input of the first trained block for every image in memory: {1:N0} floats each, {2:F1} GB for these " +
                        "{3} images, more than the {4} GB allowed. Unfreeze fewer blocks (the later blocks' inputs are smaller) or train on fewer images.",
                        tuning.Blocks, extractor.Dimension, bytes / 1e9, train.Count * options.Views + validation.Count, MaxBlockInputBytes / 1e9));
                log?.Invoke($"inputs of the last {tuning.Blocks} blocks ({extractor.Dimension} floats per view) for fine-tuning");
                // Unreadable images were reported with the features; they are left out here again, without a second report.
                trainInputs = extractor.Extract(train, options.Views, _ => { }, imageRead);
                validationInputs = extractor.Extract(validation, 1, _ => { }, imageRead);
            }

            NetworkLayout baseLayout = NetworkLayout.Create(WeightBlob.ReadInfo(baseBlob).Config);
            NetworkLayout layout = NetworkLayout.Create(baseLayout.Config with { NumClasses = classes });
            float[] baseWeights = BaseWeights(baseBlob, baseLayout, layout); // read once for both runs
            var network = new TrainableNetwork(layout, tuning.Blocks, WithClassifier(baseWeights, layout, head));
            log?.Invoke($"fine-tuning {network.TrainedParameterCount:N0} parameters: blocks {network.FirstBlock}-{layout.Blocks.Count - 1}, the head conv and the classifier");
            // An epoch of many blocks on large images takes seconds: say how each went.
            void Epoch(int epoch, double loss, double? accuracy)
                => log?.Invoke(string.Format(CultureInfo.InvariantCulture, "fine-tuning epoch {0}: loss {1:F4}{2}", epoch, loss,
                       accuracy is double a ? string.Format(CultureInfo.InvariantCulture, ", validation accuracy {0:P1}", a) : ""));
            FineTuningResult result = FineTuner.Train(network, trainInputs, validationInputs, tuning with { Threads = options.Threads }, Epoch);
            FeatureSet judged = validationInputs.Rows > 0 ? validationInputs : trainInputs;
            if (refitHead is null)
                return (network, result, judged);

            var refit = new TrainableNetwork(layout, tuning.Blocks, WithClassifier(baseWeights, layout, refitHead));
            log?.Invoke($"fine-tuning again on the training and validation images together, {result.BestEpoch} epochs");
            FineTuner.Train(refit, FeatureSet.Concat(trainInputs, validationInputs), null, tuning with { Threads = options.Threads, StopAfter = result.BestEpoch }, Epoch);
            return (refit, result, judged);
        }

        // Fine-tuning keeps the block inputs of every image; beyond this it asks for fewer blocks or images.
        const long MaxBlockInputBytes = 4_000_000_000;

        /// <summary>
        /// The base blob's weights laid out for <paramref name="layout"/> (its architecture with another class count); the
        /// classifier is left zero.
        /// </summary>
        static float[] BaseWeights(string baseBlob, NetworkLayout baseLayout, NetworkLayout layout)
        {
            using WeightBlob blob = WeightBlob.Read(baseBlob, baseLayout);
            ReadOnlySpan<float> weights = blob.Weights;
            var parameters = new float[layout.WeightFloats];
            for (int i = 0; i < layout.Layers.Count; i++)
            {
                ConvLayer to = layout.Layers[i], from = baseLayout.Layers[i];
                if (to.Kind == LayerKind.Classifier) continue;
                weights.Slice((int)from.WeightOffset, (int)from.WeightLength).CopyTo(parameters.AsSpan((int)to.WeightOffset));
                weights.Slice((int)from.BiasOffset, (int)from.BiasLength).CopyTo(parameters.AsSpan((int)to.BiasOffset));
            }
            return parameters;
        }

        /// <summary>A copy of <paramref name="baseWeights"/> with <paramref name="head"/> as the classifier.</summary>
        static float[] WithClassifier(float[] baseWeights, NetworkLayout layout, LinearHead head)
        {
            var parameters = (float[])baseWeights.Clone();
            head.Weights.CopyTo(parameters, (int)layout.Classifier.WeightOffset);
            head.Bias.CopyTo(parameters, (int)layout.Classifier.BiasOffset);
            return parameters;
        }
    }
}
