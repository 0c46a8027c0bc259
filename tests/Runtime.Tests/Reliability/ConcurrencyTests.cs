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
    /// The documented threading model: one model instance per calling thread (an instance owns its arena and its worker
    /// threads; instances share only immutable data). Four threads, each loading its own instance from the same file at the
    /// same moment, run 500 inferences each with <c>Threads = 1</c> (the way to serve one instance per thread) and must
    /// produce logits and features bit-identical to a single-threaded run; and four instances that each use a worker pool
    /// must agree bit for bit with one instance of the same thread count running alone.
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
                        int i = (n * 3 + t) % DistinctInputs; // the threads work on different inputs at any moment
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

        static bool BitIdentical(float[] actual, float[] expected)
            => MemoryMarshal.Cast<float, int>(actual).SequenceEqual(MemoryMarshal.Cast<float, int>(expected));
    }
}
