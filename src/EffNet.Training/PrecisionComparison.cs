using System;
using System.Linq;
using System.Numerics.Tensors;
using EffNet.Imaging;

namespace EffNet.Training
{
    /// <summary>
    /// A model and a lower-precision version of it (a float32 blob and its int8 quantisation) on the same labelled images:
    /// each one's top-1 accuracy, how often their top-1 classes agree, and how far the candidate's logits are from the
    /// reference's (the largest difference over the reference's largest magnitude, per image, averaged).
    /// </summary>
    public sealed record PrecisionComparison(int Images, double ReferenceAccuracy, double CandidateAccuracy, double Agreement, double MeanRelativeLogitError)
    {
        /// <exception cref="ArgumentException">The two models differ in input or classes, or the folders' classes are not the models' labels.</exception>
        public static PrecisionComparison Measure(EfficientNetModel reference, EfficientNetModel candidate, LabelledImages data, Action<int>? progress = null)
        {
            ArgumentNullException.ThrowIfNull(reference);
            ArgumentNullException.ThrowIfNull(candidate);
            ArgumentNullException.ThrowIfNull(data);
            if (reference.InputLength != candidate.InputLength || reference.NumClasses != candidate.NumClasses)
                throw new ArgumentException($"The models differ: {reference.Config.DisplayName} against {candidate.Config.DisplayName}.");
            if (reference.Labels is { } labels && !labels.SequenceEqual(data.Labels))
                throw new ArgumentException($"The folders' classes ({string.Join(", ", data.Labels)}) are not the model's labels ({string.Join(", ", labels)}): " +
                                            "name one folder after each label.");
            if (data.Labels.Count != reference.NumClasses)
                throw new ArgumentException($"{data.Labels.Count} class folders, but the model has {reference.NumClasses} classes.");
            var preprocessing = Preprocessing.From(reference.WeightInfo.Metadata.Preprocessing ?? PreprocessingInfo.PublishedFor(reference.Config)
                ?? throw new ArgumentException("The reference blob records no preprocessing; import it with --resize and --crop."));

            var image = new float[reference.InputLength];
            var a = new float[reference.NumClasses];
            var b = new float[reference.NumClasses];
            int correctA = 0, correctB = 0, agree = 0, done = 0;
            double error = 0;
            foreach (LabelledImage item in data.Images)
            {
                preprocessing.Apply(item.Path, image);
                reference.Run(image, a);
                candidate.Run(image, b);
                int topA = TensorPrimitives.IndexOfMax<float>(a), topB = TensorPrimitives.IndexOfMax<float>(b);
                if (topA == item.Class) correctA++;
                if (topB == item.Class) correctB++;
                if (topA == topB) agree++;
                float largest = 0, difference = 0;
                for (int i = 0; i < a.Length; i++)
                {
                    largest = Math.Max(largest, Math.Abs(a[i]));
                    difference = Math.Max(difference, Math.Abs(a[i] - b[i]));
                }
                error += largest > 0 ? difference / largest : difference;
                done++;
                progress?.Invoke(done);
            }
            int n = Math.Max(done, 1);
            return new PrecisionComparison(done, (double)correctA / n, (double)correctB / n, (double)agree / n, error / n);
        }
    }
}
