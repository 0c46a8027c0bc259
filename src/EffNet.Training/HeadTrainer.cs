using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;

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
    }

    /// <summary>What <see cref="HeadTrainer.Train"/> did, for the report.</summary>
    public sealed record TrainingReport(
        IReadOnlyList<string> Labels, int TrainImages, int ValidationImages, int FailedImages, int CachedImages,
        HeadTrainingResult Result, int[,] Confusion, string ConfusionSet, double FeatureSeconds, double TrainSeconds,
        bool RefitWithValidation)
    {
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
                imagesToRead?.Invoke(train.Count + validation.Count);
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
            for (int r = 0; r < judged.Rows; r++)
                confusion[judged.Classes[r], head.Predict(judged.Row(r))]++;

            var provenance = new WeightProvenance(Path.GetFileName(baseBlob), baseSha256, WeightProvenance.CurrentToolVersion, WeightProvenance.Now());
            string source = string.Format(CultureInfo.InvariantCulture, "head trained on {0} ({1} images, {2} classes) over {3}",
                Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataFolder))), train.Count, data.Labels.Count, Path.GetFileName(baseBlob));
            WeightBlobWriter.WriteWithClassifier(output, baseBlob, written.Weights, written.Bias, source,
                new WeightBlobMetadata(data.Labels, preprocessing, provenance));

            return new TrainingReport(data.Labels, train.Count, validation.Count, failed, cached, result, confusion,
                validationFeatures.Rows > 0 ? "validation" : "training", featureSeconds, trainSeconds, refit);
        }
    }
}
