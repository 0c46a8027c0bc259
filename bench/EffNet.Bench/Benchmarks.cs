using BenchmarkDotNet.Attributes;

namespace EffNet.Bench
{
    /// <summary>BenchmarkDotNet suite: one inference, batch 1, EffNet against ONNX Runtime on the same weights.</summary>
    [MemoryDiagnoser]
    public class InferenceBenchmarks
    {
        BenchModel _model = null!;
        IEfficientNetModel _ours = null!;
        OnnxEngine _onnx = null!;
        readonly float[] _logits = new float[1000];

        [Params(0, 3, 7)] public int Phi { get; set; }
        [Params(1, 2)] public int Threads { get; set; }

        [GlobalSetup]
        public void Setup()
        {
            _model = new BenchModel(Phi.ToString(System.Globalization.CultureInfo.InvariantCulture));
            _ours = _model.LoadOurs(Threads);
            _onnx = _model.LoadOnnx(Threads);
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _ours.Dispose();
            _onnx.Dispose();
        }

        [Benchmark(Baseline = true)]
        public void OnnxRuntime() => _onnx.Run(_model.Input, _logits);

        [Benchmark]
        public void EffNet() => _ours.Run(_model.Input, _logits);
    }
}
