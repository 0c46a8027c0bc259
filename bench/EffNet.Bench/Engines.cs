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
    [EfficientNetLite(Phi = 0)] public partial class Lite0;
    [EfficientNetV2(Size = EfficientNetV2Size.S)] public partial class V2S;
    [EfficientNet(Phi = 0, Precision = EfficientNetPrecision.Int8)] public partial class B0Int8;
    [EfficientNet(Phi = 3, Precision = EfficientNetPrecision.Int8)] public partial class B3Int8;
    [EfficientNetLite(Phi = 0, Precision = EfficientNetPrecision.Int8)] public partial class Lite0Int8;
    [EfficientNetV2(Size = EfficientNetV2Size.S, Precision = EfficientNetPrecision.Int8)] public partial class V2SInt8;

    /// <summary>One model's files from tools/make_bench_models.py: checkpoint, ONNX export, input and the reference's logits.</summary>
    public sealed class BenchModel
    {
        /// <summary>The models there are: their architecture and the generated class that runs it.</summary>
        static readonly Dictionary<string, (string Label, ModelConfig Config, Func<string, ModelOptions, IEfficientNetModel> Load,
                                            Func<string, ModelOptions, IEfficientNetModel>? LoadInt8)> Known = new()
        {
            ["b0"] = ("B0", ModelConfig.ForPhi(0), (path, options) => B0.Load(path, options), (path, options) => B0Int8.Load(path, options)),
            ["b3"] = ("B3", ModelConfig.ForPhi(3), (path, options) => B3.Load(path, options), (path, options) => B3Int8.Load(path, options)),
            ["b7"] = ("B7", ModelConfig.ForPhi(7), (path, options) => B7.Load(path, options), null),
            ["lite0"] = ("Lite0", ModelConfig.ForMember(ModelFamily.EfficientNetLite, 0, padding: EfficientNetPadding.Same), (path, options) => Lite0.Load(path, options),
                         (path, options) => Lite0Int8.Load(path, options)),
            ["v2s"] = ("V2-S", ModelConfig.ForMember(ModelFamily.EfficientNetV2S, 0), (path, options) => V2S.Load(path, options), (path, options) => V2SInt8.Load(path, options)),
        };

        /// <param name="name">b0, b3, b7, lite0 or v2s; a bare number n means bn.</param>
        public BenchModel(string name)
        {
            Key = name.All(char.IsDigit) ? "b" + name : name;
            if (!Known.TryGetValue(Key, out var known))
                throw new ArgumentException($"No benchmark model '{name}': use {string.Join(", ", Known.Keys)}.");
            (Label, Config, _load, _loadInt8) = known;
            string folder = Path.Combine(RepositoryRoot(), "bench", "models");
            Base = Path.Combine(folder, Key);
            if (!File.Exists(Base + ".onnx"))
                throw new FileNotFoundException($"{Base}.onnx is missing: run `/usr/bin/python3 tools/make_bench_models.py {Key}` first (needs python3-torchvision).");
            Input = NpyFile.Read(Base + ".input.npy").Data;
            TorchLogits = NpyFile.Read(Base + ".torch.npy").Data;
            if (!File.Exists(Base + ".effw") || File.GetLastWriteTimeUtc(Base + ".effw") < File.GetLastWriteTimeUtc(Base + ".pth"))
                CheckpointImporter.Import(Base + ".pth", Config, Base + ".effw");
        }

        readonly Func<string, ModelOptions, IEfficientNetModel> _load;
        readonly Func<string, ModelOptions, IEfficientNetModel>? _loadInt8;

        /// <summary>"b0", "lite0", "v2s": the files' name.</summary>
        public string Key { get; }

        /// <summary>"B0", "Lite0", "V2-S".</summary>
        public string Label { get; }

        public ModelConfig Config { get; }
        public string Base { get; }
        public float[] Input { get; }
        public float[] TorchLogits { get; }
        public int Resolution => Config.Resolution;
        public string Name => $"{Label}@{Resolution}";

        /// <summary>The B-series Phi (layer breakdown and profiles walk B-series blocks), or -1.</summary>
        public int Phi => Config.Family == ModelFamily.EfficientNet ? Config.Phi : -1;

        public IEfficientNetModel LoadOurs(int threads) => _load(Base + ".effw", new ModelOptions { Threads = threads });

        /// <summary>The int8 quantisation of the model (<c>Base.int8.effw</c>, made by <see cref="Int8Probe"/>) in its compiled int8 class.</summary>
        public IEfficientNetModel LoadInt8(int threads)
            => (_loadInt8 ?? throw new ArgumentException($"The benchmark compiles no int8 class of {Label}."))(Base + ".int8.effw", new ModelOptions { Threads = threads });

        public OnnxEngine LoadOnnx(int threads) => new OnnxEngine(Base + ".onnx", threads, Resolution);

        internal static string RepositoryRoot()
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
