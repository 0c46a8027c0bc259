using System;
using System.Diagnostics;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using EffNet.Model;
using EffNet.Runtime.Tests.Import;
using Xunit;

namespace EffNet.Runtime.Tests.Reliability
{
    /// <summary>
    /// Object lifetime under misuse: an instance the caller drops mid-call while the GC runs, Dispose from several threads,
    /// Dispose during an inference, and instances never disposed. Each runs for thousands of iterations; a failure is a
    /// wrong result, an exception other than ObjectDisposedException, a hang (every wait has a timeout) or a crashed
    /// test host.
    /// </summary>
    [Collection(nameof(LifetimeTests))] // alone: they force collections and count the process's threads
    public sealed class LifetimeTests : IDisposable
    {
        readonly TempDirectory _temp = new TempDirectory();
        readonly string _blob;
        readonly float[] _image = SyntheticWeights.CreateInput(64, name: "lifetime");

        public LifetimeTests()
        {
            NetworkLayout layout = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 64, 10, EfficientNetPadding.Symmetric));
            _blob = _temp.File("small64.effw");
            WeightBlobWriter.Write(_blob, layout, SyntheticWeights.CreateStateDict(layout), 1e-5f, "lifetime test");
        }

        // What an undisturbed instance with this many threads computes (the thread count decides how sums are split).
        (float[] Logits, float[] Features) Expected(ModelOptions options)
        {
            using Small64 reference = Small64.Load(_blob, options);
            var logits = new float[Small64.NumClasses];
            var features = new float[Small64.FeatureCount];
            reference.Run(_image, logits);
            reference.Features(_image, features);
            return (logits, features);
        }

        public void Dispose() => _temp.Dispose();

        [Theory]
        [InlineData(1, 2000)]
        [InlineData(2, 1000)]
        public void One_shot_Load_then_Run_or_Features_calls_give_correct_results_while_another_thread_forces_collections(int threads, int iterations)
        {
            var options = new ModelOptions { Threads = threads };
            (float[] expectedLogits, float[] expectedFeatures) = Expected(options);
            var logits = new float[Small64.NumClasses];
            var features = new float[Small64.FeatureCount];
            using var collector = new Collector();
            var wrong = new System.Collections.Generic.List<string>();
            for (int i = 0; i < iterations; i++)
            {
                // Nothing keeps the instance: it is unreachable as soon as Run or Features has started.
                bool run = i % 2 == 0;
                if (run) Small64.Load(_blob, options).Run(_image, logits);
                else Small64.Load(_blob, options).Features(_image, features);
                float[] actual = run ? logits : features, expected = run ? expectedLogits : expectedFeatures;
                if (!SameBits(actual, expected))
                    wrong.Add($"call {i} ({(run ? "Run" : "Features")}): {actual.Zip(expected).Count(p => p.First != p.Second)} values differ, by up to {actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second))}");
            }
            Assert.True(collector.Collections > 0, "the collector thread never ran");
            Assert.Empty(wrong);
        }

        [Fact]
        public void Dispose_from_four_threads_at_once_is_safe_and_later_calls_throw_ObjectDisposedException()
        {
            const int Iterations = 1000, Disposers = 4;
            var options = new ModelOptions { Threads = 2 };
            Small64? model = null;
            Exception? failure = null;
            using var ready = new Barrier(Disposers + 1);
            Thread[] disposers = Enumerable.Range(0, Disposers).Select(_ => new Thread(() =>
            {
                for (int i = 0; i < Iterations; i++)
                {
                    ready.SignalAndWait();
                    try { model!.Dispose(); }
                    catch (Exception e) { failure ??= e; }
                    ready.SignalAndWait();
                }
            })).ToArray();
            foreach (Thread thread in disposers) thread.Start();
            var logits = new float[Small64.NumClasses];
            for (int i = 0; i < Iterations; i++)
            {
                model = Small64.Load(_blob, options);
                model.Run(_image, logits);
                Assert.True(ready.SignalAndWait(TimeSpan.FromSeconds(30)), "the disposers did not start");
                Assert.True(ready.SignalAndWait(TimeSpan.FromSeconds(30)), "Dispose did not return");
                Assert.Throws<ObjectDisposedException>(() => model.Run(_image, logits));
            }
            foreach (Thread thread in disposers) thread.Join();
            Assert.Null(failure);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        public void Dispose_during_running_inferences_lets_them_finish_and_later_calls_throw_ObjectDisposedException(int threads)
        {
            const int Iterations = 300, Runners = 2;
            var options = new ModelOptions { Threads = threads };
            float[] expected = Expected(options).Logits;
            int completed = 0, refused = 0;
            string? failure = null;
            for (int i = 0; i < Iterations && failure is null; i++)
            {
                Small64 model = Small64.Load(_blob, options);
                using var started = new CountdownEvent(Runners);
                Thread[] runners = Enumerable.Range(0, Runners).Select(_ => new Thread(() =>
                {
                    var logits = new float[Small64.NumClasses];
                    started.Signal();
                    while (true)
                    {
                        try
                        {
                            model.Run(_image, logits);
                        }
                        catch (ObjectDisposedException)
                        {
                            Interlocked.Increment(ref refused);
                            return;
                        }
                        catch (Exception e)
                        {
                            failure ??= $"{e.GetType().Name}: {e.Message}";
                            return;
                        }
                        if (!SameBits(logits, expected)) failure ??= "a call that overlapped Dispose returned wrong logits";
                        Interlocked.Increment(ref completed);
                    }
                })).ToArray();
                foreach (Thread runner in runners) runner.Start();
                started.Wait();
                Thread.SpinWait(Random.Shared.Next(50_000)); // Dispose lands at a different point of an inference each time
                model.Dispose();
                foreach (Thread runner in runners)
                    Assert.True(runner.Join(TimeSpan.FromSeconds(30)), "an inference never returned after Dispose");
            }
            Assert.Null(failure);
            Assert.Equal(Iterations * Runners, refused);
            Assert.True(completed > 0);
        }

        [Fact]
        public void An_instance_that_is_never_disposed_is_collected_and_its_worker_threads_exit()
        {
            if (!OperatingSystem.IsLinux()) return; // counts worker threads by name in /proc
            int before = WorkerThreads();
            WeakReference[] dropped = LoadAndDrop(count: 20, threadsEach: 4, out int whileAlive);
            Assert.Equal(before + 60, whileAlive);
            var deadline = Stopwatch.StartNew();
            while ((dropped.Any(r => r.IsAlive) || WorkerThreads() > before) && deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Thread.Sleep(20);
            }
            Assert.All(dropped, reference => Assert.False(reference.IsAlive, "a dropped instance is still reachable (its workers keep it alive)"));
            Assert.Equal(before, WorkerThreads());
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        WeakReference[] LoadAndDrop(int count, int threadsEach, out int workersWhileAlive)
        {
            var logits = new float[Small64.NumClasses];
            Small64[] models = Enumerable.Range(0, count).Select(_ => Small64.Load(_blob, new ModelOptions { Threads = threadsEach })).ToArray();
            foreach (Small64 model in models) model.Run(_image, logits); // the workers have run a region and are asleep or spinning
            workersWhileAlive = WorkerThreads();
            return models.Select(model => new WeakReference(model)).ToArray();
        }

        // Threads of this process named "EffNet worker N" (Linux shows the first 15 characters of a thread's name).
        static int WorkerThreads()
            => System.IO.Directory.GetDirectories("/proc/self/task")
                .Count(task => ReadName(task).StartsWith("EffNet worker", StringComparison.Ordinal));

        static string ReadName(string task)
        {
            try { return System.IO.File.ReadAllText(System.IO.Path.Combine(task, "comm")); }
            catch (System.IO.IOException) { return ""; } // the thread exited between listing and reading
        }

        // Bit for bit: every thread count and every split gives the same bits, so any difference is a fault (a race in the
        // pool once showed as a single rounding in 1 of 13,000 calls).
        static bool SameBits(float[] actual, float[] expected)
            => System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(actual).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(expected));

        /// <summary>A thread that forces full, compacting collections and runs finalizers until disposed.</summary>
        sealed class Collector : IDisposable
        {
            readonly Thread _thread;
            volatile bool _stop;
            int _collections;

            public Collector()
            {
                _thread = new Thread(() =>
                {
                    while (!_stop)
                    {
                        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                        GC.WaitForPendingFinalizers();
                        Interlocked.Increment(ref _collections);
                        Thread.Sleep(1); // about one collection per millisecond: several inside every inference, and time for them to run
                    }
                }) { IsBackground = true };
                _thread.Start();
            }

            public int Collections => Volatile.Read(ref _collections);

            public void Dispose()
            {
                _stop = true;
                _thread.Join();
            }
        }
    }

    [CollectionDefinition(nameof(LifetimeTests), DisableParallelization = true)]
    public sealed class LifetimeTestsCollection;
}
