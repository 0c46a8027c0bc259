using System;

namespace EffNet.Imaging
{
    /// <summary>
    /// An image that cannot be used: not a format the decoder reads, corrupt, truncated, or larger than the byte or pixel
    /// limit. The one-line message names the file (when there is one), what is wrong with it and what to do.
    /// </summary>
    public sealed class ImageFormatException : Exception
    {
        public ImageFormatException(string? path, string message, Exception? innerException = null)
            : base(path is null ? message : $"{path}: {message}", innerException)
        {
            Path = path;
        }

        /// <summary>The file (or the name the caller gave the data), when there was one.</summary>
        public string? Path { get; }
    }
}
