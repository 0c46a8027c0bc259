using System;
using System.Collections;
using System.Diagnostics;
using System.IO;
using System.Linq;

namespace EffNet.Packaging.Tests
{
    /// <summary>Runs the dotnet CLI as a user would, outside the test host's MSBuild environment.</summary>
    static class DotnetProcess
    {
        public static (int ExitCode, string Output) Run(string workingDirectory, params string[] arguments)
            => RunWith(null, workingDirectory, arguments);

        /// <summary>As <see cref="Run"/>, with <paramref name="environment"/> set for the child (e.g. a cache folder of its own).</summary>
        public static (int ExitCode, string Output) RunWith(System.Collections.Generic.IReadOnlyDictionary<string, string>? environment,
                                                            string workingDirectory, params string[] arguments)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in arguments) start.ArgumentList.Add(argument);
            // The test host runs inside MSBuild/VSTest; a child build must not inherit that.
            foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>()
                         .Where(n => n.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || n.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)))
                start.Environment.Remove(name);
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["DOTNET_NOLOGO"] = "1";
            foreach (var (name, value) in environment ?? new System.Collections.Generic.Dictionary<string, string>())
                start.Environment[name] = value;

            using Process process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output + error.Result);
        }

        /// <summary>The repository root: the folder holding EffNetGen.sln above the test binaries.</summary>
        public static string RepositoryRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "EffNetGen.sln")))
                    return dir.FullName;
            throw new InvalidOperationException("EffNetGen.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
