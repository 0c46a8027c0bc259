using System;
using System.IO;

namespace EffNet.Packaging.Tests
{
    /// <summary>The C# code blocks of the repository's README.md, found by the heading they stand under.</summary>
    static class ReadmeSnippets
    {
        const string Fence = "```";

        /// <summary>
        /// The text of the first ```csharp block under the heading <paramref name="heading"/> (e.g. "## Images"), before the
        /// next heading of any level, exactly as it stands between the fences.
        /// </summary>
        public static string CSharpUnder(string heading)
        {
            string readme = File.ReadAllText(Path.Combine(DotnetProcess.RepositoryRoot(), "README.md"));
            int section = readme.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
            if (section < 0)
                throw new InvalidOperationException($"README.md has no heading '{heading}'.");
            int open = readme.IndexOf("\n" + Fence + "csharp\n", section + 1, StringComparison.Ordinal);
            if (open < 0 || readme.Substring(section + 1, open - section).Contains("\n#", StringComparison.Ordinal))
                throw new InvalidOperationException($"README.md has no ```csharp block under '{heading}' (before the next heading).");
            int start = open + Fence.Length + "csharp\n".Length + 1;
            int close = readme.IndexOf("\n" + Fence + "\n", start - 1, StringComparison.Ordinal);
            if (close < 0)
                throw new InvalidOperationException($"The ```csharp block under '{heading}' in README.md is not closed.");
            return readme.Substring(start, close + 1 - start);
        }
    }
}
