using System;
using System.IO;
using System.Linq;
using EffNet.Imaging;
using EffNet.Quantization;

namespace EffNet.Bench
{
    /// <summary>
    /// Whole networks in int8 against float32, one thread, alternating rounds: each model quantised (once, kept as
    /// bench/models/NAME.int8.effw) on 100 of the photo-sized images of tools/make_bench_images.py, then timed in its
    /// compiled float32 and int8 classes, and compared on 50 other images (top-1 agreement, top-5 overlap, logit error).
    /// </summary>
    static class Int8Network
    {
        public static int Run(string[] names, int rounds)
        {
            string folder = Path.Combine(BenchModel.RepositoryRoot(), "bench", "images");
            string[] photos = Directory.Exists(folder) ? ImageFiles.Below(folder) : Array.Empty<string>();
            if (photos.Length < 150)
            {
                Console.Error.WriteLine($"{folder} needs 150 images or more: run `/usr/bin/python3 tools/make_bench_images.py` first.");
                return 1;
            }
            string[] calibration = photos.Take(100).ToArray(), held = photos.Skip(100).Take(50).ToArray();
            Console.WriteLine($"int8 against float32, one thread, medians of {rounds} alternating rounds x 5 runs; load average {Timing.LoadAverage()}");
            foreach (string name in names)
            {
                var model = new BenchModel(name);
                string floatBlob = model.Base + ".effw", int8Blob = model.Base + ".int8.effw";
                var preprocessing = Preprocessing.From(WeightBlob.ReadInfo(floatBlob).Metadata.Preprocessing
                    ?? throw new InvalidOperationException($"{floatBlob} records no preprocessing."));
                if (!File.Exists(int8Blob) || File.GetLastWriteTimeUtc(int8Blob) < File.GetLastWriteTimeUtc(floatBlob))
                    Quantizer.Quantize(floatBlob, calibration.Select(path => Tensor(preprocessing, path)), int8Blob);

                using IEfficientNetModel fp32 = model.LoadOurs(1), int8 = model.LoadInt8(1);
                var logits = new float[fp32.NumClasses];
                (var a, var b) = Timing.Alternate(() => fp32.Run(model.Input, logits), () => int8.Run(model.Input, logits), rounds, 5);
                double fp32Ms = Timing.Median(a), int8Ms = Timing.Median(b);

                int agree = 0;
                double overlap = 0, error = 0;
                var x = new float[fp32.NumClasses];
                var y = new float[fp32.NumClasses];
                foreach (string path in held)
                {
                    float[] image = Tensor(preprocessing, path);
                    fp32.Run(image, x);
                    int8.Run(image, y);
                    int[] topX = Top5(x), topY = Top5(y);
                    if (topX[0] == topY[0]) agree++;
                    overlap += topX.Intersect(topY).Count() / 5.0;
                    error += x.Zip(y, (p, q) => Math.Abs(p - q)).Max() / x.Max(Math.Abs);
                }
                Console.WriteLine($"{model.Name}: float32 {fp32Ms:F2} ms, int8 {int8Ms:F2} ms = {int8Ms / fp32Ms:F2}x; blob {new FileInfo(floatBlob).Length:N0} -> " +
                                  $"{new FileInfo(int8Blob).Length:N0} bytes ({(double)new FileInfo(int8Blob).Length / new FileInfo(floatBlob).Length:F2}); on {held.Length} held-out images: " +
                                  $"top-1 agreement {(double)agree / held.Length:P0}, top-5 overlap {overlap / held.Length:P0}, mean max|logit error| / max|logit| {error / held.Length:F3}");
            }
            return 0;
        }

        static float[] Tensor(Preprocessing preprocessing, string path)
        {
            var tensor = new float[preprocessing.TensorLength];
            preprocessing.Apply(path, tensor);
            return tensor;
        }

        static int[] Top5(float[] logits) => Softmax.TopK(logits, 5).Select(c => c.Index).ToArray();
    }
}
