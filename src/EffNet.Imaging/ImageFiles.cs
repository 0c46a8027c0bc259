using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Enumeration;
using System.Linq;

namespace EffNet.Imaging
{
    /// <summary>The image files of a folder tree, as `effnet classify` and `effnet train` take them.</summary>
    public static class ImageFiles
    {
        /// <summary>The extensions of the formats the decoder reads: what a folder is searched for. A file named on its own is decoded whatever its name.</summary>
        public static readonly string[] Extensions = [".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".tga", ".psd"];

        /// <summary>
        /// The image files below <paramref name="root"/> (full paths, in ordinal order), linked files included; hidden
        /// entries are skipped, and a symbolic link to a directory is not entered, so a link back up the tree cannot make
        /// the walk endless.
        /// </summary>
        public static string[] Below(string root)
        {
            var options = new EnumerationOptions
            {
                RecurseSubdirectories = true,
                IgnoreInaccessible = true,
                AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
            };
            return new FileSystemEnumerable<string>(root, (ref FileSystemEntry entry) => entry.ToFullPath(), options)
            {
                ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory,
                ShouldRecursePredicate = (ref FileSystemEntry entry) => (entry.Attributes & FileAttributes.ReparsePoint) == 0,
            }
            .Where(path => Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToArray();
        }

        /// <summary>
        /// Whether <paramref name="error"/>, thrown while reading one file of a folder, means that file cannot be read
        /// (bad or unsupported contents, an I/O or permission failure) rather than a bug: the folder's commands report
        /// it (<see cref="Unreadable"/>) and go on with the other files.
        /// </summary>
        public static bool IsUnreadable(Exception error) => error is ImageFormatException or IOException or UnauthorizedAccessException;

        /// <summary>The report of an unreadable file: the decoder's message, which names the file, or the I/O error after the path.</summary>
        public static string Unreadable(string path, Exception error) => error is ImageFormatException ? error.Message : $"{path}: {error.Message}";
    }
}
