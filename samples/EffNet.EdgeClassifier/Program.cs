// A NativeAOT edge classifier: EfficientNet-B0 compiled to C#, a weight blob and images in, ImageNet labels out.
//
//   dotnet publish samples/EffNet.EdgeClassifier -c Release -r linux-x64 -o out
//   out/edge-classifier b0.effw cat.jpg dog.png
//   out/edge-classifier --repeat 20 b0.effw cat.jpg    also times 20 more inferences of the last image (bench/aot-startup.sh)
using System;
using System.Diagnostics;
using System.IO;
using EffNet;
using EffNet.Imaging;

// --repeat N (first, optional) adds a timing report after the normal output, which stays as it is.
int repeat = 0;
if (args.Length > 0 && args[0] == "--repeat")
{
    if (args.Length < 2 || !int.TryParse(args[1], out repeat) || repeat < 1) return Usage();
    // Not args[2..]: the range operator's GetSubArray brings in array-type reflection that adds ~190 KB to the binary.
    args = args.AsSpan(2).ToArray();
}
if (args.Length < 2) return Usage();

try
{
    var clock = Stopwatch.StartNew();
    using Classifier model = Classifier.Load(args[0]);
    double loadMs = clock.Elapsed.TotalMilliseconds;
    Preprocessing preprocessing = Preprocessing.ForTorchvision(0);
    var image = new float[Classifier.InputLength];
    var logits = new float[Classifier.NumClasses];
    double firstPreprocessMs = 0, firstInferenceMs = 0;

    for (int i = 1; i < args.Length; i++)
    {
        long start = Stopwatch.GetTimestamp();
        preprocessing.Apply(args[i], image);
        long preprocessed = Stopwatch.GetTimestamp();
        model.Run(image, logits);
        long done = Stopwatch.GetTimestamp();
        double ms = Stopwatch.GetElapsedTime(start, done).TotalMilliseconds;
        if (i == 1)
        {
            firstPreprocessMs = Stopwatch.GetElapsedTime(start, preprocessed).TotalMilliseconds;
            firstInferenceMs = Stopwatch.GetElapsedTime(preprocessed, done).TotalMilliseconds;
        }
        Console.WriteLine($"{Path.GetFileName(args[i])} ({ms:F1} ms)");
        foreach (ClassProbability p in Softmax.TopK(logits, 5))
            Console.WriteLine($"  {p.Probability,7:P2}  {ImageNetClasses.Names[p.Index]}");
    }
    double totalMs = clock.Elapsed.TotalMilliseconds;
    Console.WriteLine($"weights loaded in {loadMs:F0} ms; total {totalMs:F0} ms");
    if (repeat > 0)
        ReportSteadyState(model, image, logits, repeat, loadMs, firstPreprocessMs, firstInferenceMs, totalMs);
    return 0;
}
catch (Exception e) when (e is WeightFormatException or ImageFormatException or FileNotFoundException)
{
    Console.Error.WriteLine("edge-classifier: " + e.Message);
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: edge-classifier [--repeat N] <model.effw> <image> [image ...]   (EfficientNet-B0 weights from `effnet import --phi 0`)");
    return 1;
}

/// <summary>
/// Times <paramref name="repeat"/> more inferences of the tensor already in <paramref name="image"/> (no decoding) and
/// prints their median beside the one-off costs of this process, one `key=value` line for scripts to read.
/// Measured in the same native binary, so the start-to-result time can be compared with its own inference time.
/// </summary>
static void ReportSteadyState(Classifier model, float[] image, float[] logits, int repeat,
                              double loadMs, double firstPreprocessMs, double firstInferenceMs, double totalMs)
{
    var times = new double[repeat];
    for (int r = 0; r < repeat; r++)
    {
        long start = Stopwatch.GetTimestamp();
        model.Run(image, logits);
        times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
    Array.Sort(times);
    // InvariantGlobalization (see the project) makes the decimal separator a point on every machine.
    Console.WriteLine($"timing: weight_load_ms={loadMs:F2} first_preprocess_ms={firstPreprocessMs:F2} " +
                      $"first_inference_ms={firstInferenceMs:F2} main_total_ms={totalMs:F2} " +
                      $"inference_median_ms={times[repeat / 2]:F2} inference_min_ms={times[0]:F2} repeats={repeat}");
}

/// <summary>EfficientNet-B0 (torchvision layout, 1000 ImageNet classes).</summary>
[EfficientNet(Phi = 0)]
public partial class Classifier;
