using System;
using System.Collections.Generic;
using EffNet.Model;

namespace EffNet
{
    /// <summary>
    /// What every generated EfficientNet class offers, for code that handles several models (a CLI, a benchmark).
    /// The generated class also exposes the numbers as constants (e.g. <c>Classifier.NumClasses</c>).
    /// </summary>
    public interface IEfficientNetModel : IDisposable
    {
        /// <summary>The architecture the class was compiled for.</summary>
        ModelConfig Config { get; }

        /// <summary>Floats in one CHW input image.</summary>
        int InputLength { get; }

        int NumClasses { get; }

        int FeatureCount { get; }

        long ArenaBytes { get; }

        /// <summary>What the loaded weight blob says about itself (its model and source).</summary>
        WeightBlobInfo WeightInfo { get; }

        /// <summary>The weight blob's class labels, one per class in class-index order, or null when it has none.</summary>
        IReadOnlyList<string>? Labels { get; }

        /// <summary>Classifies one image: <see cref="InputLength"/> floats in, <see cref="NumClasses"/> logits out.</summary>
        void Run(ReadOnlySpan<float> image, Span<float> logits);

        /// <summary>Like <see cref="Run"/>, reporting each torchvision stage's output to <paramref name="observer"/>.</summary>
        void RunTraced(ReadOnlySpan<float> image, Span<float> logits, StageObserver? observer);

        /// <summary>The pooled embedding of one image, <see cref="FeatureCount"/> floats.</summary>
        void Features(ReadOnlySpan<float> image, Span<float> features);

        /// <summary>Classifies N images (N x <see cref="InputLength"/> floats) into N x <see cref="NumClasses"/> logits, whole images on the threads side by side.</summary>
        void RunBatch(ReadOnlySpan<float> images, Span<float> logits);

        /// <summary>The pooled embeddings of N images, N x <see cref="FeatureCount"/> floats.</summary>
        void FeaturesBatch(ReadOnlySpan<float> images, Span<float> features);
    }
}
