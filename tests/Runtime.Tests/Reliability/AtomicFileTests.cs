using System;
using System.Diagnostics;
using System.IO;
using EffNet.IO;
using EffNet.Runtime.Tests.Import;
using Xunit;

namespace EffNet.Runtime.Tests.Reliability
{
    /// <summary>
    /// Writing an output never destroys anything: not an input under another name, not a device, not the old target
    /// when the write fails; and the messages name the target and its directory, never the temporary file.
    /// </summary>
    public sealed class AtomicFileTests : IDisposable
    {
        readonly TempDirectory _temp = new TempDirectory();

        public void Dispose() => _temp.Dispose();

        string[] Partials() => Directory.GetFiles(_temp.Path, "*.partial-*");

        static void Write(string path, string text, params string[] inputs)
        {
            using AtomicFile file = AtomicFile.Create(path, inputs);
            file.Stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
            file.Commit();
        }

        [Fact]
        public void A_file_is_the_same_file_under_a_hard_link_and_another_one_is_not()
        {
            if (!OperatingSystem.IsLinux())
                return; // device and inode come from statx; elsewhere identity is the resolved path
            string input = _temp.Write("input.bin", new byte[] { 1 }), other = _temp.Write("other.bin", new byte[] { 1 });
            string link = _temp.File("hard-link.bin");
            Run("ln", input, link);
            FileIdentity original = FileIdentity.Of(input)!.Value, linked = FileIdentity.Of(link)!.Value;
            Assert.NotNull(original.Node); // statx answered, not the path fallback
            Assert.Equal(FileKind.Regular, original.Kind);
            Assert.True(original.IsSameFileAs(linked));
            Assert.False(original.IsSameFileAs(FileIdentity.Of(other)!.Value));
            Assert.Null(FileIdentity.Of(_temp.File("absent.bin")));
            Assert.Equal(FileKind.Directory, FileIdentity.Of(_temp.Path)!.Value.Kind);
        }

        [Fact]
        public void An_output_that_is_the_input_file_is_refused_under_any_name()
        {
            string input = _temp.Write("input.bin", new byte[] { 1, 2, 3 });
            var names = new System.Collections.Generic.List<string> { input, Path.Combine(_temp.Path, ".", "sub", "..", "input.bin") };
            names.Add(File.CreateSymbolicLink(_temp.File("symbolic.bin"), input).FullName);
            if (OperatingSystem.IsLinux())
            {
                Run("ln", input, _temp.File("hard.bin"));
                names.Add(_temp.File("hard.bin"));
            }
            Directory.CreateDirectory(_temp.File("sub"));
            foreach (string output in names)
            {
                var error = Assert.Throws<IOException>(() => Write(output, "replaced", "/some/other/input", input));
                Assert.Contains($"it is the input file '{input}', which writing would destroy. Choose another output path.", error.Message);
            }
            Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(input));
            Assert.Empty(Partials());
        }

        [Fact]
        public void An_output_that_is_a_FIFO_or_device_is_refused_and_left_alone()
        {
            if (!OperatingSystem.IsLinux())
                return; // telling a device from a file needs statx
            Assert.Equal(FileKind.Special, FileIdentity.Of("/dev/null")!.Value.Kind); // only looked at: a regression must not replace it
            string fifo = _temp.File("fifo");
            Run("mkfifo", fifo);
            var error = Assert.Throws<IOException>(() => Write(fifo, "x"));
            Assert.Equal($"Cannot write '{fifo}': it exists and is not a regular file (a device, FIFO or socket), which writing would replace. Give the path of a regular file.", error.Message);
            Assert.Equal(FileKind.Special, FileIdentity.Of(fifo)!.Value.Kind);
            Assert.Empty(Partials());
        }

        [Fact]
        public void An_output_in_a_missing_directory_names_the_directory_and_not_a_temporary_file()
        {
            string target = Path.Combine(_temp.Path, "missing", "dir", "x.effw");
            var error = Assert.Throws<IOException>(() => Write(target, "x"));
            Assert.Equal($"Cannot write '{target}': the directory '{Path.Combine(_temp.Path, "missing", "dir")}' does not exist. " +
                         "Create it first, or choose an output path in an existing directory.", error.Message);
            string file = _temp.Write("file", new byte[1]);
            error = Assert.Throws<IOException>(() => Write(Path.Combine(file, "x.effw"), "x"));
            Assert.Contains($"'{file}' is a file, not a directory", error.Message);
        }

        [Fact]
        public void A_write_that_fails_midway_keeps_the_old_target_and_leaves_no_partial_file()
        {
            string target = _temp.Write("target.npy", new byte[] { 7, 7 });
            Action failingWriter = () =>
            {
                using AtomicFile file = AtomicFile.Create(target);
                file.Stream.Write(new byte[100_000]); // past the 64 KB buffer: some bytes are on the disk
                throw new InvalidDataException("the writer failed");
            };
            Assert.Throws<InvalidDataException>(failingWriter);
            Assert.Equal(new byte[] { 7, 7 }, File.ReadAllBytes(target));
            Assert.Empty(Partials());
        }

        [Fact]
        public void Writing_through_a_symbolic_link_replaces_the_file_it_points_to_and_keeps_the_link()
        {
            string real = _temp.Write("real.txt", new byte[] { 1 });
            string link = File.CreateSymbolicLink(_temp.File("link.txt"), real).FullName;
            Write(link, "new");
            Assert.Equal("new", File.ReadAllText(real));
            Assert.Equal(real, new FileInfo(link).LinkTarget);
            Assert.Empty(Partials());
        }

        static void Run(string program, params string[] arguments)
        {
            using Process process = Process.Start(program, arguments);
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
        }
    }
}
