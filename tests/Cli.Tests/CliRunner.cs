using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
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

        /// <summary>
        /// Runs effnet as a process of its own, for what the test process must not share: a file-size limit, a pipe on stdin,
        /// a FIFO. <paramref name="shell"/> runs first in sh (e.g. "trap '' XFSZ; ulimit -f 2"); <paramref name="stdin"/>
        /// is written to a pipe on its standard input. A process still running after two minutes is killed and fails the test.
        /// </summary>
        public static (int Exit, string Output, string Error) EffnetProcess(string shell, byte[]? stdin, params string[] args)
        {
            string effnet = Path.Combine(AppContext.BaseDirectory, "effnet.dll");
            static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";
            var start = new ProcessStartInfo("sh")
            {
                ArgumentList = { "-c", $"{shell}\nexec dotnet {Quote(effnet)} {string.Join(" ", args.Select(Quote))}" },
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                // The runtime's W^X double mapping uses a file a size limit would also stop; without it the limit hits only effnet's writes.
                Environment = { ["DOTNET_EnableWriteXorExecute"] = "0" },
            };
            using Process process = Process.Start(start)!;
            Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
            try
            {
                if (stdin is not null)
                    process.StandardInput.BaseStream.Write(stdin);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // effnet stopped reading before the end (it refused the input): its exit code and message tell the rest
            }
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"effnet {string.Join(" ", args)} still ran after two minutes: {error.Result}");
            }
            return (process.ExitCode, output.Result, error.Result);
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
