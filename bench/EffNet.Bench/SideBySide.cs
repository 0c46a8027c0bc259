using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;

namespace EffNet.Bench
{
    /// <summary>
    /// The quick ratio run: both engines on the same weights and input, their logits checked against torchvision's first,
    /// then timed in alternating rounds (A then B, B then A, ...) so drift hits both; prints medians and the ratio, and
    /// writes the medians to <c>csvPath</c> when one is given (the input of the `plot` mode).
    /// </summary>
    static class SideBySide
    {
        const int RunsPerRound = 5;

        public static int Run(string[] models, int[] threadCounts, int rounds, string? csvPath = null, bool load = false)
        {
            // --load: one core kept busy by another process for the whole run, as on a machine that does other work.
            using BusyNeighbour? neighbour = load ? BusyNeighbour.Start() : null;
            using LatencyCsv? csv = csvPath == null ? null : new LatencyCsv(csvPath);
            Console.WriteLine($"EffNet vs ONNX Runtime, batch 1, medians of {rounds} alternating rounds x {RunsPerRound} runs; {Environment.ProcessorCount} cores" +
                              (load ? "; one core busy with a neighbour process" : "") + $"; load average {Timing.LoadAverage()}");
            int failures = 0;
            foreach (string name in models)
            {
                var model = new BenchModel(name);
                foreach (int threads in threadCounts)
                {
                    using IEfficientNetModel ours = model.LoadOurs(threads);
                    using OnnxEngine onnx = model.LoadOnnx(threads);
                    var oursLogits = new float[1000];
                    var onnxLogits = new float[1000];
                    ours.Run(model.Input, oursLogits);
                    onnx.Run(model.Input, onnxLogits);
                    double oursDiff = Agreement.RelativeDifference(oursLogits, model.TorchLogits);
                    double onnxDiff = Agreement.RelativeDifference(onnxLogits, model.TorchLogits);
                    if (oursDiff > 1e-4 || onnxDiff > 1e-4)
                    {
                        Console.WriteLine($"{model.Name}: logits disagree with torchvision (EffNet {oursDiff:e2}, ONNX Runtime {onnxDiff:e2} x max|logit|); not timing.");
                        failures++;
                        continue;
                    }

                    (List<double> oursTimes, List<double> onnxTimes) = Timing.Alternate(
                        () => ours.Run(model.Input, oursLogits), () => onnx.Run(model.Input, onnxLogits), rounds, RunsPerRound);
                    double a = Timing.Median(oursTimes), b = Timing.Median(onnxTimes);
                    Console.WriteLine($"{model.Name} threads={threads}: EffNet {a:F2} ms, ONNX Runtime {b:F2} ms, ratio {a / b:F2}  " +
                                      $"[logits vs torchvision: EffNet {oursDiff:e1}, ONNX Runtime {onnxDiff:e1} x max|logit|]");
                    csv?.Add(new LatencyRow(model.Label, model.Resolution, threads, "EffNet", a, oursTimes.Count));
                    csv?.Add(new LatencyRow(model.Label, model.Resolution, threads, "ONNX Runtime", b, onnxTimes.Count));
                }
            }
            Console.WriteLine(Timing.SettleReport());
            if (csvPath != null) Console.WriteLine($"medians written to {csvPath}");
            return failures == 0 ? 0 : 1;
        }
    }
}
