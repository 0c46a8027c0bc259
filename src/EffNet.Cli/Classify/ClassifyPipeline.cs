using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Threading;
using EffNet.Imaging;

namespace EffNet.Cli.Classify
{
    /// <summary>One image's outcome: its top classes, or the one-line reason it failed.</summary>
    sealed record ClassifyResult(ImageInput Input, ClassProbability[]? Top, string? Error);

    /// <summary>
    /// Classifies images on several threads at once and hands the results back in input order. Each worker takes the next
    /// image, decodes, preprocesses and runs it on its own tensor and its own arena (the model gives every concurrent call
    /// one), so decoding one image overlaps the inference of another and every core stays busy. An image that cannot be
    /// read becomes a failed result; anything else stops the run and is rethrown (a bug, not a bad file).
    /// </summary>
    sealed class ClassifyPipeline
    {
        readonly IEfficientNetModel _model;
        readonly Preprocessing _preprocessing;
        readonly int _top;

        public ClassifyPipeline(IEfficientNetModel model, Preprocessing preprocessing, int top)
        {
            _model = model;
            _preprocessing = preprocessing;
            _top = Math.Min(top, model.NumClasses);
        }

        /// <summary>
        /// Runs <paramref name="images"/> on <paramref name="workers"/> threads; <paramref name="onResult"/> sees each result in
        /// input order, on the calling thread, as soon as it and all before it are done.
        /// </summary>
        public void Run(IReadOnlyList<ImageInput> images, int workers, Action<ClassifyResult> onResult)
        {
            var results = new ClassifyResult?[images.Count];
            var gate = new object();
            int next = -1;
            ExceptionDispatchInfo? bug = null;

            void Work()
            {
                var tensor = new float[_model.InputLength];
                var logits = new float[_model.NumClasses];
                int index;
                while ((index = Interlocked.Increment(ref next)) < images.Count && Volatile.Read(ref bug) is null)
                {
                    ClassifyResult result;
                    try
                    {
                        result = Classify(images[index], tensor, logits);
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref bug, ExceptionDispatchInfo.Capture(e), null);
                        lock (gate) Monitor.PulseAll(gate);
                        return;
                    }
                    lock (gate)
                    {
                        results[index] = result;
                        Monitor.PulseAll(gate);
                    }
                }
            }

            var threads = new Thread[Math.Clamp(workers, 1, Math.Max(1, images.Count))];
            for (int t = 0; t < threads.Length; t++)
            {
                threads[t] = new Thread(Work) { IsBackground = true, Name = "effnet classify " + t };
                threads[t].Start();
            }
            try
            {
                for (int i = 0; i < results.Length; i++)
                {
                    ClassifyResult? result;
                    lock (gate)
                    {
                        while ((result = results[i]) is null && bug is null)
                            Monitor.Wait(gate);
                    }
                    bug?.Throw();
                    results[i] = null; // printed: let it go
                    onResult(result!);
                }
            }
            finally
            {
                // A throwing onResult (a closed pipe) stops the workers at their next image.
                Interlocked.Exchange(ref next, images.Count);
                foreach (Thread thread in threads)
                    thread.Join();
            }
        }

        ClassifyResult Classify(ImageInput input, float[] tensor, float[] logits)
        {
            RgbImage image;
            try
            {
                using var stream = new FileStream(input.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
                image = ImageDecoder.Decode(stream, input.DisplayPath);
            }
            catch (ImageFormatException e)
            {
                return new ClassifyResult(input, null, e.Message);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return new ClassifyResult(input, null, $"{input.DisplayPath}: does not exist.");
            }
            catch (Exception e) when (e is UnauthorizedAccessException && Directory.Exists(input.FullPath))
            {
                return new ClassifyResult(input, null, $"{input.DisplayPath}: this is a directory, not an image file.");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new ClassifyResult(input, null, $"{input.DisplayPath}: cannot be read ({e.Message})");
            }
            _preprocessing.Apply(image, tensor);
            _model.Run(tensor, logits);
            return new ClassifyResult(input, Softmax.TopK(logits, _top), null);
        }
    }
}
