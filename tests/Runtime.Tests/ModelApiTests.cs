using System;
using System.IO;
using EffNet.Model;
using Xunit;

namespace EffNet.Runtime.Tests
{
    /// <summary>The generated public surface: zero allocations, argument checks, disposal, features.</summary>
    public sealed class ModelApiTests
    {
        static IEfficientNetModel LoadB0With10Classes() => SyntheticModel.Create(Golden.Load("b0_c10"));

        [Fact]
        public void Run_and_Features_allocate_nothing_after_load()
        {
            using IEfficientNetModel model = LoadB0With10Classes();
            AssertRunAndFeaturesAllocateNothing(model, SyntheticWeights.CreateInput(224));
        }

        /// <summary>Warms <paramref name="model"/> up, then checks that three Run and Features calls allocate no managed memory.</summary>
        internal static void AssertRunAndFeaturesAllocateNothing(IEfficientNetModel model, float[] image)
        {
            var logits = new float[model.NumClasses];
            var features = new float[model.FeatureCount];
            model.Run(image, logits); // first call JIT-compiles
            model.Features(image, features);

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3; i++)
            {
                model.Run(image, logits);
                model.Features(image, features);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);
        }

        [Fact]
        public void Repeated_runs_give_bit_identical_logits()
        {
            using IEfficientNetModel model = LoadB0With10Classes();
            float[] image = SyntheticWeights.CreateInput(224);
            float[] first = new float[10], second = new float[10];
            model.Run(image, first);
            model.Run(image, second);
            Assert.Equal(first, second);
        }

        [Fact]
        public void Features_are_the_pooled_embedding_the_classifier_reads()
        {
            using IEfficientNetModel model = LoadB0With10Classes();
            float[] image = SyntheticWeights.CreateInput(224);
            var features = new float[1280];
            model.Features(image, features);
            float[]? pooled = null;
            model.RunTraced(image, new float[10], (stage, values, h, w, c) => { if (stage == "avgpool") pooled = values.ToArray(); });
            Assert.Equal(pooled, features);
        }

        [Fact]
        public void Wrong_span_lengths_throw_ArgumentException_saying_what_is_expected()
        {
            using IEfficientNetModel model = LoadB0With10Classes();
            var image = new float[B0With10Classes.InputLength];
            var tooShortImage = Assert.Throws<ArgumentException>(() => model.Run(new float[100], new float[10]));
            Assert.Contains("exactly 150528", tooShortImage.Message);
            Assert.Equal("image", tooShortImage.ParamName);
            var wrongLogits = Assert.Throws<ArgumentException>(() => model.Run(image, new float[1000]));
            Assert.Contains("exactly 10", wrongLogits.Message);
            Assert.Throws<ArgumentException>(() => model.Features(image, new float[10]));
        }

        [Fact]
        public void Use_after_dispose_throws_ObjectDisposedException()
        {
            IEfficientNetModel model = LoadB0With10Classes();
            model.Dispose();
            model.Dispose(); // idempotent
            var error = Assert.Throws<ObjectDisposedException>(() => model.Run(new float[B0With10Classes.InputLength], new float[10]));
            Assert.Contains("disposed", error.Message);
        }

        [Fact]
        public void Generated_constants_agree_with_the_shared_layout()
        {
            NetworkLayout layout = NetworkLayout.Create(ModelConfig.ForPhi(3));
            Assert.Equal(B3.ParameterCount, layout.ParameterCount);
            Assert.Equal(B3.MultiplyAdds, layout.MultiplyAdds);
            Assert.Equal(B3.WeightBytes, layout.WeightFloats * 4);
            Assert.Equal(B3.Fingerprint, layout.Fingerprint);
            Assert.Equal((3, 300, 300, 1000, 1536), (B3.InputChannels, B3.InputHeight, B3.InputWidth, B3.NumClasses, B3.FeatureCount));
            Assert.Equal("EfficientNet-B3 @300x300, 1000 classes, symmetric padding", B3.ModelName);
        }

        [Fact]
        public void B0_arena_is_the_two_112x112x32_maps_alive_while_block_0_runs()
        {
            // B0: the expanded maps of the early blocks stream through row buffers, so the arena peaks while block 0 runs,
            // with the stem output and block 0's depthwise output (112 x 112 x 32 floats each) alive together.
            long largest = 112L * 112 * 32 * 4;
            Assert.True(B0.ArenaBytes == 2 * largest, $"B0's arena is {B0.ArenaBytes} bytes, not the {2 * largest} of two 112 x 112 x 32 maps");
            Assert.Equal(5L * 56 * 144 * 4, B0.RowBufferBytesPerThread); // features.3.0's ring: 5 rows of 56 x 144
        }

        [Theory]
        [InlineData(2)]
        [InlineData(3)] // bands and chunks that do not divide the rows evenly
        [InlineData(8)] // more threads than cores, and than the 7x7 layers have rows
        public void One_thread_and_several_give_the_same_logits_within_float_rounding(int threads)
        {
            Golden golden = Golden.Load("b0_c10");
            NetworkLayout layout = NetworkLayout.Create(golden.Config);
            var blob = new MemoryStream();
            WeightBlobWriter.Write(blob, layout, SyntheticWeights.CreateStateDict(layout), golden.BnEps, "threads test");
            float[] image = SyntheticWeights.CreateInput(224);
            float[] single = new float[10], parallel = new float[10];
            blob.Position = 0;
            using (var model = B0With10Classes.Load(blob, new ModelOptions { Threads = 1 })) model.Run(image, single);
            blob.Position = 0;
            using (var model = B0With10Classes.Load(blob, new ModelOptions { Threads = threads })) model.Run(image, parallel);
            for (int i = 0; i < 10; i++)
                Assert.True(Math.Abs(single[i] - parallel[i]) <= 1e-6f, $"logit {i}: {single[i]} on one thread, {parallel[i]} on {threads}");
        }

        [Theory]
        [InlineData(0)]
        [InlineData(-1)]
        [InlineData(257)]
        public void Thread_counts_outside_1_to_256_are_refused(int threads)
        {
            var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ModelOptions { Threads = threads });
            Assert.Contains("1..256", error.Message);
        }

        [Fact]
        public void Missing_weight_file_throws_FileNotFoundException_naming_it()
        {
            var error = Assert.Throws<FileNotFoundException>(() => B0.Load("/nonexistent/b0.effw"));
            Assert.Contains("/nonexistent/b0.effw", error.Message);
        }
    }
}
