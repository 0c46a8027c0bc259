using System;
using System.IO;
using EffNet.IO;
using EffNet.Model;
using EffNet.Planning;

namespace EffNet
{
    /// <summary>
    /// An EfficientNet built at run time from what a weight blob says about itself: any blob <c>effnet import</c> writes
    /// (B0..B7, any resolution, class count and padding) runs without compiling a class for it. It plans the arena from the
    /// same layout and runs the same kernels in the same order as the class <c>[EfficientNet]</c> compiles for that
    /// configuration, so for the same blob its logits and features are bit-identical to that class's.
    /// </summary>
    /// <remarks>
    /// <para>Thread safety and lifetime are those of generated classes: concurrent calls share the weights and each take
    /// an arena of their own; <see cref="Dispose"/> frees the memory and the worker threads once the calls in flight end.
    /// Inference allocates nothing.</para>
    /// <para>NativeAOT-compatible: no reflection and no code generation at run time. A compiled class remains the way to
    /// fix the architecture at build time (its sizes are constants, and a blob for another model is refused at load).</para>
    /// </remarks>
    public sealed class EfficientNetModel : IEfficientNetModel
    {
        readonly ModelSession _session;
        readonly ForwardPlan _plan;

        // One image of a batch; made once so that a batch allocates nothing.
        readonly ModelSession.ImageInference _classifyOne, _featuresOne;

        EfficientNetModel(ModelSession session, ForwardPlan plan)
        {
            _session = session;
            _plan = plan;
            _classifyOne = (image, output, weights, arena, workers) =>
            {
                PlanExecutor.Forward(_plan, image, weights, arena, workers, null);
                PlanExecutor.Classify(_plan, weights, arena, output, workers);
            };
            _featuresOne = (image, output, weights, arena, workers) =>
            {
                PlanExecutor.Forward(_plan, image, weights, arena, workers, null);
                arena.Slice((int)_plan.Features.Offset, (int)_plan.Features.Floats).CopyTo(output);
            };
        }

        /// <summary>Loads a weight blob (`effnet import`) and plans the network its header describes.</summary>
        /// <param name="path">The weight blob; a pipe or FIFO works too (it is opened once and read straight through).</param>
        /// <param name="options">Threads and other run options; by default every core.</param>
        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="WeightFormatException">The file is not a valid weight blob.</exception>
        public static EfficientNetModel Load(string path, ModelOptions? options = null)
        {
            using FileStream file = WeightBlob.OpenFile(path);
            return Load(file, path, options);
        }

        /// <summary>Loads a weight blob from a stream positioned at its first byte (the stream need not seek).</summary>
        /// <param name="weights">The weight blob.</param>
        /// <param name="options">Threads and other run options; by default every core.</param>
        public static EfficientNetModel Load(Stream weights, ModelOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(weights);
            return Load(weights, (weights as FileStream)?.Name, options);
        }

        static EfficientNetModel Load(Stream stream, string? name, ModelOptions? options)
        {
            // The header says which network to plan; then the whole blob is read from its first byte: a stream that can
            // seek goes back, one that cannot (a pipe) gets its header replayed.
            long start = stream.CanSeek ? stream.Position : 0;
            Stream blob = stream.CanSeek ? stream : new ReplayStream(stream);
            WeightBlobInfo info = WeightBlob.ReadInfo(blob, name);
            ForwardPlan plan = ForwardPlan.Create(LayoutOf(info, name));
            if (blob is ReplayStream replay) replay.Replay();
            else stream.Position = start;
            return new EfficientNetModel(
                ModelSession.Load(blob, name, plan.Layout, plan.ArenaFloats, plan.RowBufferFloats, nameof(EfficientNetModel), options), plan);
        }

        /// <summary>The layout of the configuration a blob records, which must reproduce the fingerprint in its header.</summary>
        static NetworkLayout LayoutOf(WeightBlobInfo info, string? name)
        {
            string[] problems = info.Config.Validate();
            if (problems.Length > 0)
                throw new WeightFormatException(name,
                    $"the model configuration in its directory is invalid: {string.Join(" ", problems)} The blob is damaged; import the checkpoint again.");
            NetworkLayout layout = NetworkLayout.Create(info.Config);
            if (layout.Fingerprint != info.Fingerprint && WeightBlob.OtherQuantizationRule(info) is string other)
                throw new WeightFormatException(name, other);
            if (layout.Fingerprint != info.Fingerprint)
                throw new WeightFormatException(name,
                    $"its directory records {info.Config.DisplayName}, whose fingerprint is 0x{layout.Fingerprint:x16}, but the header's (at offset 16) " +
                    $"is 0x{info.Fingerprint:x16}: the blob is damaged or comes from another version of EffNet. Import the checkpoint again with this version.");
            if (layout.WeightFloats > Array.MaxLength)
                throw new WeightFormatException(name,
                    $"{info.Config.DisplayName} has {layout.WeightFloats:N0} floats of weights, more than one span can hold ({Array.MaxLength:N0}); this runtime cannot run it.");
            return layout;
        }

        /// <summary>Bytes of the activation arena a model of <paramref name="config"/> plans (<see cref="ArenaBytes"/> once loaded), without loading weights.</summary>
        public static long PlanArenaBytes(ModelConfig config) => ForwardPlan.Create(NetworkLayout.Create(config)).ArenaFloats * sizeof(float);

        /// <summary>The architecture, as the blob's header records it.</summary>
        public ModelConfig Config => _plan.Layout.Config;

        /// <summary>Every layer's shape and weight offset, the parameter and multiply-add counts and the fingerprint.</summary>
        public NetworkLayout Layout => _plan.Layout;

        /// <summary>Floats in one input image: 3 x resolution x resolution, CHW.</summary>
        public int InputLength => FamilySpec.InputChannels * Config.Resolution * Config.Resolution;

        public int NumClasses => Config.NumClasses;

        public int FeatureCount => _plan.Layout.FeatureCount;

        /// <summary>Bytes of the activation arena, planned at load from tensor lifetimes (as the generator plans it).</summary>
        public long ArenaBytes => _plan.ArenaFloats * sizeof(float);

        /// <summary>Bytes of row buffers each thread adds to the arena, for the blocks whose expand conv streams into the depthwise conv.</summary>
        public long RowBufferBytesPerThread => _plan.RowBufferFloats * sizeof(float);

        /// <summary>What the loaded blob says about itself (readable after <see cref="Dispose"/> too).</summary>
        public WeightBlobInfo WeightInfo => _session.WeightInfo;

        /// <summary>The blob's class labels, one per class in class-index order, or null when it has none.</summary>
        public System.Collections.Generic.IReadOnlyList<string>? Labels => _session.Labels;

        /// <summary>Classifies one image: <see cref="InputLength"/> floats (CHW, normalised) in, <see cref="NumClasses"/> logits out. Allocates nothing.</summary>
        public void Run(ReadOnlySpan<float> image, Span<float> logits) => RunTraced(image, logits, null);

        /// <summary>Like <see cref="Run"/>, and hands the output of every torchvision stage to <paramref name="observer"/> (for checking an import).</summary>
        public void RunTraced(ReadOnlySpan<float> image, Span<float> logits, StageObserver? observer)
        {
            ModelSession.CheckImage(image, Config.Resolution, Config.Resolution);
            ModelSession.CheckLength(logits.Length, NumClasses, nameof(logits), "NumClasses");
            using ModelSession.Call call = _session.BeginCall(); // holds the weights and this call's arena until it returns
            PlanExecutor.Forward(_plan, image, call.Weights, call.Arena, call.Workers, observer);
            PlanExecutor.Classify(_plan, call.Weights, call.Arena, logits, call.Workers);
        }

        /// <summary>The pooled <see cref="FeatureCount"/>-float embedding of one image (the classifier's input). Allocates nothing.</summary>
        public void Features(ReadOnlySpan<float> image, Span<float> features)
        {
            ModelSession.CheckImage(image, Config.Resolution, Config.Resolution);
            ModelSession.CheckLength(features.Length, FeatureCount, nameof(features), "FeatureCount");
            using ModelSession.Call call = _session.BeginCall();
            PlanExecutor.Forward(_plan, image, call.Weights, call.Arena, call.Workers, null);
            call.Arena.Slice((int)_plan.Features.Offset, (int)_plan.Features.Floats).CopyTo(features);
        }

        /// <summary>
        /// The input of block <paramref name="block"/> for one image: the map the frozen layers before it compute, which
        /// fine-tuning (EffNet.Training) trains the blocks from there on from. [height, width, channels] of that block.
        /// </summary>
        internal void BlockInput(ReadOnlySpan<float> image, int block, Span<float> output)
        {
            ModelSession.CheckImage(image, Config.Resolution, Config.Resolution);
            Planning.PlannedTensor input = _plan.Blocks[block].Input;
            ModelSession.CheckLength(output.Length, checked((int)input.Floats), nameof(output), "the block input");
            using ModelSession.Call call = _session.BeginCall();
            PlanExecutor.ForwardToBlock(_plan, block, image, call.Weights, call.Arena, call.Workers);
            call.Arena.Slice((int)input.Offset, (int)input.Floats).CopyTo(output);
        }

        /// <summary>Classifies N images at once (N x <see cref="InputLength"/> floats in, N x <see cref="NumClasses"/> logits out), whole images on the threads side by side. Allocates nothing once warm.</summary>
        public void RunBatch(ReadOnlySpan<float> images, Span<float> logits)
        {
            int count = ModelSession.CheckBatch(images, Config.Resolution, Config.Resolution, logits.Length, NumClasses, nameof(logits), "NumClasses");
            _session.RunBatch(images, logits, count, _classifyOne);
        }

        /// <summary>The pooled embeddings of N images, N x <see cref="FeatureCount"/> floats. Allocates nothing once warm.</summary>
        public void FeaturesBatch(ReadOnlySpan<float> images, Span<float> features)
        {
            int count = ModelSession.CheckBatch(images, Config.Resolution, Config.Resolution, features.Length, FeatureCount, nameof(features), "FeatureCount");
            _session.RunBatch(images, features, count, _featuresOne);
        }

        /// <summary>Frees the weights, the arenas and the worker threads (after any call in flight ends); later calls throw ObjectDisposedException. Safe to call twice.</summary>
        public void Dispose() => _session.Dispose();
    }
}
