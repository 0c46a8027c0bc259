using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EffNet.Imaging;
using EffNet.Training;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Packaging.Tests
{
    /// <summary>
    /// The packages as a user gets them: the EffNet package brings the runtime (with the generator) and imaging, each
    /// package's readme explains the diagnostics, and the README's Quickstart and Images programs, copied verbatim into
    /// fresh projects that reference only EffNet, build and print what the same model computes here.
    /// </summary>
    public sealed class PackageConsumerTests : IClassFixture<PackedFeed>
    {
        /// <summary>The photo the snippets open, under the name they use.</summary>
        const string Photo = "cat.jpg";
        static readonly string PhotoSource = Path.Combine(DotnetProcess.RepositoryRoot(), "tests", "Imaging.Tests", "Fixtures", "large_640x480.jpg");

        readonly PackedFeed _feed;
        readonly ITestOutputHelper _log;

        public PackageConsumerTests(PackedFeed feed, ITestOutputHelper log)
        {
            _feed = feed;
            _log = log;
        }

        [Fact]
        public void The_EffNet_package_depends_on_the_runtime_with_the_generator_on_imaging_with_its_decoder_and_on_training()
        {
            Assert.Equal(new[] { "lib/net10.0/_._" }, Entries("EffNet").Where(e => e.StartsWith("lib/", StringComparison.Ordinal)));
            Assert.Equal(new[] { "EffNet.Imaging", "EffNet.Runtime", "EffNet.Training" }, Dependencies("EffNet").Keys.Order());
            // No excluded assets: the runtime's analyzer (the generator) must reach the consumer through EffNet.
            Assert.All(Dependencies("EffNet").Values, dependency =>
            {
                Assert.Equal(_feed.Version, dependency.Attribute("version")?.Value);
                Assert.Null(dependency.Attribute("exclude"));
            });

            Assert.Contains("analyzers/dotnet/cs/EffNet.Generator.dll", Entries("EffNet.Runtime"));
            Assert.Contains("lib/net10.0/EffNet.Runtime.dll", Entries("EffNet.Runtime"));
            Assert.Contains("lib/net10.0/EffNet.Imaging.dll", Entries("EffNet.Imaging"));
            Assert.Equal(new[] { "EffNet.Runtime", "StbImageSharp" }, Dependencies("EffNet.Imaging").Keys.Order());
            Assert.Contains("lib/net10.0/EffNet.Training.dll", Entries("EffNet.Training"));
            Assert.Equal(new[] { "EffNet.Imaging", "EffNet.Runtime" }, Dependencies("EffNet.Training").Keys.Order());
        }

        [Fact]
        public void Every_package_readme_is_the_README_followed_by_the_diagnostics_reference()
        {
            string root = DotnetProcess.RepositoryRoot();
            string readme = File.ReadAllText(Path.Combine(root, "README.md"));
            string diagnostics = File.ReadAllText(Path.Combine(root, "docs", "diagnostics.md"));
            foreach (string id in PackedFeed.PackageIds)
            {
                using ZipArchive zip = ZipFile.OpenRead(_feed.Package(id));
                Assert.Equal("README.md", Nuspec(zip).Descendants().Single(e => e.Name.LocalName == "readme").Value);
                using var reader = new StreamReader(zip.GetEntry("README.md")!.Open());
                Assert.Equal(readme + "\n" + diagnostics, reader.ReadToEnd());
            }
        }

        [Fact]
        public void The_README_Quickstart_runs_verbatim_in_a_fresh_project_that_references_only_EffNet()
        {
            string output = RunSnippet("## Quickstart");

            using var model = EfficientNetModel.Load(_feed.WeightBlob);
            var image = new float[model.InputLength];
            Preprocessing.ForTorchvision(0).Apply(PhotoSource, image);
            var features = new float[model.FeatureCount];
            model.Features(image, features);
            var expected = TopFive(model, image, ImageNetClasses.Names)
                .Append($"{PackedFeed.B0.DisplayName}: {features.Length} features");
            Assert.Equal(expected, Lines(output));
        }

        [Fact]
        public void The_README_Images_program_runs_verbatim_with_the_blobs_preprocessing_and_labels()
        {
            string output = RunSnippet("## Images");

            using var model = EfficientNetModel.Load(_feed.WeightBlob);
            RgbImage photo = ImageDecoder.Decode(PhotoSource);
            float[] image = Preprocessing.From(PackedFeed.RecordedPreprocessing).Apply(photo);
            var expected = TopFive(model, image, model.Labels!).Prepend($"{photo.Width}x{photo.Height}:");
            Assert.Equal(expected, Lines(output));
            Assert.Contains("synthetic class ", output);
        }

        [Fact]
        public void The_README_fine_tuned_app_runs_verbatim_and_prints_the_labels_the_blob_carries()
        {
            string[] photos = { "shoe.png", "bag.jpg" };
            var provided = new Dictionary<string, string> { ["ft.effw"] = _feed.FineTunedBlob, [photos[0]] = Fixture("odd_97x143.png"), [photos[1]] = PhotoSource };
            string output = RunSnippet("## Your own fine-tuned model", provided, photos);

            using var model = EfficientNetModel.Load(_feed.FineTunedBlob);
            var preprocessing = Preprocessing.ForTorchvision(0);
            var expected = photos.Select(photo =>
            {
                var image = new float[model.InputLength];
                preprocessing.Apply(provided[photo], image);
                var logits = new float[model.NumClasses];
                model.Run(image, logits);
                ClassProbability best = Softmax.TopK(logits, 1)[0];
                return $"{photo}: {PackedFeed.FineTunedLabels[best.Index]} ({best.Probability:P1})";
            });
            Assert.Equal(expected, Lines(output));
        }

        [Fact]
        public void The_README_training_program_runs_verbatim_and_reports_what_the_same_training_reports_here()
        {
            string fixtures = Path.Combine(DotnetProcess.RepositoryRoot(), "tests", "Training.Tests", "Fixtures");
            var provided = new Dictionary<string, string> { ["base.effw"] = Path.Combine(fixtures, "base.effw") };
            string cache = Path.Combine(_feed.Work, "training-cache");
            string output = RunSnippet("## Teach it your classes", provided, writes: new[] { "mine.effw" },
                folders: new Dictionary<string, string> { ["photos/train"] = Path.Combine(fixtures, "fashion", "train") },
                environment: new Dictionary<string, string> { ["XDG_CACHE_HOME"] = cache });

            TrainingReport expected = HeadTrainer.Train(provided["base.effw"], Path.Combine(fixtures, "fashion", "train"),
                Path.Combine(_feed.Work, "mine.effw"), new TrainOptions { Seed = 1, CacheFolder = null, FineTuning = new FineTuningOptions { Blocks = 2 } }, line => Assert.Fail(line));
            string summary = string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0} classes, validation accuracy {1:P1}",
                expected.Labels.Count, expected.Result.ValidationAccuracy);
            Assert.Equal(new[] { summary }.Concat(Lines(expected.ConfusionText())), Lines(output));
            Assert.True(Directory.Exists(Path.Combine(cache, "effnet", "features")), "the program's features were not cached where XDG_CACHE_HOME points");
        }

        static string Fixture(string name) => Path.Combine(DotnetProcess.RepositoryRoot(), "tests", "Imaging.Tests", "Fixtures", name);

        string RunSnippet(string heading) => RunSnippet(heading, new() { ["b0.effw"] = _feed.WeightBlob, [Photo] = PhotoSource });

        /// <summary>
        /// Writes the C# block under <paramref name="heading"/> as Program.cs of a fresh consumer, byte for byte, next to
        /// the files it opens (<paramref name="provided"/>: name in the snippet -> source), runs it with
        /// <paramref name="arguments"/> and returns what it printed.
        /// </summary>
        /// <param name="writes">file names the snippet writes (not provided)</param>
        /// <param name="folders">folders to copy next to it: path in the snippet -> source folder</param>
        string RunSnippet(string heading, Dictionary<string, string> provided, string[]? arguments = null, string[]? writes = null,
                          Dictionary<string, string>? folders = null, Dictionary<string, string>? environment = null)
        {
            string program = ReadmeSnippets.CSharpUnder(heading);
            foreach (Match file in Regex.Matches(program, "\"([\\w.-]+\\.\\w+)\""))
                Assert.True(provided.ContainsKey(file.Groups[1].Value) || (writes?.Contains(file.Groups[1].Value) ?? false),
                    $"The snippet under '{heading}' opens {file.Value}; the test provides only {string.Join(", ", provided.Keys)}.");

            string consumer = _feed.NewConsumer(new string(heading.Where(char.IsLetter).ToArray()), program);
            foreach (var (name, source) in provided)
                File.Copy(source, Path.Combine(consumer, name));
            foreach (var (name, source) in folders ?? new())
                foreach (string file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
                {
                    string target = Path.Combine(consumer, name, Path.GetRelativePath(source, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(file, target);
                }
            Assert.Equal(program, File.ReadAllText(Path.Combine(consumer, "Program.cs")));

            var run = DotnetProcess.RunWith(environment, consumer, new[] { "run", "-c", "Release", "--" }.Concat(arguments ?? []).ToArray());
            Assert.True(run.ExitCode == 0, run.Output);
            _log.WriteLine(run.Output);
            return run.Output;
        }

        /// <summary>The five most probable classes as the snippets print them: probability, two spaces, label.</summary>
        static IEnumerable<string> TopFive(EfficientNetModel model, float[] image, IReadOnlyList<string> labels)
        {
            var logits = new float[model.NumClasses];
            model.Run(image, logits);
            return Softmax.TopK(logits, 5).Select(c => $"{c.Probability,6:P1}  {labels[c.Index]}").ToArray();
        }

        static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

        string[] Entries(string id)
        {
            using ZipArchive zip = ZipFile.OpenRead(_feed.Package(id));
            return zip.Entries.Select(e => e.FullName).ToArray();
        }

        Dictionary<string, XElement> Dependencies(string id)
        {
            using ZipArchive zip = ZipFile.OpenRead(_feed.Package(id));
            return Nuspec(zip).Descendants().Where(e => e.Name.LocalName == "dependency")
                .ToDictionary(e => e.Attribute("id")!.Value);
        }

        static XDocument Nuspec(ZipArchive zip)
        {
            using Stream stream = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
            return XDocument.Load(stream);
        }
    }
}
