using System;
using System.IO;
using System.Linq;

namespace EffNet.Packaging.Tests
{
    /// <summary>The C# code blocks of the repository's README.md, found by the heading they stand under.</summary>
    static class ReadmeSnippets
    {
        const string Fence = "```";

        /// <summary>
        /// The text of the first ```csharp block under the heading <paramref name="heading"/> (e.g. "## Images"), before the
        /// next heading of any level, exactly as it stands between the fences. Lines inside other code blocks (a shell or
        /// Python comment starting with '#') are not headings.
        /// </summary>
        public static string CSharpUnder(string heading)
        {
            string[] lines = File.ReadAllText(Path.Combine(DotnetProcess.RepositoryRoot(), "README.md")).Split('\n');
            int section = Array.IndexOf(lines, heading);
            if (section < 0)
                throw new InvalidOperationException($"README.md has no heading '{heading}'.");
            bool inBlock = false;
            for (int i = section + 1; i < lines.Length; i++)
            {
                if (!inBlock && lines[i] == Fence + "csharp")
                {
                    int close = Array.IndexOf(lines, Fence, i + 1);
                    if (close < 0)
                        throw new InvalidOperationException($"The ```csharp block under '{heading}' in README.md is not closed.");
                    return string.Concat(lines[(i + 1)..close].Select(line => line + "\n"));
                }
                if (lines[i].StartsWith(Fence, StringComparison.Ordinal))
                    inBlock = !inBlock;
                else if (!inBlock && lines[i].StartsWith('#'))
                    break;
            }
            throw new InvalidOperationException($"README.md has no ```csharp block under '{heading}' (before the next heading).");
        }
    }
}
