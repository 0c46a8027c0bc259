using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using EffNet.Import;
using EffNet.Model;
using Xunit;
using static EffNet.Cli.Tests.CliRunner;

namespace EffNet.Cli.Tests
{
    /// <summary>
    /// effnet destroys no file: an output that is an input (under any name), a FIFO or device, or that cannot be written
    /// to the end is refused or abandoned with one line naming the target, and leaves the old file and no temporary file.
    /// Inputs are opened once and read straight through, so weights from a FIFO or a pipe work.
    /// </summary>
    public sealed class CliFileSafetyTests : IClassFixture<CliWorkspace>, IDisposable
    {
        readonly CliWorkspace _work;
        readonly string _folder = Directory.CreateTempSubdirectory("effnet-cli-files-").FullName;
        readonly string _input;

        public CliFileSafetyTests(CliWorkspace work)
        {
            _work = work;
            _input = Path.Combine(_folder, "input.npy");
            NpyFile.Write(_input, SyntheticWeights.CreateInput(224, name: "files"), new[] { 1, 3, 224, 224 });
        }

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        string PathOf(string name) => Path.Combine(_folder, name);

        void AssertNoPartialFiles() => Assert.Empty(Directory.GetFiles(_folder, "*.partial-*"));

        static void Shell(string command)
        {
            using Process process = Process.Start("sh", new[] { "-c", command });
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
        }

        /// <summary>The logits of the workspace's B0 for the input, from the blob read as a regular file.</summary>
        byte[] ReferenceLogits()
        {
            string output = PathOf("reference.npy");
            var run = Effnet("run", "-w", _work.B0Blob, "-i", _input, "-o", output);
            Assert.True(run.Exit == 0, run.Error);
            return File.ReadAllBytes(output);
        }

        [Fact]
        public void Run_refuses_an_output_that_is_its_weights_or_its_input_under_any_name()
        {
            if (OperatingSystem.IsWindows())
                return; // hard links made with ln
            string weights = PathOf("b0.effw");
            File.Copy(_work.B0Blob, weights);
            Shell($"ln '{weights}' '{PathOf("b0-link.effw")}'");
            byte[] weightBytes = File.ReadAllBytes(weights), inputBytes = File.ReadAllBytes(_input);
            foreach ((string output, string input) in new[] { (weights, weights), (PathOf("b0-link.effw"), weights), (_input, _input) })
                AssertOneLineUserError(Effnet("run", "-w", weights, "-i", _input, "-o", output),
                    $"Cannot write '{output}': it is the input file '{input}', which writing would destroy. Choose another output path.");
            Assert.Equal(weightBytes, File.ReadAllBytes(weights));
            Assert.Equal(inputBytes, File.ReadAllBytes(_input));
            AssertNoPartialFiles();
        }

        [Fact]
        public void Import_refuses_an_output_that_is_its_checkpoint()
        {
            string checkpoint = PathOf("in.pth");
            File.Copy(DamagedCheckpoints.Source, checkpoint);
            byte[] before = File.ReadAllBytes(checkpoint);
            AssertOneLineUserError(Effnet("import", checkpoint, "--phi", "0", "--classes", "10", "-o", checkpoint),
                $"Cannot write '{checkpoint}': it is the input file '{checkpoint}', which writing would destroy.");
            Assert.Equal(before, File.ReadAllBytes(checkpoint));
            AssertNoPartialFiles();
        }

        [Fact]
        public void An_output_that_is_a_FIFO_is_refused_and_stays_a_FIFO()
        {
            if (OperatingSystem.IsWindows())
                return;
            string fifo = PathOf("out.fifo");
            Shell($"mkfifo '{fifo}'");
            AssertOneLineUserError(Effnet("run", "-w", _work.B0Blob, "-i", _input, "-o", fifo),
                $"Cannot write '{fifo}': it exists and is not a regular file (a device, FIFO or socket), which writing would replace. Give the path of a regular file.");
            Shell($"test -p '{fifo}'");
            AssertNoPartialFiles();
        }

        /// <summary>
        /// The file-size limit makes a write fail as a full disk does (EFBIG instead of ENOSPC, with SIGXFSZ ignored): the
        /// run's 4 KB of logits fail when flushed, the import's 16 MB blob while written.
        /// </summary>
        [Theory]
        [InlineData("run")]
        [InlineData("import")]
        public void A_write_that_fails_for_lack_of_space_keeps_the_old_output_and_leaves_no_partial_file(string command)
        {
            if (OperatingSystem.IsWindows())
                return; // needs ulimit
            string target = PathOf(command == "run" ? "logits.npy" : "b0.effw");
            File.WriteAllText(target, "old bytes");
            string[] args = command == "run"
                ? new[] { "run", "-w", _work.B0Blob, "-i", _input, "-o", target }
                : new[] { "import", DamagedCheckpoints.Source, "--phi", "0", "--classes", "10", "-o", target };
            var result = EffnetProcess("trap '' XFSZ; ulimit -f 2", null, args);
            AssertOneLineUserError(result, $"Could not write '{target}': the file would exceed the file-size limit");
            Assert.Contains("the existing file is unchanged.", result.Error);
            Assert.DoesNotContain(".partial-", result.Error);
            Assert.Equal("old bytes", File.ReadAllText(target));
            AssertNoPartialFiles();
        }

        [Fact]
        public void Weights_from_a_FIFO_are_read_once_and_give_the_logits_of_the_file()
        {
            if (OperatingSystem.IsWindows())
                return;
            byte[] expected = ReferenceLogits();
            string fifo = PathOf("weights.fifo"), output = PathOf("from-fifo.npy");
            Shell($"mkfifo '{fifo}'");
            // The writer gives up after a minute, so a reader that never comes (or comes twice) cannot leave it behind.
            var result = EffnetProcess($"timeout 60 sh -c \"cat '{_work.B0Blob}' > '{fifo}'\" >/dev/null 2>&1 &", null,
                "run", "-w", fifo, "-i", _input, "-o", output);
            Assert.True(result.Exit == 0, result.Error);
            Assert.Equal(expected, File.ReadAllBytes(output));
        }

        [Fact]
        public void Weights_piped_to_stdin_give_the_logits_of_the_file()
        {
            if (OperatingSystem.IsWindows())
                return;
            byte[] expected = ReferenceLogits();
            string output = PathOf("from-stdin.npy");
            var result = EffnetProcess("", File.ReadAllBytes(_work.B0Blob), "run", "-w", "/dev/stdin", "-i", _input, "-o", output);
            Assert.True(result.Exit == 0, result.Error);
            Assert.Equal(expected, File.ReadAllBytes(output));
        }

        [Theory]
        [InlineData("run")]
        [InlineData("import")]
        public void A_npy_input_or_checkpoint_from_a_FIFO_is_refused_in_one_line(string command)
        {
            if (OperatingSystem.IsWindows())
                return;
            string fifo = PathOf("input.fifo");
            Shell($"mkfifo '{fifo}'");
            string[] args = command == "run"
                ? new[] { "run", "-w", _work.B0Blob, "-i", fifo, "-o", PathOf("never.npy") }
                : new[] { "import", fifo, "--phi", "0", "-o", PathOf("never.effw") };
            var result = EffnetProcess($"timeout 60 sh -c \"cat '{(command == "run" ? _input : DamagedCheckpoints.Source)}' > '{fifo}'\" >/dev/null 2>&1 &", null, args);
            AssertOneLineUserError(result, $"{fifo}: it is a pipe, FIFO or device, not a regular file;");
            Assert.Contains("Save it to a file first.", result.Error);
            Assert.Empty(Directory.GetFiles(_folder, "never.*"));
        }

        [Fact]
        public void Truncated_weights_on_a_pipe_are_refused_with_the_offset_where_they_end()
        {
            if (OperatingSystem.IsWindows())
                return;
            byte[] blob = File.ReadAllBytes(_work.B0Blob);
            var result = EffnetProcess("", blob.AsSpan(0, blob.Length - 1000).ToArray(), "run", "-w", "/dev/stdin", "-i", _input, "-o", PathOf("never.npy"));
            AssertOneLineUserError(result, $"/dev/stdin: the file ends at offset {blob.Length - 1000} inside");
            Assert.False(File.Exists(PathOf("never.npy")));
        }
    }
}
