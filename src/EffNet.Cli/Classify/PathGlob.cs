using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace EffNet.Cli.Classify
{
    /// <summary>
    /// Glob patterns for arguments a shell did not expand (quoted, or on Windows): <c>*</c> and <c>?</c> within one path
    /// segment, <c>[abc]</c> / <c>[a-z]</c> / <c>[!a]</c> character sets, and <c>**</c> as a whole segment for any depth of
    /// directories (not entering symbolic links to directories). Matching is case-sensitive except on Windows and macOS, whose file systems usually are not.
    /// </summary>
    static class PathGlob
    {
        public static bool IsPattern(string argument) => argument.IndexOfAny(['*', '?', '[']) >= 0;

        /// <summary>
        /// The files the pattern matches, each as the pattern's literal leading directories joined to the rest of its path
        /// (so a relative pattern gives relative paths), in ordinal order. Hidden entries (names starting with '.') are only
        /// matched by a segment that starts with '.' itself.
        /// </summary>
        public static List<string> Expand(string pattern)
        {
            string[] segments = pattern.Split(Separators);
            int firstWild = Array.FindIndex(segments, IsPattern);
            // The literal prefix is kept as written, so printed paths start the way the user typed them.
            string root = string.Join(Path.DirectorySeparatorChar, segments.Take(firstWild));
            if (firstWild > 0 && root.Length == 0)
                root = Path.DirectorySeparatorChar.ToString(); // an absolute pattern such as /photos/*.jpg
            var matches = new List<string>();
            Walk(root, segments.AsSpan(firstWild).ToArray(), 0, matches);
            matches.Sort(StringComparer.Ordinal);
            return matches;
        }

        static readonly char[] Separators = Path.DirectorySeparatorChar == '/' ? ['/'] : ['/', '\\'];

        static readonly RegexOptions CaseRule = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? RegexOptions.IgnoreCase : RegexOptions.None;

        static void Walk(string directory, string[] segments, int index, List<string> matches)
        {
            string where = directory.Length == 0 ? "." : directory;
            if (!Directory.Exists(where))
                return;
            string segment = segments[index];
            bool last = index == segments.Length - 1;
            if (segment == "**")
            {
                // Zero directories, then each subdirectory at any depth.
                if (last)
                {
                    foreach (string file in Entries(where, directories: false, showHidden: false))
                        matches.Add(Join(directory, file));
                }
                else
                {
                    Walk(directory, segments, index + 1, matches);
                }
                // A symbolic link to a directory is not entered here: a link up the tree would make ** endless.
                foreach (string sub in Entries(where, directories: true, showHidden: false))
                    if ((File.GetAttributes(Path.Join(where, sub)) & FileAttributes.ReparsePoint) == 0)
                        Walk(Join(directory, sub), segments, index, matches);
                return;
            }
            if (!IsPattern(segment))
            {
                string next = Join(directory, segment);
                if (last) { if (File.Exists(next)) matches.Add(next); }
                else Walk(next, segments, index + 1, matches);
                return;
            }
            Regex regex = ToRegex(segment);
            foreach (string name in Entries(where, directories: !last, showHidden: segment.StartsWith('.')))
            {
                if (!regex.IsMatch(name))
                    continue;
                if (last) matches.Add(Join(directory, name));
                else Walk(Join(directory, name), segments, index + 1, matches);
            }
        }

        /// <summary>Names of the files (or directories) in one directory; an unreadable directory has none.</summary>
        static IEnumerable<string> Entries(string directory, bool directories, bool showHidden)
        {
            var options = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.System };
            IEnumerable<string> paths = directories
                ? Directory.EnumerateDirectories(directory, "*", options)
                : Directory.EnumerateFiles(directory, "*", options);
            return paths.Select(Path.GetFileName).Where(name => showHidden || !name!.StartsWith('.'))!;
        }

        static string Join(string directory, string name) => directory.Length == 0 ? name : Path.Join(directory, name);

        /// <summary>One segment's pattern as an anchored regular expression.</summary>
        internal static Regex ToRegex(string segment)
        {
            var regex = new StringBuilder("^");
            for (int i = 0; i < segment.Length; i++)
            {
                char c = segment[i];
                switch (c)
                {
                    case '*': regex.Append(".*"); break;
                    case '?': regex.Append('.'); break;
                    case '[' when segment.IndexOf(']', i + 2) is int close and > 0:
                        string set = segment.Substring(i + 1, close - i - 1);
                        regex.Append('[');
                        if (set[0] == '!') { regex.Append('^'); set = set[1..]; }
                        regex.Append(set.Replace("\\", "\\\\").Replace("[", "\\[").Replace("^", "\\^"));
                        regex.Append(']');
                        i = close;
                        break;
                    default: regex.Append(Regex.Escape(c.ToString())); break;
                }
            }
            return new Regex(regex.Append('$').ToString(), CaseRule | RegexOptions.CultureInvariant);
        }
    }
}
