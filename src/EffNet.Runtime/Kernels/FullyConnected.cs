using System;
using System.Runtime.CompilerServices;

namespace EffNet.Kernels
{
    /// <summary>The classifier: output[o] = dot(weights[o, :], input) + bias[o].</summary>
    public static unsafe class FullyConnected
    {
        // Below this many outputs per thread a parallel region costs more than it saves.
        const int MinOutputsPerThread = 64;

        /// <param name="weights">[outFeatures, inFeatures] (torchvision's Linear layout)</param>
        /// <param name="workers">threads to split the outputs over, or null for the calling thread only</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output,
                               int inFeatures, int outFeatures, Threading.WorkerPool? workers = null)
        {
            Check.Length(input.Length, inFeatures, nameof(input));
            Check.Length(weights.Length, (long)inFeatures * outFeatures, nameof(weights));
            Check.Length(bias.Length, outFeatures, nameof(bias));
            Check.Length(output.Length, outFeatures, nameof(output));
            fixed (float* x = input, w = weights, b = bias, y = output)
            {
                var layer = new Layer(x, w, b, y, inFeatures);
                if (workers is null || outFeatures < MinOutputsPerThread * workers.Threads)
                {
                    layer.Outputs(0, outFeatures);
                    return;
                }
                var job = (OutputsJob)(workers.FullyConnectedJob ??= new OutputsJob());
                job.Layer = layer;
                workers.Run(job, outFeatures);
            }
        }

        sealed class OutputsJob : Threading.IParallelJob
        {
            public Layer Layer;

            public void Execute(int start, int end, int worker) => Layer.Outputs(start, end);
        }

        readonly struct Layer(float* x, float* w, float* b, float* y, int inFeatures)
        {
            /// <summary>Outputs [first, end).</summary>
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public void Outputs(int first, int end)
            {
                for (int o = first; o < end; o++)
                    y[o] = Simd.Dot(w + (long)o * inFeatures, x, inFeatures) + b[o];
            }
        }
    }
}
