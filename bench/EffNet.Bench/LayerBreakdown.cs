using System;
using System.Collections.Generic;
using System.Linq;
using EffNet.Model;
using EffNet.Planning;
using EffNet.Threading;

namespace EffNet.Bench
{
    /// <summary>
    /// Time per layer type: every kernel call of a model's forward plan (the calls its generated code makes) replayed alone
    /// with its exact shapes (best of several runs, one thread unless asked), summed by operation and kernel size (and
    /// precision, for an int8 network).
    /// </summary>
    static class LayerBreakdown
    {
        /// <param name="int8">replay the int8 network's calls, on the weights of bench/models/NAME.int8.effw (`int8 --models NAME` makes it)</param>
        public static int Run(string name, int threads, bool each = false, bool int8 = false)
        {
            var model = new BenchModel(name);
            ModelConfig config = int8 ? model.Config with { Precision = EfficientNetPrecision.Int8 } : model.Config;
            ForwardPlan plan = ForwardPlan.Create(NetworkLayout.Create(config));
            // Workers spin through the arena refill before each run (longer than the default 1 ms), so a call is timed with its
            // workers awake, as it runs inside a forward pass, not waking them from sleep.
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads, TimeSpan.FromMilliseconds(200)) : null;
            // Float32 layers run on any values of a plausible size; int8 layers need the scales a quantiser chose.
            float[] weights = int8 ? QuantizedWeights(model.Base + ".int8.effw", plan.Layout) : Data(checked((int)plan.Layout.WeightFloats), 0.05);
            float[] image = Data(3 * model.Resolution * model.Resolution, 1.0);
            var arena = new float[plan.ArenaFloats + plan.RowBufferFloats * threads];
            float[] start = Data(arena.Length, 0.5);
            var logits = new float[model.Config.NumClasses];
            var time = new Dictionary<string, double>();
            var macs = new Dictionary<string, long>();
            foreach (KernelCall call in plan.ForwardCalls.Append(plan.Classifier))
            {
                string kind = Kind(call);
                long work = MultiplyAdds(call);
                // Every call reads values of a plausible size: the arena is refilled before each run, outside the timing.
                double ms = Timing.BestOf(() => PlanExecutor.RunOne(plan, call, image, weights, arena, logits, pool), runs: 7,
                                          beforeEach: () => start.CopyTo(arena, 0));
                if (each) Console.WriteLine($"{call.Output?.Description ?? call.Weights?.Module ?? "-",-34} {kind,-22} {ms,7:F3} ms  {work / ms / 1e6,6:F1} GMAC/s");
                time[kind] = time.GetValueOrDefault(kind) + ms;
                macs[kind] = macs.GetValueOrDefault(kind) + work;
            }

            double total = time.Values.Sum();
            Console.WriteLine($"{model.Name}{(int8 ? " int8" : "")} layer types, {threads} thread(s), each kernel call alone (best of 7): total {total:F2} ms");
            Console.WriteLine("| layer type | ms | share | multiply-adds | GMAC/s |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var (kind, ms) in time.OrderByDescending(p => p.Value))
                Console.WriteLine($"| {kind} | {ms:F2} | {ms / total:P0} | {macs[kind]:N0} | {macs[kind] / ms / 1e6:F1} |");
            return 0;
        }

        /// <summary>"Depthwise 5x5", "Convolution 3x3", "Project": the operation, with the kernel size where it has one.</summary>
        static string Kind(KernelCall call) => (call.Operation switch
        {
            Operation.Stem or Operation.Convolution or Operation.ConvolutionWinograd or Operation.Depthwise => $"{call.Operation} {call.Weights!.Kernel}x{call.Weights.Kernel}",
            Operation.ExpandDepthwise => $"ExpandDepthwise {call.SecondWeights!.Kernel}x{call.SecondWeights.Kernel}",
            _ => call.Operation.ToString(),
        }) + (call.Weights?.Precision == EfficientNetPrecision.Int8 ? " int8" : "");

        /// <summary>Multiply-accumulates of one call: weights times the pixels they slide over.</summary>
        static long MultiplyAdds(KernelCall call) => call.Operation switch
        {
            Operation.Expand or Operation.Project or Operation.Head => (long)call.Input.Pixels * call.Weights!.WeightLength,
            Operation.Stem or Operation.Convolution or Operation.ConvolutionWinograd or Operation.Depthwise => (long)call.Output!.Pixels * call.Weights!.WeightLength,
            Operation.ExpandDepthwise => (long)call.Input.Pixels * call.Weights!.WeightLength + (long)call.Output!.Pixels * call.SecondWeights!.WeightLength,
            Operation.SqueezeExcitation => call.Weights!.WeightLength + call.SecondWeights!.WeightLength,
            Operation.Classify => call.Weights!.WeightLength,
            _ => call.Input.Pixels * (long)call.Input.Channels, // gate map, pool: one operation per value
        };

        static float[] QuantizedWeights(string path, NetworkLayout layout)
        {
            if (!System.IO.File.Exists(path))
                throw new ArgumentException($"{path} is missing: `int8 --models NAME` quantises the model first.");
            using WeightBlob blob = WeightBlob.Read(path, layout);
            blob.PackForKernels(layout);
            return blob.Weights.ToArray();
        }

        static float[] Data(int n, double scale)
        {
            var random = new Random(n);
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float)((random.NextDouble() - 0.5) * scale);
            return a;
        }
    }
}
