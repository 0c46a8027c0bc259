using System;
using System.IO;
using System.Linq;
using EffNet.Imaging;
using EffNet.Model;
using Xunit;

namespace EffNet.Training.Tests
{
    /// <summary>A small base model (synthetic B0 weights at 64 px, with a recorded preprocessing) and a scratch folder.</summary>
    public sealed class TrainingWorkspace : IDisposable
    {
        public static readonly ModelConfig BaseConfig = new(1.0, 1.0, 64, 1000, EfficientNetPadding.Symmetric);
        public static readonly PreprocessingInfo BasePreprocessing = new(73, 64, PreprocessingInterpolation.Bilinear);

        public TrainingWorkspace()
        {
            Folder = Directory.CreateTempSubdirectory("effnet-train-").FullName;
            BaseBlob = Path.Combine(Folder, "base.effw");
            NetworkLayout layout = NetworkLayout.Create(BaseConfig);
            WeightBlobWriter.Write(BaseBlob, layout, SyntheticWeights.CreateStateDict(layout), 1e-5f, "synthetic base",
                metadata: new WeightBlobMetadata(null, BasePreprocessing, null));
        }

        public string Folder { get; }
        public string BaseBlob { get; }
        public string PathOf(string name) => Path.Combine(Folder, name);

        /// <summary>Fixtures/fashion/{train,test}: 30 and 10 Fashion-MNIST images of each of classes 5-9 (Fixtures/README.md).</summary>
        public static string Fashion(string split) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "fashion", split);

        /// <summary>Fixtures/base.effw: a width-0.5, depth-0.5 EfficientNet at 64 px trained in torch on Fashion-MNIST classes 0-4.</summary>
        public static string TrainedBase => Path.Combine(AppContext.BaseDirectory, "Fixtures", "base.effw");

        public void Dispose() => Directory.Delete(Folder, recursive: true);
    }

    public sealed class HeadTrainingTests : IClassFixture<TrainingWorkspace>
    {
        readonly TrainingWorkspace _work;

        public HeadTrainingTests(TrainingWorkspace work) => _work = work;

        [Fact]
        public void A_blob_with_a_new_classifier_keeps_the_base_features_and_computes_the_heads_logits()
        {
            const int Classes = 3;
            int features = NetworkLayout.Create(TrainingWorkspace.BaseConfig).Classifier.InChannels;
            var random = new Random(7);
            float[] weights = Enumerable.Range(0, Classes * features).Select(_ => (float)(random.NextDouble() - 0.5) * 0.1f).ToArray();
            float[] bias = { 0.5f, -0.25f, 0.125f };
            string[] labels = { "apple", "pear", "plum" };
            string output = _work.PathOf("three.effw");
            WeightBlobWriter.WriteWithClassifier(output, _work.BaseBlob, weights, bias, "test head",
                new WeightBlobMetadata(labels, TrainingWorkspace.BasePreprocessing, null));

            using var baseModel = EfficientNetModel.Load(_work.BaseBlob);
            using var model = EfficientNetModel.Load(output);
            Assert.Equal(Classes, model.NumClasses);
            Assert.Equal(labels, model.Labels);
            Assert.Equal(TrainingWorkspace.BasePreprocessing, model.WeightInfo.Metadata.Preprocessing);

            float[] image = SyntheticWeights.CreateInput(64);
            var baseFeatures = new float[baseModel.FeatureCount];
            var newFeatures = new float[model.FeatureCount];
            baseModel.Features(image, baseFeatures);
            model.Features(image, newFeatures);
            Assert.Equal(baseFeatures, newFeatures); // every layer before the classifier is the base's, bit for bit

            var logits = new float[Classes];
            model.Run(image, logits);
            for (int k = 0; k < Classes; k++)
            {
                double expected = bias[k];
                for (int j = 0; j < features; j++) expected += (double)weights[k * features + j] * newFeatures[j];
                Assert.True(Math.Abs(logits[k] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"logit {k}: {logits[k]} against {expected}");
            }
        }

        [Fact]
        public void A_classifier_of_the_wrong_width_or_holding_NaN_is_refused_and_nothing_is_written()
        {
            string output = _work.PathOf("refused.effw");
            var wrongWidth = Assert.Throws<ArgumentException>(() => WeightBlobWriter.WriteWithClassifier(output, _work.BaseBlob,
                new float[2 * 100], new float[2], "test", WeightBlobMetadata.None));
            Assert.Contains("[classes, 1280]", wrongWidth.Message);
            var nan = new float[2 * 1280];
            nan[5] = float.NaN;
            Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => WeightBlobWriter.WriteWithClassifier(output, _work.BaseBlob,
                nan, new float[2], "test", WeightBlobMetadata.None)).Message);
            Assert.False(File.Exists(output));
        }

        [Fact]
        public void The_linear_head_separates_clusters_and_reads_raw_features_after_folding_the_standardisation()
        {
            // Three clusters in 16 dimensions, far from the origin and of unequal scales, as pooled features are.
            const int Dimension = 16, PerClass = 40;
            var random = new Random(3);
            FeatureSet Clusters(int perClass)
            {
                var rows = new float[3 * perClass * Dimension];
                var classes = new int[3 * perClass];
                for (int c = 0; c < 3; c++)
                    for (int i = 0; i < perClass; i++)
                    {
                        int row = c * perClass + i;
                        classes[row] = c;
                        for (int j = 0; j < Dimension; j++)
                            rows[row * Dimension + j] = 5f + j * 0.5f + (j % 3 == c ? 2f : 0f) * (1 + j % 4) + (float)(random.NextDouble() - 0.5) * (1 + j % 4);
                    }
                return new FeatureSet(rows, classes, Dimension);
            }
            FeatureSet train = Clusters(PerClass), validation = Clusters(10);
            (LinearHead head, HeadTrainingResult result) = LinearHead.Train(train, validation, 3, new HeadTrainingOptions());
            Assert.Equal(1.0, result.ValidationAccuracy);
            Assert.Equal(1.0, head.Accuracy(train));
            Assert.InRange(result.BestEpoch, 1, result.Epochs);
        }

        [Fact]
        public void Class_folders_become_labels_in_sorted_order_and_the_seeded_split_holds_out_a_share_of_every_class()
        {
            LabelledImages data = LabelledImages.FromFolders(TrainingWorkspace.Fashion("train"));
            Assert.Equal(new[] { "Ankle_boot", "Bag", "Sandal", "Shirt", "Sneaker" }, data.Labels);
            Assert.Equal(150, data.Images.Count);
            var (train, validation) = data.Split(0.2, seed: 1);
            Assert.Equal(120, train.Count);
            Assert.Equal(30, validation.Count);
            Assert.All(Enumerable.Range(0, 5), c => Assert.Equal(6, validation.Count(i => i.Class == c)));
            Assert.Equal(validation, data.Split(0.2, seed: 1).Validation);
            Assert.NotEqual(validation, data.Split(0.2, seed: 2).Validation);
            Assert.Empty(train.Intersect(validation));
        }

        [Fact]
        public void A_folder_without_class_folders_or_with_an_empty_class_is_refused_naming_it()
        {
            string flat = _work.PathOf("flat");
            Directory.CreateDirectory(flat);
            File.Copy(Path.Combine(TrainingWorkspace.Fashion("test"), "Bag", "00000.png"), Path.Combine(flat, "a.png"), overwrite: true);
            Assert.Contains("0 class folder(s)", Assert.Throws<ArgumentException>(() => LabelledImages.FromFolders(flat)).Message);
            Directory.CreateDirectory(Path.Combine(flat, "cats"));
            Directory.CreateDirectory(Path.Combine(flat, "dogs"));
            File.Copy(Path.Combine(TrainingWorkspace.Fashion("test"), "Bag", "00000.png"), Path.Combine(flat, "cats", "a.png"), overwrite: true);
            Assert.Contains("no images of class 'dogs'", Assert.Throws<ArgumentException>(() => LabelledImages.FromFolders(flat)).Message);
        }

        [Fact]
        public void A_head_on_the_trained_base_learns_new_fashion_mnist_classes_to_the_stated_accuracy_and_a_second_run_reads_the_cache()
        {
            string cache = _work.PathOf("cache");
            string output = _work.PathOf("fashion.effw");
            var options = new TrainOptions { ValidationFolder = TrainingWorkspace.Fashion("test"), CacheFolder = cache, Threads = 2 };
            TrainingReport first = HeadTrainer.Train(TrainingWorkspace.TrainedBase, TrainingWorkspace.Fashion("train"), output, options, line => Assert.Fail(line));
            Assert.Equal(0, first.CachedImages);
            // Classes the base never saw, from 30 images each: 76 % here (38 of 50); chance is 20 %.
            Assert.True(first.Result.ValidationAccuracy >= 0.70, $"validation accuracy {first.Result.ValidationAccuracy:P1}");

            TrainingReport second = HeadTrainer.Train(TrainingWorkspace.TrainedBase, TrainingWorkspace.Fashion("train"), output, options, line => Assert.Fail(line));
            Assert.Equal(200, second.CachedImages);
            Assert.Equal(first.Result, second.Result); // same features, deterministic training

            // The new blob classifies the held-out images as the report says, with the folder names as labels.
            using var model = EfficientNetModel.Load(output);
            Assert.Equal(first.Labels, model.Labels);
            Preprocessing preprocessing = Preprocessing.From(model.WeightInfo.Metadata.Preprocessing!);
            LabelledImages held = LabelledImages.FromFolders(TrainingWorkspace.Fashion("test"));
            var tensor = new float[model.InputLength];
            var logits = new float[model.NumClasses];
            int right = 0;
            foreach (LabelledImage image in held.Images)
            {
                preprocessing.Apply(image.Path, tensor);
                model.Run(tensor, logits);
                if (Array.IndexOf(logits, logits.Max()) == image.Class) right++;
            }
            Assert.Equal(first.Result.ValidationAccuracy!.Value, right / (double)held.Images.Count, 3);
            Assert.Equal(held.Images.Count, Enumerable.Range(0, 5).Sum(i => Enumerable.Range(0, 5).Sum(j => first.Confusion[i, j])));
        }
    }
}
