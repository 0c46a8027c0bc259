using System;
using System.CommandLine;
using System.IO;
using System.Linq;

namespace EffNet.Cli
{
    /// <summary>effnet: checkpoint -> weight blob -> logits and labels. Exit codes: 0 success, 1 user error (one line), 2 internal error.</summary>
    static class EffNetCli
    {
        public static int Run(string[] args, TextWriter output, TextWriter error)
        {
            RootCommand root = Commands.Create(output);
            ParseResult parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                // One line, like every other user error (System.CommandLine would print each error and then the whole help).
                string command = parsed.CommandResult.Command == root ? "effnet" : "effnet " + parsed.CommandResult.Command.Name;
                error.WriteLine("effnet: " + OneLine(string.Join(" ", parsed.Errors.Select(e => e.Message.TrimEnd('.') + "."))) +
                                $" Run '{command} --help' for usage.");
                return ExitCodes.UserError;
            }
            try
            {
                return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = error });
            }
            catch (Exception exception) when (ExitCodes.IsUserError(exception))
            {
                error.WriteLine("effnet: " + OneLine(exception.Message));
                return ExitCodes.UserError;
            }
            catch (Exception exception)
            {
                error.WriteLine($"effnet: internal error ({exception.GetType().Name}): {OneLine(exception.Message)}. This is a bug in effnet; please report it with the command you ran.");
                return ExitCodes.InternalError;
            }
        }

        static string OneLine(string message) => System.Text.RegularExpressions.Regex.Replace(message, @"\s+", " ").Trim();
    }
}
