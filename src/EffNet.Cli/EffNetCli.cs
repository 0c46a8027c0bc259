using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.IO;
using System.Linq;

namespace EffNet.Cli
{
    /// <summary>effnet: checkpoint -> weight blob -> logits and labels. Exit codes: 0 success, 1 user error (one line), 2 internal error.</summary>
    static class EffNetCli
    {
        public static int Run(string[] args, TextWriter output, TextWriter error)
        {
            RootCommand root = Commands.Create(output, error);
            ParseResult parsed = root.Parse(args);
            string command = parsed.CommandResult.Command == root ? "effnet" : "effnet " + parsed.CommandResult.Command.Name;
            if (UnknownOption(parsed) is string option)
            {
                error.WriteLine($"effnet: unknown option '{option}'. Run '{command} --help' for usage.");
                return ExitCodes.UserError;
            }
            if (parsed.Errors.Count > 0)
            {
                // One line, like every other user error (System.CommandLine would print each error and then the whole help).
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

        /// <summary>
        /// The first word before "--" that looks like an option but is none: System.CommandLine reports it as an unrecognized
        /// argument, or hands it to a command's list of arguments (classify's images) as if it were a file name.
        /// </summary>
        static string? UnknownOption(ParseResult parsed)
        {
            int end = parsed.Tokens.TakeWhile(t => t.Type != TokenType.DoubleDash).Count();
            var beforeDoubleDash = parsed.Tokens.Take(end).Where(t => t.Type == TokenType.Argument).Select(t => t.Value).ToHashSet(StringComparer.Ordinal);
            var arguments = parsed.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).Select(t => t.Value);
            return parsed.UnmatchedTokens.Concat(arguments)
                .FirstOrDefault(word => word.Length > 1 && word[0] == '-' && beforeDoubleDash.Contains(word));
        }

        static string OneLine(string message) => System.Text.RegularExpressions.Regex.Replace(message, @"\s+", " ").Trim();
    }
}
