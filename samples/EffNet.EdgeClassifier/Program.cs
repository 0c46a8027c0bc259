// A NativeAOT edge classifier: EfficientNet-B0 compiled to C#, a weight blob and images in, ImageNet labels out.
//
//   dotnet publish samples/EffNet.EdgeClassifier -c Release -r linux-x64 -o out
//   out/edge-classifier b0.effw cat.jpg dog.png
using System;
using System.Diagnostics;
using System.IO;
using EffNet;
using EffNet.Imaging;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: edge-classifier <model.effw> <image> [image ...]   (EfficientNet-B0 weights from `effnet import --phi 0`)");
    return 1;
}

try
{
    var clock = Stopwatch.StartNew();
    using Classifier model = Classifier.Load(args[0]);
    double loadMs = clock.Elapsed.TotalMilliseconds;
    Preprocessing preprocessing = Preprocessing.ForTorchvision(0);
    var image = new float[Classifier.InputLength];
    var logits = new float[Classifier.NumClasses];

    for (int i = 1; i < args.Length; i++)
    {
        long start = Stopwatch.GetTimestamp();
        preprocessing.Apply(args[i], image);
        model.Run(image, logits);
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        Console.WriteLine($"{Path.GetFileName(args[i])} ({ms:F1} ms)");
        foreach (ClassProbability p in Softmax.TopK(logits, 5))
            Console.WriteLine($"  {p.Probability,7:P2}  {ImageNetClasses.Names[p.Index]}");
    }
    Console.WriteLine($"weights loaded in {loadMs:F0} ms; total {clock.Elapsed.TotalMilliseconds:F0} ms");
    return 0;
}
catch (Exception e) when (e is WeightFormatException or ImageFormatException or FileNotFoundException)
{
    Console.Error.WriteLine("edge-classifier: " + e.Message);
    return 1;
}

/// <summary>EfficientNet-B0 (torchvision layout, 1000 ImageNet classes).</summary>
[EfficientNet(Phi = 0)]
public partial class Classifier;
