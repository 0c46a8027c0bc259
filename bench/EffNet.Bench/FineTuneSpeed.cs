using System;
using System.Globalization;
using System.IO;
using System.Linq;
using EffNet.Model;
using EffNet.Training;

namespace EffNet.Bench
{
    /// <summary>
    /// Fine-tuning speed: images per second through the trained blocks forward and backward, with the AdamW step, from
    /// block inputs already computed (as `effnet train --unfreeze K` trains from its cached block inputs).
    /// tools/torch_finetune_speed.py times torch 1.13 on the same shapes; run the two in turn.
    /// </summary>
    static class FineTuneSpeed
    {
        public static int Run(string model, int[] blocks, int[] threads, int epochs)
        {
            NetworkLayout layout = Layout(model);
            float[] weights = WeightBlobWriter.Pack(layout, SyntheticWeights.CreateStateDict(layout), 1e-5f);
            const int Images = 256;
            const double WarmUpSeconds = 2;
            Console.WriteLine($"{layout.Config.DisplayName}: {Images} images a pass, batch 32, {epochs} passes after {WarmUpSeconds} s of warm-up; images/s forward, backward and AdamW step");
            foreach (int k in blocks)
                foreach (int t in threads)
                {
                    var network = new TrainableNetwork(layout, Math.Min(k, layout.Blocks.Count), (float[])weights.Clone());
                    var random = new Random(1);
                    var inputs = new float[Images * network.InputLength];
                    for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() * 2 - 1);
                    var set = new FeatureSet(inputs, Enumerable.Range(0, Images).Select(i => i % network.Classes).ToArray(), network.InputLength);
                    // Warm up for a while, not a number of passes: the JIT recompiles hot methods on a timer.
                    var warming = System.Diagnostics.Stopwatch.StartNew();
                    do FineTuner.Train(network, set, null, new FineTuningOptions { Blocks = k, Epochs = 1, Threads = t });
                    while (warming.Elapsed.TotalSeconds < WarmUpSeconds);
                    FineTuningResult timed = FineTuner.Train(network, set, null, new FineTuningOptions { Blocks = k, Epochs = epochs, Threads = t });
                    Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "--unfreeze {0} ({1:N0} parameters) threads={2}: {3:F0} images/s",
                        network.Layout.Blocks.Count - network.FirstBlock, network.TrainedParameterCount, t, timed.ImagesPerSecond));
                }
            return 0;
        }

        // "fashion": the 64 px base of tests/Training.Tests/Fixtures; "b0": B0 at 224 px; both with 5 classes.
        static NetworkLayout Layout(string model) => model switch
        {
            "fashion" => NetworkLayout.Create(WeightBlob.ReadInfo(Path.Combine("tests", "Training.Tests", "Fixtures", "base.effw")).Config with { NumClasses = 5 }),
            "b0" => NetworkLayout.Create(ModelConfig.ForPhi(0, 224, 5)),
            _ => throw new ArgumentException($"--model {model}: fashion or b0."),
        };
    }
}
