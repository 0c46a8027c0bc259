using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using EffNet.Memory;
using EffNet.Model;
using EffNet.Threading;

namespace EffNet
{
    /// <summary>
    /// The state behind one model instance: its validated weights, shared by every call, and a small pool of activation
    /// arenas, one per inference in flight. Generated classes and <see cref="EfficientNetModel"/> hold one; user code does not need it.
    /// </summary>
    /// <remarks>
    /// <para>Thread safety: any number of threads may run inferences on one session at once. Each call takes an arena of its
    /// own (the pool grows to the peak number of concurrent calls, then allocates nothing); the worker threads serve one
    /// call at a time, and a call that finds them busy runs on its own thread. Every call gives the same bits whichever
    /// arena and threads it got: the kernels' reductions do not depend on how the work is split.</para>
    /// <para>Lifetime: a call holds the session open from <see cref="BeginCall"/> to <see cref="Call.Dispose"/>. <see cref="Dispose"/>
    /// is idempotent and thread-safe; calls that begin after it get <see cref="ObjectDisposedException"/>, and the native
    /// memory and the worker threads are released when the last call in flight ends. A session that is never disposed
    /// releases them when it is collected: the worker threads do not reference it.</para>
    /// </remarks>
    public sealed class ModelSession : IDisposable
    {
        readonly WeightBlob _weights;
        readonly string _modelName;
        readonly long _arenaFloats; // the planned tensors, then one row buffer per thread
        readonly int _threads;

        // Arenas not in use. The one that owns the worker threads waits in _primary, so a lone caller always gets them.
        InferenceContext? _primary;
        readonly Stack<InferenceContext> _spare = new Stack<InferenceContext>();
        readonly List<InferenceContext> _everyContext = new List<InferenceContext>(); // guarded by _spare, like the stack

        int _state;    // 2 x calls in flight, plus DisposedBit once Dispose has been called
        int _released; // 1 once the weights, arenas and threads are freed
        const int DisposedBit = 1, OneCall = 2;

        ModelSession(WeightBlob weights, NetworkLayout layout, long arenaFloats, long rowBufferFloats, string modelName, ModelOptions? options)
        {
            _weights = weights;
            _modelName = modelName;
            options ??= ModelOptions.Default;
            _threads = options.Threads;
            _arenaFloats = arenaFloats + _threads * rowBufferFloats;
            try
            {
                if (_arenaFloats > Array.MaxLength)
                    throw new ArgumentOutOfRangeException(nameof(options), _threads,
                        $"{modelName} with {_threads} threads needs {_arenaFloats:N0} floats of activations and row buffers, more than one span can hold; use fewer threads.");
                weights.PackForKernels(layout);
                _primary = NewContext(_threads > 1 ? new WorkerPool(_threads, options.WorkerSpin) : null, primary: true);
            }
            catch
            {
                weights.Dispose();
                GC.SuppressFinalize(this);
                throw;
            }
        }

        ~ModelSession() => Release(joinWorkers: false);

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

        /// <summary>
        /// Loads weights for a network planned at run time (<see cref="EfficientNetModel"/>), whose layout comes from the
        /// blob's own header; <paramref name="name"/> labels errors.
        /// </summary>
        internal static ModelSession Load(Stream stream, string? name, NetworkLayout layout, long arenaFloats, long rowBufferFloats,
                                          string modelName, ModelOptions? options)
            => new ModelSession(WeightBlob.Read(stream, layout, name), layout, arenaFloats, rowBufferFloats, modelName, options);

        static NetworkLayout LayoutFor(ModelConfig config, ulong generatedFingerprint, string modelName)
        {
            NetworkLayout layout = NetworkLayout.Create(config);
            if (layout.Fingerprint != generatedFingerprint)
                throw new InvalidOperationException(
                    $"{modelName} was generated for fingerprint 0x{generatedFingerprint:x16} but this EffNet.Runtime computes 0x{layout.Fingerprint:x16} " +
                    "for the same attribute: the generator and the runtime come from different versions. Reference one EffNet.Runtime package and rebuild.");
            return layout;
        }

        /// <summary>What the loaded blob says about itself (readable after <see cref="Dispose"/> too).</summary>
        public WeightBlobInfo WeightInfo => _weights.Info;

        /// <summary>The blob's class labels, one per class in class-index order, or null when it has none (a v1 blob, or imported without labels).</summary>
        public IReadOnlyList<string>? Labels => _weights.Info.Metadata.Labels;

        /// <summary>
        /// Starts one inference: holds the session open and takes an arena until the returned call is disposed (generated
        /// code does this with <c>using</c>). Throws <see cref="ObjectDisposedException"/> once the session is disposed.
        /// </summary>
        public Call BeginCall()
        {
            if ((Interlocked.Add(ref _state, OneCall) & DisposedBit) != 0)
            {
                EndCallCount();
                throw Disposed();
            }
            InferenceContext context;
            try
            {
                context = Interlocked.Exchange(ref _primary, null) ?? TakeSpare();
            }
            catch
            {
                EndCallCount();
                throw;
            }
            return new Call(this, context);
        }

        InferenceContext TakeSpare()
        {
            lock (_spare)
                if (_spare.Count > 0) return _spare.Pop();
            // A call in flight on every arena: one more, run on its caller's thread (every split gives the same bits).
            return NewContext(null, primary: false);
        }

        InferenceContext NewContext(WorkerPool? workers, bool primary)
        {
            var context = new InferenceContext(new AlignedBuffer(_arenaFloats), workers, primary);
            lock (_spare) _everyContext.Add(context);
            return context;
        }

        void EndCall(InferenceContext context)
        {
            if (context.IsPrimary) Volatile.Write(ref _primary, context);
            else lock (_spare) _spare.Push(context);
            EndCallCount();
        }

        void EndCallCount()
        {
            if (Interlocked.Add(ref _state, -OneCall) == DisposedBit)
                Release(joinWorkers: true);
        }

        /// <summary>
        /// Ends the session: later calls get <see cref="ObjectDisposedException"/>. Calls in flight finish normally, and the
        /// last of them frees the memory and the threads. Safe to call more than once and from several threads.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Or(ref _state, DisposedBit) == 0)
                Release(joinWorkers: true);
            GC.SuppressFinalize(this);
        }

        // Exactly once: when no call is in flight after Dispose, or from the finalizer (no call can be in flight then: a
        // call holds a reference to the session).
        void Release(bool joinWorkers)
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            InferenceContext[] contexts;
            lock (_spare) contexts = _everyContext.ToArray();
            foreach (InferenceContext context in contexts)
            {
                if (context.Workers is WorkerPool workers)
                {
                    if (joinWorkers) workers.Dispose();
                    else workers.Stop();
                }
                context.Arena.Dispose();
                foreach (AlignedBuffer arena in context.BatchArenas ?? Array.Empty<AlignedBuffer>())
                    arena.Dispose();
            }
            _weights.Dispose();
        }

        ObjectDisposedException Disposed()
            => new ObjectDisposedException(_modelName, $"This {_modelName} has been disposed; load the weights again to run it.");

        /// <summary>Checks a caller's span length; the message says what the model expects.</summary>
        public static void CheckLength(int actual, int expected, string parameter, string what)
        {
            if (actual != expected)
                throw new ArgumentException($"{parameter} must hold exactly {expected} floats ({what}) but holds {actual}.", parameter);
        }

        /// <summary>
        /// Checks that <paramref name="image"/> is one [3, <paramref name="height"/>, <paramref name="width"/>] image of finite
        /// values: a NaN or infinity would make every output NaN. A vectorised scan: 26-29 us for B0's input, about 0.4 % of an inference.
        /// </summary>
        public static void CheckImage(ReadOnlySpan<float> image, int height, int width)
        {
            CheckLength(image.Length, 3 * height * width, nameof(image), "one CHW image, InputLength");
            ThrowIfNonFinite(image, height, width, nameof(image), isBatch: false);
        }

        // The first NaN or infinity of one image or of a batch, named by its image and [c, y, x] (one vectorised scan).
        static void ThrowIfNonFinite(ReadOnlySpan<float> images, int height, int width, string parameter, bool isBatch)
        {
            int index = NonFiniteValues.IndexOf(images);
            if (index < 0) return;
            int imageLength = 3 * height * width;
            string value = NonFiniteValues.Name(images[index]);
            string where = NonFiniteValues.Position(index % imageLength, new[] { 3, height, width });
            throw new ArgumentException(
                (isBatch ? $"images holds {value} in image {index / imageLength} at {where}; every output of that image would be NaN. "
                         : $"image holds {value} at {where}; every output would be NaN. ") +
                "Check the decoding and normalisation that produced it.", parameter);
        }

        /// <summary>One image through a compiled network: the generated class passes a static lambda over its forward pass.</summary>
        public delegate void ImageInference(ReadOnlySpan<float> image, Span<float> output, ReadOnlySpan<float> weights, Span<float> arena, WorkerPool? workers);

        /// <summary>
        /// Checks a batch: <paramref name="images"/> holds N >= 1 finite [3, height, width] images and the outputs
        /// (<paramref name="outputsLength"/> floats) N times <paramref name="outputLength"/>. Returns N.
        /// </summary>
        public static int CheckBatch(ReadOnlySpan<float> images, int height, int width, int outputsLength, int outputLength, string outputName, string what)
        {
            int imageLength = 3 * height * width;
            int count = images.Length / imageLength;
            if (images.Length == 0 || images.Length % imageLength != 0)
                throw new ArgumentException($"images must hold N >= 1 CHW images of exactly {imageLength} floats (InputLength) each, but holds {images.Length}.", nameof(images));
            if (outputsLength != (long)count * outputLength)
                throw new ArgumentException($"{outputName} must hold exactly {(long)count * outputLength} floats ({count} images x {what}) but holds {outputsLength}.", outputName);
            ThrowIfNonFinite(images, height, width, nameof(images), isBatch: true);
            return count;
        }

        /// <summary>
        /// Runs <paramref name="count"/> images through <paramref name="infer"/>, <paramref name="outputs"/> taking
        /// <c>outputs.Length / count</c> floats per image. With at least as many images as threads, whole images are spread
        /// over the threads, each on an arena of its own; fewer images run one after another, each split over the threads.
        /// Either way every image gives the same bits as a single-image call. Allocates nothing once warm.
        /// </summary>
        public unsafe void RunBatch(ReadOnlySpan<float> images, Span<float> outputs, int count, ImageInference infer)
        {
            int imageLength = images.Length / count, outputLength = outputs.Length / count;
            using Call call = BeginCall();
            if (count < _threads || !call.Context.IsPrimary || call.Workers is not WorkerPool pool)
            {
                for (int i = 0; i < count; i++)
                    infer(images.Slice(i * imageLength, imageLength), outputs.Slice(i * outputLength, outputLength), call.Weights, call.Arena, call.Workers);
                return;
            }
            InferenceContext context = call.Context;
            context.BatchArenas ??= NewBatchArenas(); // this context's threads need an arena each
            BatchJob job = context.BatchJob ??= new BatchJob();
            fixed (float* x = images, y = outputs, w = call.Weights)
            {
                job.Prepare(x, imageLength, y, outputLength, w, call.Weights.Length, infer, context);
                try
                {
                    pool.Run(job, count, largest: 1);
                }
                finally
                {
                    job.Clear();
                }
            }
        }

        AlignedBuffer[] NewBatchArenas()
        {
            var arenas = new AlignedBuffer[_threads - 1];
            for (int i = 0; i < arenas.Length; i++)
                arenas[i] = new AlignedBuffer(_arenaFloats);
            return arenas;
        }

        /// <summary>Whole images of a batch on the pool's threads: thread t runs its images on arena t, without splitting them.</summary>
        internal sealed unsafe class BatchJob : IParallelJob
        {
            float* _images, _outputs, _weights;
            int _imageLength, _outputLength, _weightLength;
            ImageInference? _infer;
            InferenceContext? _context;

            public void Prepare(float* images, int imageLength, float* outputs, int outputLength, float* weights, int weightLength,
                                ImageInference infer, InferenceContext context)
            {
                _images = images; _imageLength = imageLength; _outputs = outputs; _outputLength = outputLength;
                _weights = weights; _weightLength = weightLength; _infer = infer; _context = context;
            }

            public void Clear()
            {
                _images = _outputs = _weights = null;
                _infer = null;
                _context = null;
            }

            public void Execute(int start, int end, int worker)
            {
                Span<float> arena = worker == 0 ? _context!.Arena.Span : _context!.BatchArenas![worker - 1].Span;
                for (int i = start; i < end; i++)
                    _infer!(new ReadOnlySpan<float>(_images + (long)i * _imageLength, _imageLength),
                            new Span<float>(_outputs + (long)i * _outputLength, _outputLength),
                            new ReadOnlySpan<float>(_weights, _weightLength), arena, null);
            }
        }

        /// <summary>One inference in flight: the shared weights and this call's arena and threads. Dispose it once.</summary>
        public readonly ref struct Call
        {
            readonly ModelSession _session;
            readonly InferenceContext _context;

            internal Call(ModelSession session, InferenceContext context)
            {
                _session = session;
                _context = context;
                Weights = session._weights.Weights;
                Arena = context.Arena.Span;
            }

            /// <summary>Every packed weight, as the model's layout places them.</summary>
            public ReadOnlySpan<float> Weights { get; }

            /// <summary>This call's activations: the planned tensors, then the row buffers of each thread.</summary>
            public Span<float> Arena { get; }

            /// <summary>The threads this call splits its layers over, or null for the calling thread only.</summary>
            public WorkerPool? Workers => _context.Workers;

            internal InferenceContext Context => _context;

            /// <summary>Returns the arena and lets the session go.</summary>
            public void Dispose() => _session.EndCall(_context);
        }
    }

    /// <summary>
    /// One arena and the threads that split its layers. The primary context, made at load, owns the session's worker
    /// threads; the ones made for concurrent calls run on their caller's thread.
    /// </summary>
    sealed class InferenceContext
    {
        public InferenceContext(AlignedBuffer arena, WorkerPool? workers, bool isPrimary)
        {
            Arena = arena;
            Workers = workers;
            IsPrimary = isPrimary;
        }

        public AlignedBuffer Arena { get; }

        public WorkerPool? Workers { get; }

        public bool IsPrimary { get; }

        /// <summary>Arenas for the worker threads when this (primary) context spreads a batch's images over them; made on first use.</summary>
        public AlignedBuffer[]? BatchArenas { get; set; }

        public ModelSession.BatchJob? BatchJob { get; set; }
    }
}
