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
    }
}
