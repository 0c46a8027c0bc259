using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using EffNet.Model;
using EffNet.Runtime.Tests.Import;
using Xunit;

namespace EffNet.Runtime.Tests
{
    /// <summary>
    /// <see cref="EfficientNetModel"/>, planned at load from the blob's header, against the classes the generator compiles
    /// for the same configurations: every output bit must agree, and the API must behave as the generated one does.
    /// </summary>
    public sealed class RuntimeModelTests : IDisposable
    {
        readonly TempDirectory _temp = new TempDirectory();

        public void Dispose() => _temp.Dispose();

        /// <summary>The compiled class of each configuration the theory below checks.</summary>
        static readonly Dictionary<string, (ModelConfig Config, Func<string, ModelOptions, IEfficientNetModel> LoadCompiled)> Models = new()
        {
            ["B0"] = (ModelConfig.ForPhi(0), (path, options) => B0.Load(path, options)),
            ["B3"] = (ModelConfig.ForPhi(3), (path, options) => B3.Load(path, options)),
            ["B0 at 256 px with 10 classes"] = (ModelConfig.ForPhi(0, resolution: 256, numClasses: 10), (path, options) => B0At256With10Classes.Load(path, options)),
            ["B0 with TF-SAME padding"] = (ModelConfig.ForPhi(0, padding: EfficientNetPadding.Same), (path, options) => B0Same.Load(path, options)),
        };

        string WriteBlob(ModelConfig config, string name = "model.effw")
        {
            NetworkLayout layout = NetworkLayout.Create(config);
            string path = _temp.File(name);
            WeightBlobWriter.Write(path, layout, SyntheticWeights.CreateStateDict(layout), BatchNormFolding.PyTorchEpsilon, "runtime model test");
            return path;
        }

        [Theory]
        [InlineData("B0", 1)]
        [InlineData("B0", 2)]
        [InlineData("B3", 1)]
        [InlineData("B3", 2)]
        [InlineData("B0 at 256 px with 10 classes", 1)]
        [InlineData("B0 at 256 px with 10 classes", 2)]
        [InlineData("B0 with TF-SAME padding", 1)]
        [InlineData("B0 with TF-SAME padding", 2)]
        public void Logits_features_and_stage_outputs_are_bit_identical_to_the_generated_class(string model, int threads)
        {
            var (config, loadCompiled) = Models[model];
            string blob = WriteBlob(config);
            var options = new ModelOptions { Threads = threads };
            float[] image = SyntheticWeights.CreateInput(config.Resolution, name: "runtime-model-input");

            using IEfficientNetModel compiled = loadCompiled(blob, options);
            using EfficientNetModel planned = EfficientNetModel.Load(blob, options);

            Assert.Equal(compiled.Config, planned.Config);
            Assert.Equal((compiled.InputLength, compiled.NumClasses, compiled.FeatureCount, compiled.ArenaBytes),
                         (planned.InputLength, planned.NumClasses, planned.FeatureCount, planned.ArenaBytes));
            var (compiledLogits, compiledStages) = RunTraced(compiled, image);
            var (plannedLogits, plannedStages) = RunTraced(planned, image);
            AssertBitIdentical(compiledLogits, plannedLogits, "logits");
            Assert.Equal(compiledStages.Select(s => s.Stage), plannedStages.Select(s => s.Stage));
            for (int i = 0; i < compiledStages.Count; i++)
            {
                Assert.Equal(compiledStages[i].Shape, plannedStages[i].Shape);
                AssertBitIdentical(compiledStages[i].Values, plannedStages[i].Values, compiledStages[i].Stage);
            }
            AssertBitIdentical(Features(compiled, image), Features(planned, image), "features");
        }

        static (float[] Logits, List<(string Stage, (int, int, int) Shape, float[] Values)> Stages) RunTraced(IEfficientNetModel model, float[] image)
        {
            var logits = new float[model.NumClasses];
            var stages = new List<(string, (int, int, int), float[])>();
            model.RunTraced(image, logits, (stage, values, h, w, c) => stages.Add((stage, (h, w, c), values.ToArray())));
            return (logits, stages);
        }

        static float[] Features(IEfficientNetModel model, float[] image)
        {
            var features = new float[model.FeatureCount];
            model.Features(image, features);
            return features;
        }

        static void AssertBitIdentical(float[] expected, float[] actual, string what)
        {
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                    Assert.Fail($"{what}[{i}]: the generated class gives {expected[i]:R}, the runtime model {actual[i]:R}.");
        }

        [Fact]
        public void The_arena_is_planned_as_the_generator_plans_it()
        {
            Assert.Equal(B3.ArenaBytes, EfficientNetModel.PlanArenaBytes(ModelConfig.ForPhi(3)));
            Assert.Equal(B0At256With10Classes.ArenaBytes, EfficientNetModel.PlanArenaBytes(ModelConfig.ForPhi(0, resolution: 256, numClasses: 10)));
        }

        [Fact]
        public void A_blob_read_from_a_stream_that_cannot_seek_gives_the_same_logits_as_from_its_file()
        {
            ModelConfig config = Small64Config;
            string blob = WriteBlob(config);
            float[] image = SyntheticWeights.CreateInput(config.Resolution);
            using EfficientNetModel fromFile = EfficientNetModel.Load(blob, new ModelOptions { Threads = 1 });
            using EfficientNetModel fromPipe = EfficientNetModel.Load(new NonSeekable(File.ReadAllBytes(blob)), new ModelOptions { Threads = 1 });
            float[] expected = new float[10], actual = new float[10];
            fromFile.Run(image, expected);
            fromPipe.Run(image, actual);
            AssertBitIdentical(expected, actual, "logits");
            Assert.Equal(config, fromPipe.Config);
        }

        [Fact]
        public void Run_and_Features_allocate_nothing_after_load()
        {
            // B0: every kind of kernel call, fused expand + depthwise and the in-place gate included.
            using EfficientNetModel model = EfficientNetModel.Load(WriteBlob(ModelConfig.ForPhi(0)), new ModelOptions { Threads = 1 });
            ModelApiTests.AssertRunAndFeaturesAllocateNothing(model, SyntheticWeights.CreateInput(224));
        }

        [Fact]
        public void Wrong_inputs_and_calls_after_dispose_are_refused_as_by_generated_classes()
        {
            EfficientNetModel model = EfficientNetModel.Load(WriteBlob(Small64Config), new ModelOptions { Threads = 1 });
            var image = new float[model.InputLength];
            var shortImage = Assert.Throws<ArgumentException>(() => model.Run(new float[100], new float[10]));
            Assert.Contains($"exactly {3 * 64 * 64}", shortImage.Message);
            Assert.Contains("exactly 10", Assert.Throws<ArgumentException>(() => model.Run(image, new float[1000])).Message);
            Assert.Contains("exactly 640", Assert.Throws<ArgumentException>(() => model.Features(image, new float[10])).Message);
            image[5] = float.NaN;
            Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => model.Run(image, new float[10])).Message);

            model.Dispose();
            model.Dispose(); // idempotent
            Assert.Throws<ObjectDisposedException>(() => model.Run(new float[model.InputLength], new float[10]));
            Assert.Equal(Small64Config, model.WeightInfo.Config); // still readable
        }

        [Fact]
        public void A_blob_whose_header_fingerprint_does_not_match_its_recorded_configuration_is_refused_naming_both()
        {
            string blob = WriteBlob(Small64Config);
            byte[] bytes = File.ReadAllBytes(blob);
            bytes[16] ^= 1; // the fingerprint, first byte
            File.WriteAllBytes(blob, bytes);

            var error = Assert.Throws<WeightFormatException>(() => EfficientNetModel.Load(blob).Dispose());
            Assert.StartsWith(blob + ": its directory records " + Small64Config.DisplayName, error.Message);
            Assert.Contains("offset 16", error.Message);
            Assert.Contains("Import the checkpoint again", error.Message);
        }

        [Fact]
        public void Four_threads_sharing_one_instance_get_the_logits_of_a_lone_caller()
        {
            using EfficientNetModel model = EfficientNetModel.Load(WriteBlob(Small64Config), new ModelOptions { Threads = 2 });
            float[][] inputs = Enumerable.Range(0, 4).Select(i => SyntheticWeights.CreateInput(64, name: "shared-" + i)).ToArray();
            float[][] expected = inputs.Select(input => { var l = new float[10]; model.Run(input, l); return l; }).ToArray();
            var failures = new string?[4];
            Thread[] threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                var logits = new float[10];
                for (int n = 0; n < 50; n++)
                {
                    int i = (t + n) % inputs.Length;
                    model.Run(inputs[i], logits);
                    if (!logits.AsSpan().SequenceEqual(expected[i])) failures[t] ??= $"thread {t}, inference {n}: logits differ";
                }
            })).ToArray();
            foreach (Thread thread in threads) thread.Start();
            foreach (Thread thread in threads) thread.Join();
            Assert.Equal(Array.Empty<string>(), failures.OfType<string>().ToArray());
        }

        static readonly ModelConfig Small64Config = new ModelConfig(0.5, 0.6, 64, 10, EfficientNetPadding.Symmetric);

        sealed class NonSeekable : MemoryStream
        {
            public NonSeekable(byte[] bytes) : base(bytes) { }
            public override bool CanSeek => false;
        }
    }
}
