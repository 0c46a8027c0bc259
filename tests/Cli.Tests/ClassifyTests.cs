using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using EffNet.Cli.Classify;
using EffNet.Imaging;
using Xunit;
using static EffNet.Cli.Tests.CliRunner;

namespace EffNet.Cli.Tests
{
    /// <summary>
    /// `effnet classify` on real folders: files, directories and patterns; paths as given; every output format; a bad file
    /// reported while the run goes on; exit codes; the summary line; the same results on one thread and on many.
    /// </summary>
    [Collection(nameof(ClassifyTests))] // it sets the working directory, which the whole process shares
    public sealed class ClassifyTests : IClassFixture<CliWorkspace>, IDisposable
    {
        readonly CliWorkspace _work;
        readonly string _photos;
        readonly string _previousDirectory = Directory.GetCurrentDirectory();

        static string Fixture(string name) => CliWorkspace.Repository("tests", "Imaging.Tests", "Fixtures", name);

        /// <summary>photos/a/x.png, photos/a/y.jpg, photos/b/x.png, photos/b/deeper/z.gif and photos/notes.txt, relative to the working directory.</summary>
        public ClassifyTests(CliWorkspace work)
        {
            _work = work;
            string root = Directory.CreateTempSubdirectory("effnet-classify-").FullName;
            _photos = Path.Combine(root, "photos");
            Directory.CreateDirectory(Path.Combine(_photos, "a"));
            Directory.CreateDirectory(Path.Combine(_photos, "b", "deeper"));
            File.Copy(Fixture("photo.png"), Path.Combine(_photos, "a", "x.png"));
            File.Copy(Fixture("large_640x480.jpg"), Path.Combine(_photos, "a", "y.jpg"));
            File.Copy(Fixture("odd_97x143.png"), Path.Combine(_photos, "b", "x.png"));
            File.Copy(Fixture("palette.gif"), Path.Combine(_photos, "b", "deeper", "z.gif"));
            File.WriteAllText(Path.Combine(_photos, "notes.txt"), "not an image, and not taken from a directory");
            Directory.SetCurrentDirectory(root);
        }

        public void Dispose()
        {
            Directory.SetCurrentDirectory(_previousDirectory);
            Directory.Delete(Path.GetDirectoryName(_photos)!, recursive: true);
        }

        (int Exit, string Output, string Error) Classify(params string[] arguments)
            => Effnet(new[] { "classify", "-w", _work.B0Blob }.Concat(arguments).ToArray());

        static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        /// <summary>The printed paths of text output: the lines that are not indented ranks.</summary>
        static string[] PrintedPaths(string output) => Lines(output).Where(line => !line.StartsWith("  ", StringComparison.Ordinal)).ToArray();

        [Fact]
        public void A_directory_is_searched_at_any_depth_in_sorted_order_and_each_path_prints_as_the_argument_joined_to_its_place()
        {
            var result = Classify("photos", "--top", "1");
            Assert.True(result.Exit == 0, result.Error);
            string P(params string[] parts) => Path.Join(new[] { "photos" }.Concat(parts).ToArray());
            Assert.Equal(new[] { P("a", "x.png"), P("a", "y.jpg"), P("b", "deeper", "z.gif"), P("b", "x.png") }, PrintedPaths(result.Output));

            // The same name in two directories prints apart; a trailing separator is not doubled.
            var slash = Classify("photos/b/", "--top", "1");
            Assert.Equal(new[] { "photos/b/deeper/z.gif", "photos/b/x.png" }, PrintedPaths(slash.Output));
        }

        [Fact]
        public void A_symbolic_link_back_up_the_tree_is_not_followed_by_a_directory_walk_or_a_double_star()
        {
            Directory.CreateSymbolicLink(Path.Combine(_photos, "b", "up"), _photos);
            File.CreateSymbolicLink(Path.Combine(_photos, "b", "linked.png"), Path.Combine(_photos, "a", "x.png"));
            var walk = Classify("photos/b", "--top", "1");
            Assert.Equal(new[] { "photos/b/deeper/z.gif", "photos/b/linked.png", "photos/b/x.png" }, PrintedPaths(walk.Output));
            var glob = Classify("photos/b/**/*.png", "--top", "1");
            Assert.Equal(new[] { "photos/b/linked.png", "photos/b/x.png" }, PrintedPaths(glob.Output));
        }

        [Fact]
        public void An_unreadable_file_is_one_line_on_stderr_and_the_images_after_it_are_still_classified_with_exit_code_1()
        {
            File.WriteAllText(Path.Combine(_photos, "a", "broken.png"), "this is not a png");
            var result = Classify("photos/a/x.png", "photos/a/broken.png", "photos/missing.jpg", "photos/b/x.png", "--top", "1");

            Assert.Equal(1, result.Exit);
            Assert.Equal(new[] { "photos/a/x.png", "photos/b/x.png" }, PrintedPaths(result.Output));
            string[] errors = Lines(result.Error);
            Assert.Equal(3, errors.Length);
            Assert.StartsWith("effnet: photos/a/broken.png: ", errors[0]);
            Assert.Equal("effnet: photos/missing.jpg: does not exist.", errors[1]);
            Assert.Matches(@"^2 images classified, 2 failed, in \d+\.\d s: \d+\.\d images/s on \d+ threads?$", errors[2]);
        }

        [Fact]
        public void Every_image_classified_is_exit_code_0_with_a_summary_line_on_stderr_only()
        {
            var result = Classify("photos", "--top", "2", "--threads", "2");
            Assert.True(result.Exit == 0, result.Error);
            string[] errors = Lines(result.Error);
            Assert.Single(errors);
            Assert.Matches(@"^4 images classified, 0 failed, in \d+\.\d s: \d+\.\d images/s on 2 threads$", errors[0]);
            Assert.DoesNotContain("classified", result.Output);
        }

        [Fact]
        public void Glob_patterns_expand_in_sorted_order_and_a_pattern_that_matches_nothing_is_a_failure()
        {
            var result = Classify("photos/**/x.png", "photos/*/[xy].jpg", "photos/?/*/*.gif", "photos/*.webp", "--top", "1");
            Assert.Equal(1, result.Exit);
            Assert.Equal(new[] { "photos/a/x.png", "photos/b/x.png", "photos/a/y.jpg", "photos/b/deeper/z.gif" }, PrintedPaths(result.Output));
            Assert.Equal("effnet: photos/*.webp: no file matches this pattern.", Lines(result.Error)[0]);

            var deep = Classify("photos/**/*.gif", "--top", "1");
            Assert.Equal(new[] { "photos/b/deeper/z.gif" }, PrintedPaths(deep.Output));
        }

        [Fact]
        public void A_directory_without_images_is_a_failure_that_names_the_extensions_it_looked_for()
        {
            string empty = Path.Combine(_photos, "empty");
            Directory.CreateDirectory(empty);
            File.WriteAllText(Path.Combine(empty, "readme.txt"), "no pictures here");
            var result = Classify("photos/empty", "photos/a/x.png");
            Assert.Equal(1, result.Exit);
            Assert.Single(PrintedPaths(result.Output));
            Assert.StartsWith("effnet: photos/empty: no image files in this directory or below it", Lines(result.Error)[0]);
            Assert.Contains(".jpg", Lines(result.Error)[0]);
        }

        [Fact]
        public void Text_json_jsonl_and_csv_carry_the_same_classes_and_probabilities_as_running_the_model_directly()
        {
            // What the formats must say: the compiled model's own top-3 on the recorded preprocessing.
            var expected = new List<(string Path, ClassProbability[] Top)>();
            using (var model = B0.Load(_work.B0Blob))
            {
                Preprocessing preprocessing = Preprocessing.ForTorchvision(0);
                var tensor = new float[B0.InputLength];
                var logits = new float[B0.NumClasses];
                foreach (string path in new[] { "photos/a/x.png", "photos/a/y.jpg", "photos/b/deeper/z.gif", "photos/b/x.png" })
                {
                    preprocessing.Apply(path, tensor);
                    model.Run(tensor, logits);
                    expected.Add((path, Softmax.TopK(logits, 3)));
                }
            }

            var text = Classify("photos", "-k", "3", "--format", "text");
            var lines = Lines(text.Output);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Path, lines[4 * i]);
                for (int r = 0; r < 3; r++)
                    Assert.EndsWith($"{ImageNetClasses.Names[expected[i].Top[r].Index]} ({expected[i].Top[r].Index})", lines[4 * i + 1 + r]);
            }

            void AssertObjects(IEnumerable<JsonElement> objects)
            {
                JsonElement[] all = objects.ToArray();
                Assert.Equal(expected.Count, all.Length);
                for (int i = 0; i < all.Length; i++)
                {
                    Assert.Equal(expected[i].Path, all[i].GetProperty("image").GetString());
                    JsonElement[] top = all[i].GetProperty("top").EnumerateArray().ToArray();
                    Assert.Equal(3, top.Length);
                    for (int r = 0; r < 3; r++)
                    {
                        Assert.Equal(expected[i].Top[r].Index, top[r].GetProperty("index").GetInt32());
                        Assert.Equal(ImageNetClasses.Names[expected[i].Top[r].Index], top[r].GetProperty("label").GetString());
                        Assert.Equal(expected[i].Top[r].Probability, top[r].GetProperty("probability").GetSingle());
                    }
                }
            }

            var json = Classify("photos", "-k", "3", "--format", "json");
            using (JsonDocument doc = JsonDocument.Parse(json.Output))
                AssertObjects(doc.RootElement.EnumerateArray().Select(e => e.Clone()));

            var jsonl = Classify("photos", "-k", "3", "--format", "jsonl");
            AssertObjects(Lines(jsonl.Output).Select(line => JsonDocument.Parse(line).RootElement));

            var csv = Lines(Classify("photos", "-k", "3", "--format", "csv").Output);
            Assert.Equal("path,rank,index,label,probability", csv[0]);
            Assert.Equal(1 + 3 * expected.Count, csv.Length);
            for (int i = 0; i < expected.Count; i++)
                for (int r = 0; r < 3; r++)
                {
                    ClassProbability p = expected[i].Top[r];
                    Assert.Equal(string.Join(",", expected[i].Path, r + 1, p.Index, ImageNetClasses.Names[p.Index], p.Probability.ToString(CultureInfo.InvariantCulture)),
                                 csv[1 + 3 * i + r]);
                }
        }

        [Fact]
        public void Csv_quotes_a_label_that_holds_a_comma_or_a_quote()
        {
            var output = new StringWriter();
            var labels = new ClassLabels(new[] { "plain", "with, comma", "say \"hi\"" }, 3);
            ResultWriter writer = ResultWriter.For(ResultFormat.Csv, output, labels);
            writer.Begin();
            writer.Write("dir,1/a.png", new[] { new ClassProbability(1, 0.5f), new ClassProbability(2, 0.25f), new ClassProbability(0, 0.25f) });
            writer.End();
            Assert.Equal(new[]
            {
                "path,rank,index,label,probability",
                "\"dir,1/a.png\",1,1,\"with, comma\",0.5",
                "\"dir,1/a.png\",2,2,\"say \"\"hi\"\"\",0.25",
                "\"dir,1/a.png\",3,0,plain,0.25",
            }, Lines(output.ToString().Replace("\r", "")));
        }

        [Fact]
        public void One_thread_and_many_give_the_same_output_in_the_same_order()
        {
            for (int copy = 0; copy < 6; copy++)
                File.Copy(Fixture(copy % 2 == 0 ? "large_640x480.png" : "odd_1001x757.png"), Path.Combine(_photos, "b", $"copy{copy}.png"));
            var one = Classify("photos", "-f", "jsonl", "--threads", "1");
            var many = Classify("photos", "-f", "jsonl", "--threads", "4");
            Assert.True(one.Exit == 0 && many.Exit == 0, one.Error + many.Error);
            Assert.Equal(10, Lines(one.Output).Length);
            Assert.Equal(one.Output, many.Output);
            Assert.EndsWith("on 1 thread", Lines(one.Error)[0]);
            Assert.EndsWith("on 4 threads", Lines(many.Error)[0]);
        }

        [Fact]
        public void Only_text_json_jsonl_and_csv_are_formats_and_threads_must_be_positive()
        {
            AssertOneLineUserError(Classify("photos", "--format", "xml"), "Argument 'xml' not recognized. Must be one of:");
            AssertOneLineUserError(Classify("photos", "--threads", "0"), "--threads must be at least 1, not 0.");
        }

        [Theory]
        [InlineData("*.png", "a.png", true)]
        [InlineData("*.png", "a.jpg", false)]
        [InlineData("[a-c]?.jpg", "b1.jpg", true)]
        [InlineData("[a-c]?.jpg", "d1.jpg", false)]
        [InlineData("[!a]*", "b", true)]
        [InlineData("[!a]*", "a", false)]
        [InlineData("x.(1)+", "x.(1)+", true)]
        [InlineData("x.(1)+", "xx(1)", false)]
        public void A_glob_segment_matches_whole_names_with_star_question_mark_and_sets(string pattern, string name, bool matches)
            => Assert.Equal(matches, PathGlob.ToRegex(pattern).IsMatch(name));
    }

    [CollectionDefinition(nameof(ClassifyTests), DisableParallelization = true)]
    public sealed class ClassifyTestsRunAlone;
}
