using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;

namespace EffNet.Imaging
{
    /// <summary>
    /// The 1000 ImageNet-1k class names in class-index order, as torchvision's weights list them
    /// (<c>EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"]</c>; tools/make_imagenet_classes.py writes the file).
    /// </summary>
    public static class ImageNetClasses
    {
        const string ResourceName = "EffNet.Imaging.ImageNetClasses.txt";

        /// <summary>How many classes there are.</summary>
        public const int Count = 1000;

        static readonly Lazy<IReadOnlyList<string>> s_names = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

        /// <summary>Name of class i at index i ("tench" is 0, "golden retriever" 207); read from the assembly once, on first use.</summary>
        public static IReadOnlyList<string> Names => s_names.Value;

        static IReadOnlyList<string> Load()
        {
            using Stream stream = typeof(ImageNetClasses).Assembly.GetManifestResourceStream(ResourceName)
                ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(ImageNetClasses).Assembly.GetName().Name}.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var names = new List<string>(Count);
            while (reader.ReadLine() is { } line)
                if (line.Length > 0)
                    names.Add(line);
            if (names.Count != Count)
                throw new InvalidOperationException($"The embedded resource {ResourceName} lists {names.Count} class names instead of {Count}.");
            return names.AsReadOnly();
        }
    }
}
