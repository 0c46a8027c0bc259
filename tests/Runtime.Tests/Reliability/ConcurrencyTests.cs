using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using EffNet.Model;
using EffNet.Runtime.Tests.Import;
using Xunit;

namespace EffNet.Runtime.Tests.Reliability
{
    /// <summary>
    /// The documented threading model: one instance serves any number of calling threads (concurrent calls share the
    /// weights and each take an arena of their own), and separate instances share nothing mutable. Every concurrent call
    /// must give logits and features bit-identical to the same instance running alone, with one worker thread or two.
    /// </summary>
    public sealed class ConcurrencyTests : IDisposable
    {
        const int Threads = 4, DistinctInputs = 8;
        readonly TempDirectory _temp = new TempDirectory();

        public void Dispose() => _temp.Dispose();

        [Theory]
        [InlineData(1, 500)]
        [InlineData(2, 100)]
        public void Four_threads_with_one_instance_each_give_bit_identical_outputs_to_one_thread(int threadsPerInstance, int inferencesPerThread)
        {
            var options = new ModelOptions { Threads = threadsPerInstance };
            NetworkLayout layout = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 64, 10, EfficientNetPadding.Symmetric));
            string blob = _temp.File("small64.effw");
            WeightBlobWriter.Write(blob, layout, SyntheticWeights.CreateStateDict(layout), BatchNormFolding.PyTorchEpsilon, "concurrency test");

            float[][] inputs = Enumerable.Range(0, DistinctInputs).Select(i => SyntheticWeights.CreateInput(64, name: "thread-input-" + i)).ToArray();
            var expectedLogits = new float[DistinctInputs][];
            var expectedFeatures = new float[DistinctInputs][];
            using (Small64 reference = Small64.Load(blob, options))
                for (int i = 0; i < DistinctInputs; i++)
                {
                    reference.Run(inputs[i], expectedLogits[i] = new float[Small64.NumClasses]);
                    reference.Features(inputs[i], expectedFeatures[i] = new float[Small64.FeatureCount]);
                }

            var start = new Barrier(Threads);
            var failures = new string?[Threads];
            var completed = new int[Threads];
            Thread[] threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                try
                {
                    start.SignalAndWait();
                    using Small64 model = Small64.Load(blob, options); // the documented way: an instance of its own
                    var logits = new float[Small64.NumClasses];
                    var features = new float[Small64.FeatureCount];
                    for (int n = 0; n < inferencesPerThread; n++)
                    {
                        InferAndCompare(model, n, t, inputs, expectedLogits, expectedFeatures, logits, features);
                        completed[t]++;
                    }
                }
                catch (Exception e)
                {
                    failures[t] = $"thread {t}: {e.GetType().Name}: {e.Message}";
                }
            })).ToArray();
            foreach (Thread thread in threads) thread.Start();
            foreach (Thread thread in threads) thread.Join();

            Assert.Equal(Array.Empty<string>(), failures.OfType<string>().ToArray());
            Assert.All(completed, count => Assert.Equal(inferencesPerThread, count));
        }

        [Theory]
        [InlineData(1, 500)]
        [InlineData(2, 500)]
        public void Four_threads_sharing_one_instance_give_bit_identical_outputs_to_one_thread_and_allocate_nothing_once_warm(
            int threadsPerInstance, int inferencesPerThread)
        {
            var options = new ModelOptions { Threads = threadsPerInstance };
            NetworkLayout layout = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 64, 10, EfficientNetPadding.Symmetric));
            string blob = _temp.File("shared64.effw");
            WeightBlobWriter.Write(blob, layout, SyntheticWeights.CreateStateDict(layout), BatchNormFolding.PyTorchEpsilon, "concurrency test");
            float[][] inputs = Enumerable.Range(0, DistinctInputs).Select(i => SyntheticWeights.CreateInput(64, name: "shared-input-" + i)).ToArray();

            using Small64 model = Small64.Load(blob, options);
            var expectedLogits = new float[DistinctInputs][];
            var expectedFeatures = new float[DistinctInputs][];
            for (int i = 0; i < DistinctInputs; i++)
            {
                model.Run(inputs[i], expectedLogits[i] = new float[Small64.NumClasses]);
                model.Features(inputs[i], expectedFeatures[i] = new float[Small64.FeatureCount]);
            }

            var start = new Barrier(Threads);
            var failures = new string?[Threads];
            var completed = new int[Threads];
            var allocatedWhenWarm = new long[Threads];
            Thread[] threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                try
                {
                    var logits = new float[Small64.NumClasses];
                    var features = new float[Small64.FeatureCount];
                    start.SignalAndWait();
                    long warmFrom = 0;
                    for (int n = 0; n < inferencesPerThread; n++)
                    {
                        if (n == inferencesPerThread - 100) warmFrom = GC.GetAllocatedBytesForCurrentThread();
                        InferAndCompare(model, n, t, inputs, expectedLogits, expectedFeatures, logits, features);
                        completed[t]++;
                    }
                    allocatedWhenWarm[t] = GC.GetAllocatedBytesForCurrentThread() - warmFrom;
                }
                catch (Exception e)
                {
                    failures[t] = $"thread {t}: {e.GetType().Name}: {e.Message}";
                }
            })).ToArray();
            foreach (Thread thread in threads) thread.Start();
            foreach (Thread thread in threads) Assert.True(thread.Join(TimeSpan.FromMinutes(5)), "a thread never finished");

            Assert.Equal(Array.Empty<string>(), failures.OfType<string>().ToArray());
            Assert.All(completed, count => Assert.Equal(inferencesPerThread, count));
            Assert.All(allocatedWhenWarm, bytes => Assert.Equal(0, bytes));
        }

        // Inference n of thread t: every fifth one asks for features, the rest for logits; the threads work on different
        // inputs at any moment.
        static void InferAndCompare(Small64 model, int n, int t, float[][] inputs, float[][] expectedLogits, float[][] expectedFeatures,
                                    float[] logits, float[] features)
        {
            int i = (n * 3 + t) % DistinctInputs;
            if (n % 5 == 4)
            {
                model.Features(inputs[i], features);
                if (!BitIdentical(features, expectedFeatures[i]))
                    throw new InvalidOperationException($"features of input {i} differ at inference {n}");
            }
            else
            {
                model.Run(inputs[i], logits);
                if (!BitIdentical(logits, expectedLogits[i]))
                    throw new InvalidOperationException($"logits of input {i} differ at inference {n}");
            }
        }

        static bool BitIdentical(float[] actual, float[] expected)
            => MemoryMarshal.Cast<float, int>(actual).SequenceEqual(MemoryMarshal.Cast<float, int>(expected));
    }
}
