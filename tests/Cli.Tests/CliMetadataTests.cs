using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using Xunit;
using static EffNet.Cli.Tests.CliRunner;

namespace EffNet.Cli.Tests
{
    /// <summary>import --labels and the preprocessing options, and what inspect prints of them.</summary>
    public sealed class CliMetadataTests : IClassFixture<CliWorkspace>
    {
        static readonly string Checkpoint = CliWorkspace.Repository("tests", "Runtime.Tests", "Fixtures", "b0_c10_fp16.pt");
        readonly CliWorkspace _work;

        public CliMetadataTests(CliWorkspace work) => _work = work;

        (int Exit, string Output, string Error) Import(string blob, params string[] options)
            => Effnet(new[] { "import", Checkpoint, "--phi", "0", "--classes", "10", "-o", blob }.Concat(options).ToArray());

        string Labels(string name, string text)
        {
            string path = _work.PathOf(name);
            File.WriteAllText(path, text);
            return path;
        }

        static string Line(string card, string name) => card.Split('\n').Single(l => l.StartsWith(name.PadRight(16), StringComparison.Ordinal))[16..];

        [Fact]
        public void Import_with_labels_records_them_and_inspect_prints_labels_preprocessing_and_provenance()
        {
            string blob = _work.PathOf("labelled.effw");
            string labels = Labels("ten.txt", string.Join("\n", Enumerable.Range(0, 10).Select(i => "class " + i)) + "\n");
            var import = Import(blob, "--labels", labels);
            Assert.True(import.Exit == 0, import.Error);
            Assert.Contains("Labels: 10 (class 0, class 1, class 2, ...).", import.Output);
            Assert.Contains("Preprocessing: resize 256, crop 224, bicubic, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).", import.Output);

            string card = Effnet("inspect", blob).Output;
            Assert.Equal("10: class 0, class 1, class 2, ...", Line(card, "labels"));
            Assert.Equal("resize 256, crop 224, bicubic, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)", Line(card, "preprocessing"));
            Assert.Equal("b0_c10_fp16.pt", Line(card, "source file"));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Checkpoint))), Line(card, "source sha256"));
            Assert.Matches(@"^EffNet 1\.0\.0\S* at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", Line(card, "written by"));
            Assert.Equal("EffNet weight blob v2", Line(card, "format"));
        }

        [Fact]
        public void Classify_prints_the_labels_the_blob_carries()
        {
            string blob = _work.PathOf("named.effw");
            string[] names = { "apple", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay" };
            Assert.Equal(0, Import(blob, "--labels", Labels("names.txt", string.Join("\n", names))).Exit);
            var classify = Effnet("classify", "-w", blob, "--top", "10", CliWorkspace.Repository("tests", "Imaging.Tests", "Fixtures", "photo.png"));
            Assert.True(classify.Exit == 0, classify.Error);
            foreach (string name in names)
                Assert.Matches($@"  \d+\. +[\d.]+ %  {name} \(\d\)", classify.Output);
            Assert.DoesNotContain("class ", classify.Output);
        }

        [Fact]
        public void Preprocessing_options_change_the_published_preset_and_inspect_shows_the_result()
        {
            string blob = _work.PathOf("preprocessed.effw");
            var import = Import(blob, "--resize", "232", "--interpolation", "bilinear", "--mean", "0.5,0.5,0.5", "--std", "0.25, 0.25, 0.25");
            Assert.True(import.Exit == 0, import.Error);
            Assert.Equal("resize 232, crop 224, bilinear, mean (0.5, 0.5, 0.5), std (0.25, 0.25, 0.25)", Line(Effnet("inspect", blob).Output, "preprocessing"));
            Assert.Equal("none", Line(Effnet("inspect", blob).Output, "labels"));
        }

        [Fact]
        public void A_labels_file_with_the_wrong_count_is_refused_naming_the_file_and_the_fix()
        {
            string blob = _work.PathOf("three.effw");
            string labels = Labels("three.txt", "a\nb\nc\n");
            AssertOneLineUserError(Import(blob, "--labels", labels), $"{labels}: there are 3 labels but the model has 10 classes: give exactly one label per class");
            Assert.False(File.Exists(blob));
        }

        [Fact]
        public void A_labels_file_with_an_empty_line_is_refused_naming_the_file_and_the_line()
        {
            string labels = Labels("gap.txt", "a\nb\n\nc\n");
            AssertOneLineUserError(Import(_work.PathOf("gap.effw"), "--labels", labels), $"{labels}: line 3 cannot be a label: it is empty");
        }

        [Fact]
        public void An_absent_labels_file_is_refused()
            => AssertOneLineUserError(Import(_work.PathOf("absent.effw"), "--labels", _work.PathOf("absent.txt")), "absent.txt' does not exist");

        [Theory]
        [InlineData("--crop", "200", "the preprocessing crops 200 pixels but the model's input is 224")]
        [InlineData("--mean", "0.5,0.5", "--mean '0.5,0.5' must be three numbers separated by commas")]
        [InlineData("--std", "1,0,1", "every std must be finite and non-zero")]
        [InlineData("--resize", "0", "resize size 0 must be 1..16384")]
        [InlineData("--interpolation", "nearest", "nearest")]
        public void A_bad_preprocessing_option_is_a_one_line_error(string option, string value, string expected)
            => AssertOneLineUserError(Import(_work.PathOf("bad.effw"), option, value), expected);

        [Fact]
        public void Without_a_published_preset_the_preprocessing_options_need_resize()
        {
            var result = Effnet("import", Checkpoint, "--phi", "0", "--classes", "10", "--resolution", "160", "-o", _work.PathOf("r160.effw"), "--mean", "0.5,0.5,0.5");
            AssertOneLineUserError(result, "--resize is required with the other preprocessing options: EfficientNet-B0 @160x160");
        }

        [Fact]
        public void Inspect_of_a_v1_blob_says_it_has_no_labels_and_no_recorded_preprocessing()
        {
            string card = Effnet("inspect", CliWorkspace.Repository("tests", "Runtime.Tests", "Fixtures", "blob_v1", "tiny_v1.effw")).Output;
            Assert.Equal("EffNet weight blob v1", Line(card, "format"));
            Assert.Equal("none", Line(card, "labels"));
            Assert.Equal("unknown (none recorded)", Line(card, "preprocessing"));
            Assert.DoesNotContain("source sha256", card);
        }
    }
}
