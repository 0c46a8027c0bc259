using System;

namespace EffNet.Cli
{
    /// <summary>A mistake the user can fix (a wrong path, option or file): printed as one line, exit code 1.</summary>
    sealed class UserException : Exception
    {
        public UserException(string message) : base(message) { }
    }
}
