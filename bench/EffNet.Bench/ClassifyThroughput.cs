using System;
using System.IO;
using System.Linq;
using EffNet.Cli;
using EffNet.Imaging;

namespace EffNet.Bench
{
    /// <summary>
    /// `effnet classify` on a folder of photos, whole command in process (model load, directory walk, decode, preprocess,
    /// inference, jsonl output to nowhere): one thread against every core, alternating rounds, images per second.
    /// tools/make_bench_images.py makes the photos.
    /// </summary>
    static class ClassifyThroughput
    {
        public static int Run(string images, int phi, int rounds)
        {
            var model = new BenchModel(phi.ToString(System.Globalization.CultureInfo.InvariantCulture));
            int count = Directory.Exists(images) ? ImageFiles.Below(Path.GetFullPath(images)).Length : 0; // what classify will take
            if (count == 0)
                throw new DirectoryNotFoundException($"{images} has no images: run `/usr/bin/python3 tools/make_bench_images.py --out {images}` first.");
            int cores = Environment.ProcessorCount;

            Action Classify(int threads) => () =>
            {
                int exit = EffNetCli.Run(["classify", "-w", model.Base + ".effw", images, "-f", "jsonl", "--threads", threads.ToString()], TextWriter.Null, TextWriter.Null);
                if (exit != 0)
                    throw new InvalidOperationException($"effnet classify exited with {exit}");
            };
            Console.WriteLine($"classify {count} images from {images} with {model.Name}: {rounds} alternating rounds; {cores} cores; load average {Timing.LoadAverage()}");
            (var one, var all) = Timing.Alternate(Classify(1), Classify(cores), rounds, runsPerRound: 1);
            double oneRate = count / (Timing.Median(one) / 1000), allRate = count / (Timing.Median(all) / 1000);
            Console.WriteLine($"1 thread: {oneRate:F1} images/s (median {Timing.Median(one) / 1000:F2} s; runs {string.Join(" ", one.Select(t => (t / 1000).ToString("F2")))})");
            Console.WriteLine($"{cores} threads: {allRate:F1} images/s (median {Timing.Median(all) / 1000:F2} s; runs {string.Join(" ", all.Select(t => (t / 1000).ToString("F2")))})");
            // Rounds alternate, so each round's pair saw the same machine; the median of the pairs' ratios resists drift between rounds.
            double pairedRatio = Timing.Median(one.Zip(all, (a, b) => a / b));
            Console.WriteLine($"speed-up {allRate / oneRate:F2}x (ratio of medians), {pairedRatio:F2}x (median of the rounds' ratios); load average after {Timing.LoadAverage()}; " +
                              $"garbage collections {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} (gen 0/1/2), paused {GC.GetTotalPauseDuration().TotalSeconds:F2} s in all");
            return 0;
        }
    }
}
