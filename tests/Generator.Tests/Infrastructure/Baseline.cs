using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using EffNet.Generator.Emit;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Generator.Tests.Infrastructure
{
    /// <summary>
    /// Snapshot testing without Verify: the generator's output for a case must equal the files in
    /// <c>tests/Generator.Tests/Baselines/&lt;case&gt;/&lt;hintName&gt;.txt</c>, one file per generated source and no others.
    /// Set <c>EFFNET_UPDATE_BASELINES=1</c> to rewrite them (stale files are deleted); the test then passes and says so.
    /// Line endings are normalised to \n and the generator version is written as %VERSION%, so a version bump alone
    /// does not touch the baselines.
    /// </summary>
    static class Baseline
    {
        public const string UpdateVariable = "EFFNET_UPDATE_BASELINES";
        public const string VersionToken = "%VERSION%";
        const string Extension = ".txt";

        public static bool Updating => Environment.GetEnvironmentVariable(UpdateVariable) == "1";

        /// <summary>Compares (or, when updating, rewrites) the baselines of <paramref name="caseName"/>.</summary>
        public static void Verify(string caseName, IEnumerable<GeneratedSourceResult> generated, ITestOutputHelper output,
                                  [CallerFilePath] string callerFile = "")
        {
            Dictionary<string, string> actual = generated.ToDictionary(g => g.HintName + Extension, g => Normalize(g.SourceText.ToString()), StringComparer.Ordinal);
            string directory = Path.Combine(BaselineRoot(callerFile), caseName);

            if (Updating)
            {
                Directory.CreateDirectory(directory);
                foreach (string stale in Directory.GetFiles(directory, "*" + Extension).Where(f => !actual.ContainsKey(Path.GetFileName(f))))
                {
                    File.Delete(stale);
                    output.WriteLine($"{UpdateVariable}=1: deleted stale baseline {stale}");
                }
                foreach (KeyValuePair<string, string> file in actual.OrderBy(f => f.Key, StringComparer.Ordinal))
                {
                    string path = Path.Combine(directory, file.Key);
                    File.WriteAllText(path, file.Value, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
                    output.WriteLine($"{UpdateVariable}=1: rewrote baseline {path}");
                }
                return;
            }

            string[] expectedFiles = Directory.Exists(directory)
                ? Directory.GetFiles(directory, "*" + Extension).Select(f => Path.GetFileName(f)!).OrderBy(f => f, StringComparer.Ordinal).ToArray()
                : Array.Empty<string>();
            string[] actualFiles = actual.Keys.OrderBy(f => f, StringComparer.Ordinal).ToArray();
            if (!expectedFiles.SequenceEqual(actualFiles))
                Assert.Fail($"Baseline case '{caseName}': the generator produced [{string.Join(", ", actualFiles)}] " +
                            $"but {directory} holds [{string.Join(", ", expectedFiles)}]. {HowToUpdate}");

            foreach (string file in actualFiles)
            {
                string path = Path.Combine(directory, file);
                string? difference = FirstDifference(Normalize(File.ReadAllText(path)), actual[file]);
                if (difference != null)
                    Assert.Fail($"Generated {file} differs from the baseline {path}:{Environment.NewLine}{difference}{Environment.NewLine}{HowToUpdate}");
            }
        }

        static string HowToUpdate =>
            $"If the change is intended, run the tests with {UpdateVariable}=1 to rewrite the baselines, then review the diff.";

        /// <summary>
        /// Baselines/ beside this source file (found through [CallerFilePath], so updates land in the repository);
        /// the copy in the output directory when the sources are not on this machine (then updating is impossible).
        /// </summary>
        static string BaselineRoot(string callerFile)
        {
            for (string? directory = Path.GetDirectoryName(callerFile); !string.IsNullOrEmpty(directory); directory = Path.GetDirectoryName(directory))
                if (File.Exists(Path.Combine(directory, "Generator.Tests.csproj")))
                    return Path.Combine(directory, "Baselines");
            if (Updating)
                throw new InvalidOperationException($"{UpdateVariable}=1 needs the test sources, but {callerFile} is not on this machine.");
            return Path.Combine(AppContext.BaseDirectory, "Baselines");
        }

        /// <summary>\n line endings and the version token in place of the generator's version.</summary>
        static string Normalize(string text) => text
            .Replace("\r\n", "\n")
            .Replace($"\"{ModelEmitter.GeneratorName}\", \"{ModelEmitter.GeneratorVersion}\"", $"\"{ModelEmitter.GeneratorName}\", \"{VersionToken}\"")
            .Replace($"{ModelEmitter.GeneratorName} {ModelEmitter.GeneratorVersion} ", $"{ModelEmitter.GeneratorName} {VersionToken} ");

        /// <summary>Null when equal; otherwise the first differing line (1-based) with the expected and the actual text.</summary>
        internal static string? FirstDifference(string expected, string actual)
        {
            if (expected == actual) return null;
            string[] e = Lines(expected), a = Lines(actual);
            for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
            {
                string? el = i < e.Length ? e[i] : null, al = i < a.Length ? a[i] : null;
                if (el != al)
                    return $"first difference at line {i + 1} (expected {e.Length} lines, actual {a.Length}):{Environment.NewLine}" +
                           $"  expected: {Show(el)}{Environment.NewLine}" +
                           $"  actual:   {Show(al)}";
            }
            return "the texts differ only in the line ending at the end of the file";
        }

        static string[] Lines(string text) => (text.EndsWith("\n", StringComparison.Ordinal) ? text.Substring(0, text.Length - 1) : text).Split('\n');

        static string Show(string? line) => line == null ? "<end of file>" : "\"" + line + "\"";
    }
}
