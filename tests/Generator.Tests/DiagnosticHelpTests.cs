using System;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using EffNet.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace EffNet.Generator.Tests
{
    /// <summary>
    /// The help behind every diagnostic reaches a package user: the link is absolute and opens the EffNet package's page,
    /// whose readme carries docs/diagnostics.md (Packaging.Tests checks that), and that page lists exactly these ids.
    /// </summary>
    public class DiagnosticHelpTests
    {
        [Fact]
        public void Every_diagnostic_links_to_the_EffNet_package_page()
        {
            Assert.Equal(20, AllDiagnostics.Descriptors.Length);
            Assert.All(AllDiagnostics.Descriptors, descriptor =>
            {
                Assert.True(Uri.TryCreate(descriptor.HelpLinkUri, UriKind.Absolute, out Uri? link),
                    $"{descriptor.Id}'s help link '{descriptor.HelpLinkUri}' is not an absolute URI.");
                Assert.Equal("https", link!.Scheme);
                Assert.Equal("www.nuget.org", link.Host);
                Assert.Equal("/packages/EffNet", link.AbsolutePath);
            });
        }

        [Fact]
        public void Docs_diagnostics_lists_exactly_the_diagnostics_the_generator_reports()
        {
            string docs = File.ReadAllText(DocsDiagnostics());
            var documented = Regex.Matches(docs, "^\\| <a id=\"(efn\\d{4})\"></a>(EFN\\d{4}) \\|", RegexOptions.Multiline)
                .Select(m => (Anchor: m.Groups[1].Value, Id: m.Groups[2].Value))
                .ToArray();

            Assert.All(documented, row => Assert.Equal(row.Id.ToLowerInvariant(), row.Anchor));
            Assert.Equal(AllDiagnostics.Descriptors.Select(d => d.Id).Order(), documented.Select(row => row.Id).Order());
        }

        /// <summary>docs/diagnostics.md, found from this source file as the baselines are.</summary>
        static string DocsDiagnostics([CallerFilePath] string thisFile = "") =>
            Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "docs", "diagnostics.md"));
    }
}
