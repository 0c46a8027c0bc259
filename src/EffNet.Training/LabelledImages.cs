using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using EffNet.Imaging;

namespace EffNet.Training
{
    /// <summary>One training image and the index of its class.</summary>
    public readonly record struct LabelledImage(string Path, int Class);

    /// <summary>
    /// A folder of labelled images: one sub-folder per class, named after it (the names, in ordinal order, become the
    /// labels); each class folder's image files at any depth (<see cref="ImageFiles.Below"/>).
    /// </summary>
    public sealed class LabelledImages
    {
        LabelledImages(IReadOnlyList<string> labels, IReadOnlyList<LabelledImage> images)
        {
            Labels = labels;
            Images = images;
        }

        public IReadOnlyList<string> Labels { get; }
        public IReadOnlyList<LabelledImage> Images { get; }

        /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
        /// <exception cref="ArgumentException">It has fewer than two class folders, or a class folder holds no images.</exception>
        public static LabelledImages FromFolders(string folder)
        {
            if (!Directory.Exists(folder))
                throw new DirectoryNotFoundException($"{folder}: no such folder; give a folder with one sub-folder of images per class.");
            var options = new EnumerationOptions { AttributesToSkip = FileAttributes.Hidden | FileAttributes.System, IgnoreInaccessible = true };
            string[] classFolders = Directory.GetDirectories(folder, "*", options).Order(StringComparer.Ordinal).ToArray();
            if (classFolders.Length < 2)
                throw new ArgumentException($"{folder}: {classFolders.Length} class folder(s); give a folder with one sub-folder of images per class, at least two.");
            var labels = classFolders.Select(Path.GetFileName).ToArray();
            var images = new List<LabelledImage>();
            for (int c = 0; c < classFolders.Length; c++)
            {
                string[] files = ImageFiles.Below(classFolders[c]);
                if (files.Length == 0)
                    throw new ArgumentException($"{classFolders[c]}: no images of class '{labels[c]}' (searched for {string.Join(" ", ImageFiles.Extensions)}); add some or remove the folder.");
                images.AddRange(files.Select(path => new LabelledImage(path, c)));
            }
            return new LabelledImages(labels!, images);
        }

        /// <summary>
        /// A seeded split that keeps every class's share: <paramref name="fraction"/> of each class (at least one image
        /// when the class has two or more) goes to the validation set.
        /// </summary>
        public (IReadOnlyList<LabelledImage> Train, IReadOnlyList<LabelledImage> Validation) Split(double fraction, int seed)
        {
            if (!(fraction > 0 && fraction < 1))
                throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The validation fraction must be between 0 and 1, e.g. 0.2.");
            var random = new Random(seed);
            var train = new List<LabelledImage>();
            var validation = new List<LabelledImage>();
            foreach (var group in Images.GroupBy(image => image.Class))
            {
                LabelledImage[] shuffled = group.ToArray();
                random.Shuffle(shuffled);
                int count = shuffled.Length < 2 ? 0 : Math.Max(1, (int)Math.Round(shuffled.Length * fraction));
                validation.AddRange(shuffled.Take(count));
                train.AddRange(shuffled.Skip(count));
            }
            return (train, validation);
        }
    }
}
