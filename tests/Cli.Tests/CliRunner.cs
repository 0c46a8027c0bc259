using System;
using System.IO;
using Xunit;

namespace EffNet.Cli.Tests
{
    /// <summary>Runs effnet in-process, as the tests meet it: exit code, stdout and stderr.</summary>
    static class CliRunner
    {
        public static (int Exit, string Output, string Error) Effnet(params string[] args)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int exit = EffNetCli.Run(args, output, error);
            return (exit, output.ToString(), error.ToString());
        }

        /// <summary>Exit code 1, nothing on stdout, exactly one line on stderr starting "effnet: " and saying <paramref name="expected"/>.</summary>
        public static void AssertOneLineUserError((int Exit, string Output, string Error) result, string expected)
        {
            Assert.True(result.Exit == 1, $"exit {result.Exit}: {result.Error}");
            Assert.Equal("", result.Output);
            string[] lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, "expected one line, got: " + result.Error);
            Assert.StartsWith("effnet: ", lines[0]);
            Assert.True(lines[0].Contains(expected, StringComparison.Ordinal), $"\"{expected}\" not in: {lines[0]}");
            Assert.DoesNotContain("   at ", result.Error);
        }
    }
}
