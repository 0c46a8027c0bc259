using System;
using System.IO;
using Spectre.Console;

namespace EffNet.Cli
{
    /// <summary>What a long command tells its progress bar: the total once known, each item done, and lines to print above it.</summary>
    sealed class ProgressScope(Action<int> setTotal, Action advance, Action<string> report)
    {
        /// <summary>No bar: lines go straight to <paramref name="report"/>.</summary>
        public static ProgressScope Without(Action<string> report) => new(_ => { }, () => { }, report);

        public void SetTotal(int items) => setTotal(items);
        public void Advance() => advance();
        /// <summary>A line for the user while the bar shows (printed above it, not through it).</summary>
        public void Report(string line) => report(line);
    }

    /// <summary>
    /// The progress bar of long commands (classify, train): Spectre.Console's, on standard error, only when standard error
    /// is this process's terminal. Commands decide whether their run is long enough to show one.
    /// </summary>
    static class ProgressDisplay
    {
        /// <summary>Someone watches standard error: it is this process's terminal (not a file, a pipe, or a test's writer).</summary>
        public static bool ErrorIsTerminal(TextWriter error) => ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;

        /// <summary>The results go to a file or pipe, not to the terminal the bar would be drawn on.</summary>
        public static bool OutputIsElsewhere(TextWriter output) => !ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected;

        /// <summary>Runs <paramref name="body"/> with a live bar named <paramref name="description"/>, cleared at the end.</summary>
        public static void Run(string description, Action<ProgressScope> body)
        {
            IAnsiConsole terminal = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            terminal.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    ProgressTask task = context.AddTask(description, maxValue: 1);
                    body(new ProgressScope(total => task.MaxValue = Math.Max(1, total), () => task.Increment(1), line => terminal.WriteLine(line)));
                });
        }
    }
}
