using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using EffNet.Kernels;
using EffNet.Model;
using EffNet.Threading;

namespace EffNet.Bench
{
    /// <summary>
    /// Time per layer type: every kernel call of a variant's forward pass replayed alone with its exact shape (best of
    /// several runs, one thread unless asked), summed by type, with the share of the machine's measured FMA peak.
    /// </summary>
    static class LayerBreakdown
    {
        public static int Run(int phi, int threads, bool each = false)
        {
            NetworkLayout layout = NetworkLayout.Create(ModelConfig.ForPhi(phi));
            using WorkerPool? pool = threads > 1 ? new WorkerPool(threads) : null;
            var time = new Dictionary<string, double>();
            var macs = new Dictionary<string, long>();
            string where = "stem";
            void Add(string kind, double ms, long work)
            {
                if (each) Console.WriteLine($"{where,-14} {kind,-20} {ms,7:F3} ms  {work / ms / 1e6,6:F1} GMAC/s");
                time[kind] = time.GetValueOrDefault(kind) + ms;
                macs[kind] = macs.GetValueOrDefault(kind) + work;
            }

            StemLayout stem = layout.Stem;
            float[] image = Data(3 * stem.InHeight * stem.InWidth), stemWeights = Data(27 * stem.OutChannels), stemBias = Data(stem.OutChannels);
            var stemOut = new float[stem.OutHeight * stem.OutWidth * stem.OutChannels];
            Add("stem 3x3", Time(() => StemConvolution.Run(image, 3, stem.InHeight, stem.InWidth,
                stemWeights, stemBias, 3, 2, stem.PadTop, stem.PadLeft,
                stemOut, stem.OutHeight, stem.OutWidth, stem.OutChannels, Activation.SiLU, pool)),
                (long)stem.OutHeight * stem.OutWidth * stem.Conv.WeightLength);
            foreach (BlockLayout b in layout.Blocks)
            {
                where = b.Module;
                int inPixels = b.InHeight * b.InWidth, outPixels = b.OutHeight * b.OutWidth;
                var sums = new float[b.MidChannels];
                float[] dwIn = Data(inPixels * b.MidChannels), dwWeights = Data(b.Kernel * b.Kernel * b.MidChannels), dwBias = Data(b.MidChannels);
                var dwOut = new float[outPixels * b.MidChannels];
                long expandMacs = (long)inPixels * b.InChannels * b.MidChannels, depthwiseMacs = (long)outPixels * b.MidChannels * b.Kernel * b.Kernel;
                if (KernelChoices.StreamsExpansion(b))
                {
                    // As the generated code runs it: one pass through the per-thread row buffers.
                    float[] x = Data(inPixels * b.InChannels), we = Data(b.InChannels * b.MidChannels);
                    var rings = new float[KernelChoices.RowBufferFloats(b.Kernel, b.InWidth, b.MidChannels) * threads];
                    Add($"expand + depthwise {b.Kernel}x{b.Kernel}", Time(() => ExpandDepthwise.Run(x, b.InHeight, b.InWidth, b.InChannels,
                        we, dwBias, b.MidChannels, dwWeights, dwBias, b.Kernel, b.Stride, b.PadTop, b.PadLeft,
                        dwOut, b.OutHeight, b.OutWidth, sums, rings, pool)), expandMacs + depthwiseMacs);
                }
                else
                {
                    if (b.Expand != null)
                        Add("expand 1x1", Pointwise(inPixels, b.InChannels, b.MidChannels, Activation.SiLU, gated: false, pool), expandMacs);
                    Add($"depthwise {b.Kernel}x{b.Kernel}", Time(() => DepthwiseConvolution.Run(dwIn, b.InHeight, b.InWidth, b.MidChannels,
                        dwWeights, dwBias, b.Kernel, b.Stride, b.PadTop, b.PadLeft,
                        dwOut, b.OutHeight, b.OutWidth, Activation.SiLU, sums, pool)), depthwiseMacs);
                }
                float[] gate = new float[b.MidChannels], reduce = Data(b.SqueezeChannels * b.MidChannels), reduceBias = Data(b.SqueezeChannels);
                float[] expandBias = Data(b.MidChannels), squeeze = new float[b.SqueezeChannels];
                Add("squeeze-excitation", Time(() => SqueezeExcitation.Run(gate, outPixels, b.MidChannels,
                    reduce, reduceBias, reduce, expandBias, b.SqueezeChannels, squeeze)), 2L * b.SqueezeChannels * b.MidChannels);
                Add("project 1x1", Pointwise(outPixels, b.MidChannels, b.OutChannels, Activation.None, gated: !KernelChoices.GatesMapInPlace(b), pool), (long)outPixels * b.MidChannels * b.OutChannels);
            }
            HeadLayout head = layout.Head;
            where = "features.8";
            Add("head 1x1", Pointwise(head.Height * head.Width, head.InChannels, head.OutChannels, Activation.SiLU, gated: false, pool), (long)head.Height * head.Width * head.InChannels * head.OutChannels);
            float[] features = new float[head.OutChannels], headOut = Data(head.Height * head.Width * head.OutChannels);
            float[] fc = Data(head.OutChannels * 1000), fcBias = Data(1000), logits = new float[1000];
            Add("pool + classifier", Time(() =>
            {
                GlobalAveragePool.Run(headOut, head.Height * head.Width, head.OutChannels, features);
                FullyConnected.Run(features, fc, fcBias, logits, head.OutChannels, 1000);
            }), (long)head.OutChannels * 1000);

            double total = time.Values.Sum();
            Console.WriteLine($"B{phi} layer types, {threads} thread(s), each kernel call alone (best of 7): total {total:F2} ms");
            Console.WriteLine($"| layer type | ms | share | multiply-adds | GMAC/s |");
            Console.WriteLine($"|---|---|---|---|---|");
            foreach (var (kind, ms) in time.OrderByDescending(p => p.Value))
                Console.WriteLine($"| {kind} | {ms:F2} | {ms / total:P0} | {macs[kind]:N0} | {macs[kind] / ms / 1e6:F1} |");
            return 0;
        }

        static double Pointwise(int pixels, int k, int n, Activation activation, bool gated, WorkerPool? pool)
        {
            float[] x = Data(pixels * k), w = Data(k * n), b = Data(n), y = new float[pixels * n];
            float[] scale = gated ? Data(k) : Array.Empty<float>(), scratch = gated ? new float[k * n] : Array.Empty<float>();
            return Time(() => PointwiseConvolution.Run(x, w, b, y, pixels, k, n, activation, default, scale, scratch, pool));
        }

        static readonly Dictionary<int, float[]> Cache = new();

        static float[] Data(int n)
        {
            if (!Cache.TryGetValue(n, out float[]? a))
            {
                var random = new Random(n);
                a = new float[n];
                for (int i = 0; i < n; i++) a[i] = (float)(random.NextDouble() - 0.5);
                Cache[n] = a;
            }
            return a;
        }

        static readonly byte[]? Flush = Environment.GetEnvironmentVariable("EFFNET_FLUSH") == "1" ? new byte[64 << 20] : null;

        // Filling 64 MB evicts every cache level, as the rest of a forward pass does.
        static double Time(Action action) => Flush is null
            ? Timing.BestOf(action, runs: 7)
            : Timing.BestOf(action, runs: 7, warmups: 0, beforeEach: () => Array.Fill(Flush, (byte)1));
    }
}
