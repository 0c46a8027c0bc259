using System;
using System.IO;

namespace EffNet.Cli
{
    static class ExitCodes
    {
        public const int Success = 0, UserError = 1, InternalError = 2;

        /// <summary>
        /// Errors caused by what the user gave us or the machine they run on: bad files, paths and values, an output that
        /// cannot be written (a directory, a full disk, no permission). Everything else is our bug.
        /// </summary>
        public static bool IsUserError(Exception error) => error is UserException
            or WeightFormatException
            or EffNet.Import.CheckpointMismatchException
            or EffNet.Imaging.ImageFormatException
            or IOException // FileNotFoundException, DirectoryNotFoundException, a full disk, an output path that is a directory
            or UnauthorizedAccessException
            or ArgumentException;
    }
}
