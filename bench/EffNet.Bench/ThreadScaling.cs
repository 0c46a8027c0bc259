using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;

namespace EffNet.Bench
{
    /// <summary>
    /// The thread targets, one row each, EffNet and ONNX Runtime side by side where both apply:
    /// idle scaling (1 vs all cores), one core busy with a neighbour process (default options against one thread under the
    /// same load), two instances in one process, CPU used by an idle instance, and batch throughput.
    /// </summary>
    static class ThreadScaling
    {
        const int RunsPerRound = 5;

        // Logits of the single-threaded timings (the concurrent ones each have their own).
        static readonly float[] Logits = new float[1000];

        /// <param name="rows">which of idle, busy, instances, idlecost and batch to measure</param>
        public static int Run(string[] models, int rounds, IReadOnlyCollection<string> rows)
        {
            int cores = Environment.ProcessorCount;
            Console.WriteLine($"Threads: medians (and p99) of {rounds} alternating rounds x {RunsPerRound} runs; {cores} cores; load average {Timing.LoadAverage()}");
            foreach (string name in models)
            {
                var model = new BenchModel(name);
                if (rows.Contains("idle")) Idle(model, cores, rounds);
                if (rows.Contains("busy"))
                    using (BusyNeighbour.Start())
                        OneCoreBusy(model, cores, rounds);
                if (rows.Contains("instances")) TwoInstances(model, cores, rounds);
                if (rows.Contains("idlecost")) IdleCost(model, cores);
                if (rows.Contains("batch")) Batch(model, cores, rounds);
            }
            Console.WriteLine(Timing.SettleReport());
            return 0;
        }

        // Idle cores: one thread against every core, both engines, all four timed in the same rounds.
        static void Idle(BenchModel model, int cores, int rounds)
        {
            using IEfficientNetModel ours1 = model.LoadOurs(1), oursAll = model.LoadOurs(cores);
            using OnnxEngine onnx1 = model.LoadOnnx(1), onnxAll = model.LoadOnnx(cores);
            var logits = new float[1000];
            List<double>[] times = Timing.Rotate(new Action[]
            {
                () => ours1.Run(model.Input, logits), () => oursAll.Run(model.Input, logits),
                () => onnx1.Run(model.Input, logits), () => onnxAll.Run(model.Input, logits),
            }, rounds, RunsPerRound);
            double[] m = times.Select(Timing.Median).ToArray();
            Console.WriteLine($"{model.Name} idle: EffNet {m[0]:F2} -> {m[1]:F2} ms ({m[0] / m[1]:F2}x), " +
                              $"ONNX Runtime {m[2]:F2} -> {m[3]:F2} ms ({m[2] / m[3]:F2}x); " +
                              $"ratio at {cores} threads {m[1] / m[3]:F2}, at 1 thread {m[0] / m[2]:F2}");
        }

        // One core busy: the default options against one thread, under the same load.
        static void OneCoreBusy(BenchModel model, int cores, int rounds)
        {
            (List<double> one, List<double> oneOnnx) = Alternate(model, 1, rounds);
            (List<double> all, List<double> allOnnx) = Alternate(model, cores, rounds);
            Console.WriteLine($"{model.Name} one core busy: EffNet default median {Timing.Median(all):F2} ms = {Timing.Median(all) / Timing.Median(one):F2}x " +
                              $"and p99 {Percentile(all, 0.99):F2} ms = {Percentile(all, 0.99) / Timing.Median(one):F2}x its one-thread median {Timing.Median(one):F2} ms; " +
                              $"ONNX Runtime {Timing.Median(allOnnx) / Timing.Median(oneOnnx):F2}x and {Percentile(allOnnx, 0.99) / Timing.Median(oneOnnx):F2}x of {Timing.Median(oneOnnx):F2} ms");
        }

        // Two instances with the default options running at once in this process, against one one-thread instance alone.
        static void TwoInstances(BenchModel model, int cores, int rounds)
        {
            int runs = rounds * RunsPerRound;
            double single;
            using (IEfficientNetModel one = model.LoadOurs(1))
                single = Timing.Median(Timing.Samples(() => one.Run(model.Input, Logits), runs));
            double singleOnnx;
            using (OnnxEngine one = model.LoadOnnx(1))
                singleOnnx = Timing.Median(Timing.Samples(() => one.Run(model.Input, Logits), runs));

            Func<(Action, IDisposable)> Ours(int threads) => () =>
            {
                IEfficientNetModel m = model.LoadOurs(threads);
                var logits = new float[1000];
                return (() => m.Run(model.Input, logits), m);
            };
            (double throughput, double worst) = Concurrently(runs, Ours(cores));
            // What the machine gives two instances at all: each on one thread, so nothing is oversubscribed.
            (double ceiling, _) = Concurrently(runs, Ours(1));
            (double throughputOnnx, double worstOnnx) = Concurrently(runs, () =>
            {
                OnnxEngine m = model.LoadOnnx(cores);
                var logits = new float[1000];
                return (() => m.Run(model.Input, logits), m);
            });
            Console.WriteLine($"{model.Name} two default instances at once: EffNet {throughput * single:F2}x the throughput of one one-thread instance, " +
                              $"worst p99/median {worst:F2} (two one-thread instances: {ceiling * single:F2}x); ONNX Runtime {throughputOnnx * singleOnnx:F2}x, {worstOnnx:F2}");
        }

        // Images per ms of two instances each running 'runs' inferences on a thread of its own, and the larger p99/median.
        static (double PerMs, double WorstTail) Concurrently(int runs, Func<(Action Run, IDisposable Owner)> load)
        {
            var instances = Enumerable.Range(0, 2).Select(_ => load()).ToArray();
            foreach (var instance in instances) instance.Run(); // warm
            var times = new List<double>[2];
            var start = new Barrier(3);
            Thread[] threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                times[i] = Timing.Samples(instances[i].Run, runs);
            })).ToArray();
            foreach (Thread thread in threads) thread.Start();
            start.SignalAndWait();
            long begin = Stopwatch.GetTimestamp();
            foreach (Thread thread in threads) thread.Join();
            double wall = Stopwatch.GetElapsedTime(begin).TotalMilliseconds;
            foreach (var instance in instances) instance.Owner.Dispose();
            return (2.0 * runs / wall, times.Max(t => Percentile(t, 0.99) / Timing.Median(t)));
        }

        // CPU the process uses while an instance sits idle after its last inference, in [0, 5 ms) and [5, 100 ms).
        static void IdleCost(BenchModel model, int cores)
        {
            (double first, double later) ours, onnx;
            using (IEfficientNetModel m = model.LoadOurs(cores))
                ours = CpuAfter(() => m.Run(model.Input, Logits));
            using (OnnxEngine m = model.LoadOnnx(cores))
                onnx = CpuAfter(() => m.Run(model.Input, Logits));
            Console.WriteLine($"{model.Name} idle after the last inference: EffNet uses {ours.first:F2} ms CPU in the first 5 ms and {ours.later:F2} ms in the next 95 ms; " +
                              $"ONNX Runtime {onnx.first:F2} ms and {onnx.later:F2} ms");
        }

        static (double First, double Later) CpuAfter(Action run)
        {
            using var process = Process.GetCurrentProcess();
            for (int i = 0; i < 5; i++) run();
            process.Refresh();
            TimeSpan t0 = process.TotalProcessorTime;
            Thread.Sleep(5);
            process.Refresh();
            TimeSpan t1 = process.TotalProcessorTime;
            Thread.Sleep(95);
            process.Refresh();
            TimeSpan t2 = process.TotalProcessorTime;
            return ((t1 - t0).TotalMilliseconds, (t2 - t1).TotalMilliseconds);
        }

        // A batch of 4 images per core through RunBatch, against one thread's single-image rate.
        static void Batch(BenchModel model, int cores, int rounds)
        {
            int images = 4 * cores;
            var batch = new float[images * model.Input.Length];
            for (int i = 0; i < images; i++) model.Input.CopyTo(batch, i * model.Input.Length);
            var logits = new float[images * 1000];
            double single;
            using (IEfficientNetModel one = model.LoadOurs(1))
                single = Timing.Median(Timing.Samples(() => one.Run(model.Input, Logits), rounds * RunsPerRound));
            double perBatch;
            using (IEfficientNetModel all = model.LoadOurs(cores))
            {
                all.RunBatch(batch, logits);
                perBatch = Timing.Median(Timing.Samples(() => all.RunBatch(batch, logits), rounds));
            }
            Console.WriteLine($"{model.Name} batch of {images}: EffNet {images / perBatch * 1000:F1} images/s on {cores} threads = " +
                              $"{images * single / perBatch:F2}x the one-thread single-image rate ({1000 / single:F1} images/s)");
        }

        // Alternating rounds of both engines at one thread count.
        static (List<double> Ours, List<double> Onnx) Alternate(BenchModel model, int threads, int rounds)
        {
            using IEfficientNetModel ours = model.LoadOurs(threads);
            using OnnxEngine onnx = model.LoadOnnx(threads);
            var logits = new float[1000];
            return Timing.Alternate(() => ours.Run(model.Input, logits), () => onnx.Run(model.Input, logits), rounds, RunsPerRound);
        }

        static double Percentile(List<double> values, double p)
        {
            double[] sorted = values.OrderBy(v => v).ToArray();
            return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        }
    }
}
