using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using EffNet.Imaging;

namespace EffNet.Cli.Classify
{
    /// <summary>One image to classify: the path as printed (built from the argument as the user gave it) and the path to open.</summary>
    readonly record struct ImageInput(string DisplayPath, string FullPath);

    /// <summary>
    /// classify's arguments turned into images: a file as given; a directory's image files at any depth, in ordinal order
    /// of their paths; a glob pattern's matches. An argument that yields nothing is a problem, reported and counted as a
    /// failure while the other arguments still run.
    /// </summary>
    static class ImageInputs
    {
        public static (List<ImageInput> Images, List<string> Problems) Expand(IEnumerable<string> arguments)
        {
            var images = new List<ImageInput>();
            var problems = new List<string>();
            foreach (string argument in arguments)
            {
                if (Directory.Exists(argument))
                {
                    int before = images.Count;
                    images.AddRange(InDirectory(argument));
                    if (images.Count == before)
                        problems.Add($"{argument}: no image files in this directory or below it (a directory is searched for {string.Join(", ", ImageFiles.Extensions)}); " +
                                     "name files of other extensions one by one.");
                }
                else if (File.Exists(argument) || !PathGlob.IsPattern(argument))
                {
                    // A missing file is classified like any other and fails with the decoder's message, in its place in the output order.
                    images.Add(new ImageInput(argument, Path.GetFullPath(argument)));
                }
                else
                {
                    List<string> matches = PathGlob.Expand(argument);
                    if (matches.Count == 0)
                        problems.Add($"{argument}: no file matches this pattern.");
                    images.AddRange(matches.Select(path => new ImageInput(path, Path.GetFullPath(path))));
                }
            }
            return (images, problems);
        }

        /// <summary>A directory's image files at any depth, printed as the directory argument joined to their relative path.</summary>
        static IEnumerable<ImageInput> InDirectory(string directory)
        {
            string root = Path.GetFullPath(directory);
            return ImageFiles.Below(root).Select(path => new ImageInput(Path.Join(directory, Path.GetRelativePath(root, path)), path));
        }
    }
}
