using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using EffNet.Import;
using EffNet.Model;
using Microsoft.ML.OnnxRuntime;

namespace EffNet.Bench
{
    // The models the benchmark compares, compiled by our generator.
    [EfficientNet(Phi = 0)] public partial class B0;
    [EfficientNet(Phi = 3)] public partial class B3;
    [EfficientNet(Phi = 7)] public partial class B7;

    /// <summary>One variant's files from tools/make_bench_models.py: checkpoint, ONNX export, input and torchvision's logits.</summary>
    public sealed class BenchModel
    {
        public BenchModel(int phi)
        {
            Phi = phi;
            string folder = Path.Combine(RepositoryRoot(), "bench", "models");
            Base = Path.Combine(folder, "b" + phi);
            if (!File.Exists(Base + ".onnx"))
                throw new FileNotFoundException($"{Base}.onnx is missing: run `/usr/bin/python3 tools/make_bench_models.py {phi}` first (needs python3-torchvision).");
            Input = NpyFile.Read(Base + ".input.npy").Data;
            TorchLogits = NpyFile.Read(Base + ".torch.npy").Data;
            if (!File.Exists(Base + ".effw") || File.GetLastWriteTimeUtc(Base + ".effw") < File.GetLastWriteTimeUtc(Base + ".pth"))
                CheckpointImporter.Import(Base + ".pth", ModelConfig.ForPhi(phi), Base + ".effw");
        }

        public int Phi { get; }
        public string Base { get; }
        public float[] Input { get; }
        public float[] TorchLogits { get; }
        public int Resolution => Scaling.ResolutionOf(Phi);
        public string Name => $"B{Phi}@{Resolution}";

        public IEfficientNetModel LoadOurs(int threads)
        {
            var options = new ModelOptions { Threads = threads };
            return Phi switch
            {
                0 => B0.Load(Base + ".effw", options),
                3 => B3.Load(Base + ".effw", options),
                7 => B7.Load(Base + ".effw", options),
                _ => throw new ArgumentOutOfRangeException(nameof(Phi)),
            };
        }


        public OnnxEngine LoadOnnx(int threads) => new OnnxEngine(Base + ".onnx", threads, Resolution);

        static string RepositoryRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "EffNetGen.sln")))
                    return dir.FullName;
            throw new InvalidOperationException("EffNetGen.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>ONNX Runtime's CPU engine with every graph optimisation on, the given intra-op threads, sequential execution.</summary>
    public sealed class OnnxEngine : IDisposable
    {
        readonly InferenceSession _session;
        readonly long[] _shape;
        readonly string _input, _output;

        public OnnxEngine(string path, int threads, int resolution)
        {
            var options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
            };
            _session = new InferenceSession(path, options);
            _shape = new long[] { 1, 3, resolution, resolution };
            _input = _session.InputMetadata.Keys.Single();
            _output = _session.OutputMetadata.Keys.Single();
        }

        public void Run(float[] image, float[] logits)
        {
            using OrtValue input = OrtValue.CreateTensorValueFromMemory(image, _shape);
            using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(new RunOptions(), new[] { _input }, new[] { input }, new[] { _output });
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(logits);
        }

        public void Dispose() => _session.Dispose();
    }

    static class Agreement
    {
        /// <summary>Max |a - b| relative to max |b|.</summary>
        public static double RelativeDifference(float[] a, float[] b)
        {
            double scale = b.Max(v => Math.Abs(v)), diff = 0;
            for (int i = 0; i < a.Length; i++) diff = Math.Max(diff, Math.Abs(a[i] - (double)b[i]));
            return diff / scale;
        }
    }
}
