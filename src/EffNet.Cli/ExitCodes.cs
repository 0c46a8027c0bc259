using System;
using System.IO;

namespace EffNet.Cli
{
    static class ExitCodes
    {
        public const int Success = 0, UserError = 1, InternalError = 2;

        /// <summary>Errors caused by what the user gave us: bad files, paths and values. Everything else is our bug.</summary>
        public static bool IsUserError(Exception error) => error is UserException
            or WeightFormatException
            or EffNet.Imaging.ImageFormatException
            or FileNotFoundException
            or DirectoryNotFoundException
            or UnauthorizedAccessException
            or ArgumentException;
    }
}
