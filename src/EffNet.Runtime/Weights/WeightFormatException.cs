using System;

namespace EffNet
{
    /// <summary>
    /// A weight blob (or a set of source tensors) that cannot be used: wrong magic or version, made for another model,
    /// truncated, corrupted, or with tensors of the wrong name or shape; or a labels file that is not a list of labels. The
    /// message names the file and what was expected.
    /// </summary>
    public sealed class WeightFormatException : Exception
    {
        public WeightFormatException(string? path, string message)
            : base(path is null ? message : $"{path}: {message}")
        {
            Path = path;
        }

        /// <summary>The file that was read, when there was one.</summary>
        public string? Path { get; }
    }
}
