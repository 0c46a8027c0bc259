using System;
using System.IO;
using System.Linq;
using EffNet.Imaging;
using EffNet.Model;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Training.Tests
{
    public sealed class FineTuningTests(TrainingWorkspace work, ITestOutputHelper output) : IClassFixture<TrainingWorkspace>
    {
        [Fact]
        public void Fine_tuning_two_blocks_reaches_the_stated_accuracy_keeps_the_frozen_layers_and_runs_in_inference_as_it_trained()
        {
            string blob = work.PathOf("tuned.effw"), again = work.PathOf("tuned-again.effw");
            var options = new TrainOptions
            {
                ValidationFraction = 0, CacheFolder = work.PathOf("tuning-cache"), Threads = 2,
                FineTuning = new FineTuningOptions { Blocks = 2 },
            };
            TrainingReport report = HeadTrainer.Train(TrainingWorkspace.TrainedBase, TrainingWorkspace.Fashion("train"), blob, options, line => Assert.Fail(line));
            FineTuningResult tuned = Assert.IsType<FineTuningResult>(report.FineTuning);
            Assert.Equal(15, tuned.Epochs);
            Assert.True(tuned.TrainAccuracy >= 0.95, $"training accuracy {tuned.TrainAccuracy:P1}");

            // Classes the base never saw, 30 training images each: 70 % (35 of 50) of the held-out images; chance is 20 %.
            using var model = EfficientNetModel.Load(blob);
            double accuracy = Accuracy(model, TrainingWorkspace.Fashion("test"));
            output.WriteLine($"--unfreeze 2: test accuracy {accuracy:P1}, {tuned.ImagesPerSecond:F0} images/s forward and backward");
            Assert.True(accuracy >= 0.64, $"test accuracy {accuracy:P1}");

            // The layers before the last two blocks are the base's, bit for bit; the trained ones moved.
            NetworkLayout baseLayout = LayoutOf(TrainingWorkspace.TrainedBase), layout = LayoutOf(blob);
            using WeightBlob baseWeights = WeightBlob.Read(TrainingWorkspace.TrainedBase, baseLayout), weights = WeightBlob.Read(blob, layout);
            int firstTrained = layout.Blocks.Count - 2;
            for (int i = 0; i < layout.Layers.Count - 1; i++)
            {
                ConvLayer from = baseLayout.Layers[i], to = layout.Layers[i];
                bool same = baseWeights.Weights.Slice((int)from.WeightOffset, (int)from.WeightLength)
                    .SequenceEqual(weights.Weights.Slice((int)to.WeightOffset, (int)to.WeightLength));
                bool trained = layout.Blocks.Skip(firstTrained).Any(b => b.Layers.Contains(to)) || to == layout.Head.Conv;
                Assert.True(same != trained, $"{to.Module}: {(trained ? "trained but unchanged" : "frozen but changed")}");
            }

            // Inference on the written blob computes the logits the trained network does.
            var network = new TrainableNetwork(layout, 2, weights.Weights.ToArray());
            var tape = network.CreateTape();
            var input = new float[network.InputLength];
            float[] trainedLogits = new float[model.NumClasses], inferred = new float[model.NumClasses];
            Preprocessing preprocessing = Preprocessing.From(model.WeightInfo.Metadata.Preprocessing!);
            var tensor = new float[model.InputLength];
            foreach (LabelledImage image in LabelledImages.FromFolders(TrainingWorkspace.Fashion("test")).Images.Take(5))
            {
                preprocessing.Apply(image.Path, tensor);
                network.InputFrom(model, tensor, input);
                network.Forward(tape, input, trainedLogits);
                model.Run(tensor, inferred);
                for (int k = 0; k < inferred.Length; k++)
                    Assert.True(Math.Abs(inferred[k] - trainedLogits[k]) <= 1e-4 * (1 + Math.Abs(inferred[k])), $"logit {k}: {inferred[k]} inferred, {trainedLogits[k]} in training");
            }

            // Repeatable: a second run (its block inputs from the cache) trains the same weights.
            TrainingReport second = HeadTrainer.Train(TrainingWorkspace.TrainedBase, TrainingWorkspace.Fashion("train"), again, options, line => Assert.Fail(line));
            Assert.Equal(150, second.CachedImages);
            using WeightBlob repeated = WeightBlob.Read(again, layout);
            Assert.True(weights.Weights.SequenceEqual(repeated.Weights), "a second run with the same seed and threads trained other weights");
        }

        [Fact]
        public void Unfreezing_more_blocks_than_the_model_has_a_fused_block_or_an_int8_model_is_refused_with_the_fix()
        {
            NetworkLayout b0 = NetworkLayout.Create(ModelConfig.ForPhi(0, 64, 10));
            var tooMany = Assert.Throws<ArgumentException>(() => new TrainableNetwork(b0, 17, new float[b0.WeightFloats]));
            Assert.Contains("has 16 blocks: unfreeze 1 to 16", tooMany.Message);

            NetworkLayout v2 = NetworkLayout.Create(ModelConfig.ForMember(ModelFamily.EfficientNetV2S, 0, 64, 10));
            int mbconv = v2.Blocks.Count(b => b.Kind == BlockKind.MBConv);
            var fused = Assert.Throws<ArgumentException>(() => new TrainableNetwork(v2, mbconv + 1, new float[v2.WeightFloats]));
            Assert.Contains("Fused-MBConv", fused.Message);
            Assert.Contains($"Unfreeze at most {mbconv} blocks", fused.Message);
            _ = new TrainableNetwork(v2, mbconv, new float[v2.WeightFloats]); // every MBConv block trains

            NetworkLayout int8 = NetworkLayout.Create(ModelConfig.ForPhi(0, 64, 10) with { Precision = EfficientNetPrecision.Int8 });
            Assert.Contains("then quantise", Assert.Throws<ArgumentException>(() => new TrainableNetwork(int8, 2, new float[int8.WeightFloats])).Message);
        }

        static NetworkLayout LayoutOf(string blob) => NetworkLayout.Create(WeightBlob.ReadInfo(blob).Config);

        static double Accuracy(EfficientNetModel model, string folder)
        {
            Preprocessing preprocessing = Preprocessing.From(model.WeightInfo.Metadata.Preprocessing!);
            var tensor = new float[model.InputLength];
            var logits = new float[model.NumClasses];
            LabelledImages images = LabelledImages.FromFolders(folder);
            int right = 0;
            foreach (LabelledImage image in images.Images)
            {
                preprocessing.Apply(image.Path, tensor);
                model.Run(tensor, logits);
                if (Array.IndexOf(logits, logits.Max()) == image.Class) right++;
            }
            return right / (double)images.Images.Count;
        }
    }
}
