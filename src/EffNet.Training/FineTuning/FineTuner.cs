using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Numerics.Tensors;
using System.Threading.Tasks;
using EffNet.Model;
using EffNet.Training.Kernels;

namespace EffNet.Training
{
    /// <summary>Settings of fine-tuning (<c>effnet train --unfreeze K</c>).</summary>
    public sealed record FineTuningOptions
    {
        /// <summary>How many blocks, counted from the last, are trained with the head conv and the classifier.</summary>
        public int Blocks { get; init; } = 2;
        /// <summary>Passes over the training images at most.</summary>
        public int Epochs { get; init; } = 15;
        public int BatchSize { get; init; } = 32;
        /// <summary>AdamW's rate at the start, cosine-decayed to zero at <see cref="Epochs"/>; small, since the weights start trained.</summary>
        public float LearningRate { get; init; } = 1e-4f;
        /// <summary>AdamW's decoupled weight decay on the weights (not the biases), per step, times the learning rate.</summary>
        public float WeightDecay { get; init; } = 0.01f;
        /// <summary>Stop when the validation accuracy has not improved for this many epochs (with a validation set).</summary>
        public int Patience { get; init; } = 5;
        /// <summary>Stop after this epoch, on the schedule of <see cref="Epochs"/> (a refit to the epoch validation chose).</summary>
        public int? StopAfter { get; init; }
        /// <summary>Seeds the order of the images in each epoch.</summary>
        public int Seed { get; init; }
        /// <summary>Images of a batch computed side by side.</summary>
        public int Threads { get; init; } = Environment.ProcessorCount;
    }

    /// <summary>What fine-tuning did: epochs run, the epoch kept, its accuracies, and the speed of forward plus backward.</summary>
    public sealed record FineTuningResult(int Epochs, int BestEpoch, double TrainAccuracy, double? ValidationAccuracy,
                                          long TrainedParameters, double ImagesPerSecond, double Seconds);

    /// <summary>
    /// Mini-batch AdamW on a <see cref="TrainableNetwork"/>, from the frozen layers' output of each image: the images of a
    /// batch run forward and backward side by side, one thread each with its own tape and gradients, summed in a fixed
    /// order so a run is repeatable for a given thread count. With a validation set it keeps the epoch with the best
    /// validation accuracy and stops <see cref="FineTuningOptions.Patience"/> epochs after it.
    /// </summary>
    static class FineTuner
    {
        const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f;

        public static FineTuningResult Train(TrainableNetwork network, FeatureSet train, FeatureSet? validation, FineTuningOptions options,
                                             Action<int, double, double?>? onEpoch = null)
        {
            if (train.Rows == 0) throw new ArgumentException("No training images: every training image failed to load.");
            if (train.Dimension != network.InputLength)
                throw new ArgumentException($"The training inputs have {train.Dimension} floats each; block {network.FirstBlock}'s input has {network.InputLength}.");
            if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "The batch size must be at least 1.");
            int n = train.Rows, batch = Math.Min(options.BatchSize, n);
            int threads = Math.Clamp(options.Threads, 1, batch);
            var workers = Enumerable.Range(0, threads).Select(_ => new Worker(network)).ToArray();
            (int Offset, int Length, bool Decays)[] ranges = network.TrainedLayers
                .SelectMany(l => new[] { ((int)l.WeightOffset, (int)l.WeightLength, true), ((int)l.BiasOffset, (int)l.BiasLength, false) }).ToArray();
            float[] parameters = network.Parameters;
            var m = new float[parameters.Length];
            var v = new float[parameters.Length];
            float[]? best = null;
            double bestAccuracy = -1, bestLoss = double.MaxValue;
            int bestEpoch = 0, epoch, step = 0;
            int stepsPerEpoch = (n + batch - 1) / batch, totalSteps = options.Epochs * stepsPerEpoch;
            int last = Math.Min(options.Epochs, options.StopAfter ?? options.Epochs);
            var order = Enumerable.Range(0, n).ToArray();
            var random = new Random(options.Seed);
            var clock = new Stopwatch();
            long trainedImages = 0;
            for (epoch = 1; epoch <= last; epoch++)
            {
                random.Shuffle(order);
                double loss = 0;
                clock.Start();
                for (int start = 0; start < n; start += batch)
                {
                    int count = Math.Min(batch, n - start);
                    Parallel.For(0, threads, t =>
                    {
                        Worker w = workers[t];
                        foreach (var range in ranges) Array.Clear(w.Gradients, range.Offset, range.Length);
                        for (int j = t; j < count; j += threads)
                        {
                            int row = order[start + j];
                            network.Forward(w.Tape, train.Row(row), w.Logits);
                            w.Loss += ClassifierBackward.CrossEntropy(w.Logits, train.Classes[row], 1f / count, w.GradLogits);
                            network.Backward(w.Tape, w.GradLogits, w.Gradients);
                        }
                    });
                    float[] sum = workers[0].Gradients;
                    for (int t = 1; t < threads; t++)
                        foreach (var range in ranges)
                            TensorPrimitives.Add(sum.AsSpan(range.Offset, range.Length), workers[t].Gradients.AsSpan(range.Offset, range.Length), sum.AsSpan(range.Offset, range.Length));

                    step++;
                    float rate = options.LearningRate * 0.5f * (1 + MathF.Cos(MathF.PI * (step - 1) / totalSteps));
                    float correction1 = 1 - MathF.Pow(Beta1, step), correction2 = 1 - MathF.Pow(Beta2, step);
                    foreach (var range in ranges)
                        AdamW(parameters.AsSpan(range.Offset, range.Length), sum.AsSpan(range.Offset, range.Length), m.AsSpan(range.Offset, range.Length),
                              v.AsSpan(range.Offset, range.Length), rate, range.Decays ? options.WeightDecay : 0, correction1, correction2);
                    network.PrepareStep();
                    trainedImages += count;
                }
                clock.Stop();
                foreach (Worker w in workers) { loss += w.Loss; w.Loss = 0; }
                loss /= n;

                double? validationAccuracy = null;
                if (validation is { Rows: > 0 })
                {
                    validationAccuracy = Accuracy(network, validation, workers);
                    if (validationAccuracy > bestAccuracy || (validationAccuracy == bestAccuracy && loss < bestLoss))
                    {
                        (bestAccuracy, bestLoss, bestEpoch) = (validationAccuracy.Value, loss, epoch);
                        best = (float[])parameters.Clone();
                    }
                }
                onEpoch?.Invoke(epoch, loss, validationAccuracy);
                if (validation is { Rows: > 0 } && epoch - bestEpoch >= options.Patience)
                    break;
            }
            int ran = Math.Min(epoch, last);
            if (best != null)
            {
                best.CopyTo(parameters, 0);
                network.PrepareStep();
            }
            else bestEpoch = ran;
            return new FineTuningResult(ran, bestEpoch, Accuracy(network, train, workers), validation is { Rows: > 0 } ? bestAccuracy : null,
                network.TrainedParameterCount, trainedImages / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), clock.Elapsed.TotalSeconds);
        }

        /// <summary>The share of <paramref name="set"/>'s rows whose largest logit is their class, the rows split over the workers.</summary>
        static double Accuracy(TrainableNetwork network, FeatureSet set, Worker[] workers)
        {
            int right = 0;
            Parallel.For(0, workers.Length, t =>
            {
                Worker w = workers[t];
                int mine = 0;
                for (int row = t; row < set.Rows; row += workers.Length)
                {
                    network.Forward(w.Tape, set.Row(row), w.Logits);
                    if (TensorPrimitives.IndexOfMax(w.Logits) == set.Classes[row]) mine++;
                }
                System.Threading.Interlocked.Add(ref right, mine);
            });
            return set.Rows == 0 ? 0 : (double)right / set.Rows;
        }

        /// <summary>The predicted class of each row of <paramref name="set"/>.</summary>
        public static int[] Predict(TrainableNetwork network, FeatureSet set)
        {
            var worker = new Worker(network);
            var predicted = new int[set.Rows];
            for (int row = 0; row < set.Rows; row++)
            {
                network.Forward(worker.Tape, set.Row(row), worker.Logits);
                predicted[row] = TensorPrimitives.IndexOfMax(worker.Logits);
            }
            return predicted;
        }

        static void AdamW(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v, float rate, float decay, float c1, float c2)
        {
            for (int i = 0; i < parameter.Length; i++)
            {
                m[i] = Beta1 * m[i] + (1 - Beta1) * gradient[i];
                v[i] = Beta2 * v[i] + (1 - Beta2) * gradient[i] * gradient[i];
                parameter[i] -= rate * (decay * parameter[i] + m[i] / c1 / (MathF.Sqrt(v[i] / c2) + Epsilon));
            }
        }

        /// <summary>One thread's tape, gradients and running loss.</summary>
        sealed class Worker(TrainableNetwork network)
        {
            public TrainableNetwork.Tape Tape { get; } = network.CreateTape();
            public float[] Gradients { get; } = new float[network.Parameters.Length];
            public float[] Logits { get; } = new float[network.Classes];
            public float[] GradLogits { get; } = new float[network.Classes];
            public double Loss { get; set; }
        }
    }
}
