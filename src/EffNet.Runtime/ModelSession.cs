using System;
using System.IO;
using EffNet.Memory;
using EffNet.Model;

namespace EffNet
{
    /// <summary>
    /// The state behind one generated model instance: its validated weights and its activation arena.
    /// Generated classes hold one; user code does not need it. Not thread-safe: one instance runs one inference at a time.
    /// </summary>
    public sealed class ModelSession : IDisposable
    {
        readonly WeightBlob _weights;
        readonly AlignedBuffer _arena;
        readonly string _modelName;

        ModelSession(WeightBlob weights, NetworkLayout layout, long arenaFloats, long rowBufferFloats, string modelName, ModelOptions? options)
        {
            _weights = weights;
            weights.PackForKernels(layout);
            _modelName = modelName;
            int threads = (options ?? ModelOptions.Default).Threads;
            // The planned tensors, then one row buffer per thread for the blocks that stream expand into depthwise.
            long floats = arenaFloats + threads * rowBufferFloats;
            if (floats > Array.MaxLength)
            {
                weights.Dispose();
                throw new ArgumentOutOfRangeException(nameof(options), threads,
                    $"{modelName} with {threads} threads needs {floats:N0} floats of activations and row buffers, more than one span can hold; use fewer threads.");
            }
            _arena = new AlignedBuffer(floats);
            Workers = threads > 1 ? new Threading.WorkerPool(threads) : null;
        }

        /// <summary>The instance's worker threads, or null when it runs on the calling thread only.</summary>
        public Threading.WorkerPool? Workers { get; }

        /// <summary>
        /// Loads weights for the model the generator compiled from <paramref name="config"/>. The generator's fingerprint is
        /// compared with the runtime's, so a generator and runtime of different versions cannot silently disagree on layout.
        /// </summary>
        /// <param name="arenaFloats">the planned activation tensors</param>
        /// <param name="rowBufferFloats">row buffers per thread, placed after the planned tensors</param>
        public static ModelSession Load(string path, ModelConfig config, ulong generatedFingerprint, long arenaFloats, long rowBufferFloats,
                                        string modelName, ModelOptions? options = null)
        {
            NetworkLayout layout = LayoutFor(config, generatedFingerprint, modelName);
            return new ModelSession(WeightBlob.Read(path, layout), layout, arenaFloats, rowBufferFloats, modelName, options);
        }

        /// <inheritdoc cref="Load(string, ModelConfig, ulong, long, long, string, ModelOptions?)"/>
        public static ModelSession Load(Stream stream, ModelConfig config, ulong generatedFingerprint, long arenaFloats, long rowBufferFloats,
                                        string modelName, ModelOptions? options = null)
        {
            NetworkLayout layout = LayoutFor(config, generatedFingerprint, modelName);
            return new ModelSession(WeightBlob.Read(stream, layout, (stream as FileStream)?.Name), layout, arenaFloats, rowBufferFloats, modelName, options);
        }

        static NetworkLayout LayoutFor(ModelConfig config, ulong generatedFingerprint, string modelName)
        {
            NetworkLayout layout = NetworkLayout.Create(config);
            if (layout.Fingerprint != generatedFingerprint)
                throw new InvalidOperationException(
                    $"{modelName} was generated for fingerprint 0x{generatedFingerprint:x16} but this EffNet.Runtime computes 0x{layout.Fingerprint:x16} " +
                    "for the same attribute: the generator and the runtime come from different versions. Reference one EffNet.Runtime package and rebuild.");
            return layout;
        }

        /// <summary>What the loaded blob says about itself.</summary>
        public WeightBlobInfo WeightInfo => _weights.Info;

        /// <summary>The blob's weights, with every 1x1 conv's weights in the kernels' panel order.</summary>
        public ReadOnlySpan<float> Weights
        {
            get
            {
                ThrowIfDisposed();
                return _weights.Weights;
            }
        }

        public Span<float> Arena
        {
            get
            {
                ThrowIfDisposed();
                return _arena.Span;
            }
        }

        public void ThrowIfDisposed()
        {
            if (_arena.IsDisposed)
                throw new ObjectDisposedException(_modelName, $"This {_modelName} has been disposed; load the weights again to run it.");
        }

        /// <summary>Checks a caller's span length; the message says what the model expects.</summary>
        public static void CheckLength(int actual, int expected, string parameter, string what)
        {
            if (actual != expected)
                throw new ArgumentException($"{parameter} must hold exactly {expected} floats ({what}) but holds {actual}.", parameter);
        }

        public void Dispose()
        {
            Workers?.Dispose();
            _arena.Dispose();
            _weights.Dispose();
        }
    }
}
