using System;
using System.IO;
using System.Linq;
using Xunit;
using static EffNet.Cli.Tests.CliRunner;

namespace EffNet.Cli.Tests
{
    /// <summary>`effnet train`: a report, a blob that classify runs with the class folders' names, and one-line mistakes.</summary>
    public sealed class TrainCommandTests : IClassFixture<CliWorkspace>
    {
        readonly CliWorkspace _work;

        public TrainCommandTests(CliWorkspace work) => _work = work;

        static string Fashion(string split) => CliWorkspace.Repository("tests", "Training.Tests", "Fixtures", "fashion", split);

        /// <summary>A small EfficientNet trained on Fashion-MNIST classes 0-4 (tests/Training.Tests/Fixtures/README.md).</summary>
        static readonly string TrainedBase = CliWorkspace.Repository("tests", "Training.Tests", "Fixtures", "base.effw");

        [Fact]
        public void Train_reports_accuracy_and_a_confusion_matrix_and_writes_a_blob_classify_runs_with_the_folder_names()
        {
            string blob = _work.PathOf("fashion.effw");
            string plot = _work.PathOf("confusion.png");
            var train = Effnet("train", "-w", TrainedBase, "-d", Fashion("train"), "--val", Fashion("test"), "-o", blob,
                               "--cache", _work.PathOf("feature-cache"), "--confusion-png", plot);
            Assert.True(train.Exit == 0, train.Error);
            Assert.Equal("", train.Error);
            Assert.Contains("features: 150 training and 50 validation images", train.Output);
            Assert.Matches(@"head: \d+ epochs in [\d.]+ s, kept epoch \d+: training accuracy [\d.]+ %, validation accuracy [\d.]+ %", train.Output);
            Assert.Contains("confusion matrix (validation images):", train.Output);
            Assert.Contains($"Wrote {blob}: 5 classes (Ankle_boot, Bag, Sandal, Shirt, Sneaker).", train.Output);
            Assert.Contains($"Drew the confusion matrix in {plot}.", train.Output);
            EffNet.Imaging.RgbImage drawn = EffNet.Imaging.ImageDecoder.Decode(plot);
            Assert.Equal((5 * 44 + 29, 5 * 44 + 29), (drawn.Width, drawn.Height));

            var inspect = Effnet("inspect", blob);
            Assert.Contains("5: Ankle_boot, Bag, Sandal, ...", inspect.Output);
            Assert.Contains("head trained on train (150 images, 5 classes) over base.effw", inspect.Output);

            var classify = Effnet("classify", "-w", blob, Path.Combine(Fashion("test"), "Bag"), "-k", "1", "-f", "csv");
            Assert.True(classify.Exit == 0, classify.Error);
            string[] rows = classify.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
            Assert.Equal(10, rows.Length);
            Assert.All(rows, row => Assert.Contains(row.Split(',')[3], new[] { "Ankle_boot", "Bag", "Sandal", "Shirt", "Sneaker" }));
        }

        [Fact]
        public void Train_with_unfreeze_fine_tunes_the_last_blocks_and_writes_a_blob_classify_runs()
        {
            string blob = _work.PathOf("tuned.effw");
            var train = Effnet("train", "-w", TrainedBase, "-d", Fashion("train"), "-o", blob, "--no-cache", "--unfreeze", "1", "--unfreeze-epochs", "3");
            Assert.True(train.Exit == 0, train.Error);
            Assert.Matches(@"fine-tuning [\d,]+ parameters: 3 epochs in [\d.]+ s \(\d+ images/s forward and backward\), kept epoch \d+: training accuracy [\d.]+ %, validation accuracy [\d.]+ %", train.Output);
            Assert.Contains("then fine-tuned", train.Output);

            var inspect = Effnet("inspect", blob);
            Assert.Contains("last block, head conv and classifier fine-tuned on train (120 images, 5 classes) over base.effw", inspect.Output);
            var classify = Effnet("classify", "-w", blob, Path.Combine(Fashion("test"), "Bag"), "-k", "1", "-f", "csv");
            Assert.True(classify.Exit == 0, classify.Error);
        }

        [Fact]
        public void An_unreadable_training_image_is_reported_in_one_line_and_skipped()
        {
            string data = _work.PathOf("with-broken");
            foreach (string label in new[] { "Bag", "Sandal" })
            {
                Directory.CreateDirectory(Path.Combine(data, label));
                foreach (string file in Directory.GetFiles(Path.Combine(Fashion("train"), label)).Take(6))
                    File.Copy(file, Path.Combine(data, label, Path.GetFileName(file)), overwrite: true);
            }
            File.WriteAllText(Path.Combine(data, "Bag", "broken.png"), "not a png");
            var train = Effnet("train", "-w", TrainedBase, "-d", data, "-o", _work.PathOf("broken.effw"), "--no-cache");
            Assert.True(train.Exit == 0, train.Error);
            string[] errors = train.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(errors);
            Assert.StartsWith("effnet: " + Path.Combine(data, "Bag", "broken.png") + ": ", errors[0]);
            Assert.Contains(", 1 failed", train.Output);
        }

        [Fact]
        public void Mistakes_are_one_line_and_write_nothing()
        {
            string output = _work.PathOf("never.effw");
            AssertOneLineUserError(Effnet("train", "-w", _work.B0Blob, "-d", Path.Combine(Fashion("train"), "Bag"), "-o", output), "0 class folder(s)");
            AssertOneLineUserError(Effnet("train", "-w", _work.B0Blob, "-d", _work.PathOf("absent"), "-o", output), "no such folder");
            AssertOneLineUserError(Effnet("train", "-w", _work.B0Blob, "-d", Fashion("train"), "-o", _work.B0Blob), "it is the input file");
            AssertOneLineUserError(Effnet("train", "-w", _work.B0Blob, "-d", Fashion("train"), "-o", output, "--val-split", "1"), "--val-split must be at least 0 and below 1");
            AssertOneLineUserError(Effnet("train", "-w", _work.B0Blob, "-d", Fashion("train"), "-o", output, "--views", "0"), "--views must be at least 1");
            AssertOneLineUserError(Effnet("train", "-w", _work.B0Blob, "-d", Fashion("train"), "-o", output, "--confusion-png", output), "--confusion-png names the output blob");
            AssertOneLineUserError(Effnet("train", "-w", _work.B0Blob, "-d", Fashion("train"), "-o", output, "--unfreeze", "-1"), "--unfreeze must be 0 (the head only) or a number of blocks");
            AssertOneLineUserError(Effnet("train", "-w", TrainedBase, "-d", Fashion("train"), "-o", output, "--unfreeze", "11"), "has 10 blocks: unfreeze 1 to 10 of them, not 11");
            AssertOneLineUserError(Effnet("train", "-w", _work.B0Blob, "-d", Fashion("train"), "-o", output, "--unfreeze", "2", "--unfreeze-rate", "0"), "--unfreeze-rate must be above 0");
            Assert.False(File.Exists(output));
        }
    }
}
