// EffNet sample: compiles EfficientNet-B0 with one attribute, loads weights, classifies one image and times it.
//
//   dotnet run --project samples/EffNet.Sample -c Release                       # synthetic weights and image
//   dotnet run --project samples/EffNet.Sample -c Release -- --weights b0.effw  # a blob made by `effnet import`
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using EffNet;
using EffNet.Model;

string? weightsPath = args.Length == 2 && args[0] == "--weights" ? args[1] : null;
if (args.Length > 0 && weightsPath is null)
{
    Console.Error.WriteLine("usage: EffNet.Sample [--weights model.effw]");
    return 1;
}

Console.WriteLine($"{Classifier.ModelName}");
Console.WriteLine($"  parameters     {Classifier.ParameterCount:N0}");
Console.WriteLine($"  multiply-adds  {Classifier.MultiplyAdds:N0} per image");
Console.WriteLine($"  weights        {Classifier.WeightBytes:N0} bytes");
Console.WriteLine($"  arena          {Classifier.ArenaBytes:N0} bytes (planned at compile time)");
Console.WriteLine($"  fingerprint    0x{Classifier.Fingerprint:x16}");
Console.WriteLine();

var load = Stopwatch.StartNew();
byte[]? syntheticBlob = null;
if (weightsPath is null)
{
    Console.WriteLine("Weights: SYNTHETIC (seeded pseudo-random, not trained): the classes below mean nothing.");
    Console.WriteLine("         Pass --weights model.effw for real ones.");
    NetworkLayout layout = NetworkLayout.Create(new ModelConfig(Width: 1.0, Depth: 1.0, Resolution: Classifier.InputHeight,
        NumClasses: Classifier.NumClasses, Padding: EfficientNetPadding.Symmetric));
    var blob = new MemoryStream();
    WeightBlobWriter.Write(blob, layout, SyntheticWeights.CreateStateDict(layout), BatchNormFolding.PyTorchEpsilon, "synthetic weights (sample)");
    syntheticBlob = blob.ToArray();
}
else
{
    Console.WriteLine($"Weights: {weightsPath} ({new FileInfo(weightsPath).Length:N0} bytes)");
}
Classifier Load(ModelOptions options)
    => syntheticBlob is null ? Classifier.Load(weightsPath!, options) : Classifier.Load(new MemoryStream(syntheticBlob), options);
using Classifier model = Load(ModelOptions.Default);
Console.WriteLine($"Loaded in {load.Elapsed.TotalMilliseconds:F0} ms.");
Console.WriteLine("Input: SYNTHETIC image (seeded values in [-2, 2], i.e. already normalised).");

float[] image = SyntheticWeights.CreateInput(Classifier.InputHeight);
var logits = new float[Classifier.NumClasses];
model.Run(image, logits);

Console.WriteLine();
Console.WriteLine("Top-5:");
float max = logits[0];
foreach (float v in logits) max = Math.Max(max, v);
double total = 0;
foreach (float v in logits) total += Math.Exp(v - max);
int[] top = Enumerable.Range(0, Classifier.NumClasses).OrderByDescending(i => logits[i]).Take(5).ToArray();
foreach (int i in top)
    Console.WriteLine($"  class {i,4}  logit {logits[i],9:F5}  p {Math.Exp(logits[i] - max) / total:P2}");

// Latency at the default (every core) and on one thread: a few warm-up runs (tiered JIT), then the median of timed runs.
Console.WriteLine();
using (Classifier oneThread = Load(new ModelOptions { Threads = 1 }))
{
    foreach (Classifier timed in new[] { oneThread, model })
    {
        for (int i = 0; i < 60; i++) timed.Run(image, logits); // past tiered compilation
        var times = new double[50];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            timed.Run(image, logits);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        string threads = timed == oneThread ? "1 thread" : $"{ModelOptions.Default.Threads} threads (the default)";
        Console.WriteLine($"Latency (batch 1, {times.Length} runs, {threads}): median {times[times.Length / 2]:F2} ms, best {times[0]:F2} ms");
    }
}
return 0;

/// <summary>EfficientNet-B0, compiled by the EffNet generator from this one line.</summary>
[EfficientNet(Phi = 0)]
public partial class Classifier;
