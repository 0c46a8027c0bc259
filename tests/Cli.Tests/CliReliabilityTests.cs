using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using EffNet.Import;
using Xunit;
using static EffNet.Cli.Tests.CliRunner;

namespace EffNet.Cli.Tests
{
    /// <summary>Checkpoints for the reliability tests: B0 (10 classes) with one NaN weight, and with a negative running variance.</summary>
    public sealed class DamagedCheckpoints : IDisposable
    {
        public DamagedCheckpoints()
        {
            Folder = Directory.CreateTempSubdirectory("effnet-cli-damaged-").FullName;
            Dictionary<string, SourceTensor> tensors = PyTorchCheckpoint.Read(Source);
            tensors["features.4.0.block.1.0.weight"].Data[7] = float.NaN;
            NaN = Path.Combine(Folder, "nan.safetensors");
            SafeTensorsFile.Write(NaN, tensors);
            tensors["features.4.0.block.1.0.weight"].Data[7] = 0f;
            tensors["features.6.0.block.0.1.running_var"].Data[3] = -1f;
            NegativeVariance = Path.Combine(Folder, "negative_var.safetensors");
            SafeTensorsFile.Write(NegativeVariance, tensors);
        }

        public static string Source => CliWorkspace.Repository("tests", "Runtime.Tests", "Fixtures", "b0_c10_fp16.pt");

        public string Folder { get; }
        public string NaN { get; }
        public string NegativeVariance { get; }

        public void Dispose() => Directory.Delete(Folder, recursive: true);
    }

    /// <summary>
    /// Every user error exits 1 with exactly one line on stderr and nothing on stdout; outputs are written atomically, so a
    /// failed or interrupted import leaves no file at the target (an existing one keeps its old bytes) and no temporary file.
    /// </summary>
    public sealed class CliReliabilityTests : IClassFixture<CliWorkspace>, IClassFixture<DamagedCheckpoints>
    {
        readonly CliWorkspace _work;
        readonly DamagedCheckpoints _damaged;

        public CliReliabilityTests(CliWorkspace work, DamagedCheckpoints damaged)
        {
            _work = work;
            _damaged = damaged;
        }

        string[] Partials() => Directory.GetFiles(_work.Folder, "*.partial-*").Concat(Directory.GetFiles(_damaged.Folder, "*.partial-*")).ToArray();

        /// <summary>Each user mistake, by command: the arguments (with {blob}, {folder} and {damaged} placeholders) and what the line must say.</summary>
        public static TheoryData<string, string> UserErrors() => new()
        {
            { "", "Required command was not provided" },
            { "frobnicate", "Unrecognized command or argument 'frobnicate'" },
            { "import {damaged}/nan.safetensors --phi 0 -o {folder}/x.effw --frob", "unknown option '--frob'. Run 'effnet import --help' for usage." },
            { "classify --weights {blob} --frobnicate {repo}/tests/Imaging.Tests/Fixtures/photo.png", "unknown option '--frobnicate'. Run 'effnet classify --help' for usage." },
            { "import --phi zero {damaged}/nan.safetensors -o {folder}/x.effw", "Cannot parse argument 'zero' for option '--phi'" },
            { "import {damaged}/nan.safetensors --phi 0", "Option '--output' is required" },
            { "import {damaged}/nan.safetensors --phi 0 --padding same -o {folder}/x.effw", "Argument 'same' not recognized. Must be one of: 'torch' 'tf'." },
            { "import {damaged}/nan.safetensors --phi 0 --classes 0 -o {folder}/x.effw", "NumClasses 0 is out of range" },
            { "import {damaged}/nan.safetensors --phi 0 --resolution 5 -o {folder}/x.effw", "Resolution 5 is out of range" },
            { "import {damaged}/nan.safetensors --phi 0 --classes 10 --bn-eps -1 -o {folder}/x.effw", "BatchNorm epsilon must be a positive number" },
            { "import {damaged}/nan.safetensors --phi 0 --classes 10 -o {folder}/x.effw", "holds NaN at index 7" },
            { "import {damaged}/negative_var.safetensors --phi 0 --classes 10 -o {folder}/x.effw", "folding BatchNorm 'features.6.0.block.0.1'" },
            { "import {blob} --phi 0 -o {folder}/x.effw", "already an EffNet weight blob" },
            { "import {repo}/tests/Runtime.Tests/Fixtures/evil_os_system.pt --phi 0 -o {folder}/x.effw", "refuses global 'posix.system'" },
            { "import {damaged}/nan.safetensors --phi 0 --classes 10 --allow-non-finite -o {folder}", "it is a directory" },
            { "import {damaged}/nan.safetensors --phi 0 --classes 10 --allow-non-finite -o {folder}/missing/dir/x.effw", "the directory '{folder}/missing/dir' does not exist. Create it first" },
            { "import {damaged}/nan.safetensors --phi 3 -o {folder}/x.effw", "--phi 3 does not fit: it holds EfficientNet-B0 with 10 classes, not EfficientNet-B3. Import it with: effnet import {damaged}/nan.safetensors -o {folder}/x.effw" },
            { "import {damaged}/nan.safetensors --classes 1000 -o {folder}/x.effw", "--classes 1000 does not fit: its classifier has 10 outputs" },
            { "import {damaged}/nan.safetensors --phi 0 --depth 1 -o {folder}/x.effw", "Give --phi, or --width and --depth, not both" },
            { "import {folder} -o {folder}/x.effw", "{folder}: this is a directory, not a file" },
            { "inspect {folder}", "{folder}: this is a directory, not a weight file" },
            { "run --weights {folder} --input {folder}/absent.npy --output {folder}/o.npy", "{folder}: this is a directory, not a weight file" },
            { "run --weights {blob} --input {folder} --output {folder}/o.npy", "{folder}: this is a directory, not a file" },
            { "classify --weights {folder} {repo}/tests/Imaging.Tests/Fixtures/photo.png", "{folder}: this is a directory, not a weight file" },
            { "inspect {folder}/absent.effw", "does not exist" },
            { "inspect {damaged}/nan.safetensors", "not an EffNet weight blob" },
            { "run --weights {blob} --input {folder}/absent.npy --output {folder}/o.npy", "does not exist" },
            { "run --weights {blob} --input {blob} --output {folder}/o.npy", "not a .npy file" },
            { "run --weights {folder}/absent.effw --input {folder}/absent.npy --output {folder}/o.npy", "does not exist" },
            { "classify --weights {blob} {repo}/tests/Imaging.Tests/Fixtures/photo.png --top 0", "--top must be at least 1" },
            { "classify --weights {blob} --top x {repo}/tests/Imaging.Tests/Fixtures/photo.png", "Cannot parse argument 'x' for option '--top'" },
        };

        [Theory]
        [MemberData(nameof(UserErrors))]
        public void Every_user_error_exits_1_with_one_line_and_leaves_no_file(string arguments, string expected)
        {
            string[] args = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(a => a.Replace("{blob}", _work.B0Blob).Replace("{folder}", _work.Folder).Replace("{damaged}", _damaged.Folder)
                              .Replace("{repo}", CliWorkspace.Repository()))
                .ToArray();
            AssertOneLineUserError(Effnet(args), expected.Replace("{folder}", _work.Folder).Replace("{damaged}", _damaged.Folder));
            Assert.False(File.Exists(_work.PathOf("x.effw")));
            Assert.False(File.Exists(_work.PathOf("o.npy")));
            Assert.Empty(Partials());
        }

        [Fact]
        public void A_failed_import_keeps_the_existing_target_byte_for_byte()
        {
            string target = Path.Combine(_damaged.Folder, "existing.effw");
            File.Copy(_work.B0Blob, target, overwrite: true);
            byte[] before = File.ReadAllBytes(target);
            AssertOneLineUserError(Effnet("import", _damaged.NegativeVariance, "--phi", "0", "--classes", "10", "-o", target), "running_var");
            Assert.Equal(before, File.ReadAllBytes(target));
            Assert.Empty(Partials());
        }

        [Fact]
        public void Run_refuses_a_non_finite_input_naming_the_image_and_position_of_the_first()
        {
            const int imageLength = 3 * 224 * 224;
            var batch = new float[2 * imageLength];
            batch[imageLength + (2 * 224 + 223) * 224 + 219] = float.PositiveInfinity; // image 1, [2, 223, 219]
            batch[^1] = float.NaN;
            string input = _work.PathOf("non-finite.npy");
            NpyFile.Write(input, batch, new[] { 2, 3, 224, 224 });
            AssertOneLineUserError(Effnet("run", "-w", _work.B0Blob, "-i", input, "-o", _work.PathOf("o.npy")),
                "non-finite.npy holds +Infinity in image 1 at index 150523 ([2, 223, 219] of [3, 224, 224]) [c, y, x]; every logit of that image would be NaN.");
            Assert.False(File.Exists(_work.PathOf("o.npy")));
            Assert.Empty(Partials());
        }

        [Fact]
        public void Allow_non_finite_imports_the_NaN_and_inspect_says_so()
        {
            string target = Path.Combine(_damaged.Folder, "allowed.effw");
            var import = Effnet("import", _damaged.NaN, "--phi", "0", "--classes", "10", "--allow-non-finite", "-o", target);
            Assert.True(import.Exit == 0, import.Error);
            var inspect = Effnet("inspect", target);
            Assert.Equal(0, inspect.Exit);
            Assert.Contains("non-finite      allowed", inspect.Output);
            Assert.DoesNotContain("non-finite", Effnet("inspect", _work.B0Blob).Output);
        }

        /// <summary>
        /// An import cut off while writing (the file-size limit makes the write fail, or kills the process, as a full disk or a
        /// power cut would): the target never exists half-written. A clean failure also removes its temporary file.
        /// </summary>
        [Fact]
        public void An_import_interrupted_while_writing_never_leaves_a_half_written_blob()
        {
            if (OperatingSystem.IsWindows())
                return; // needs ulimit
            string folder = Directory.CreateTempSubdirectory("effnet-cli-interrupted-").FullName;
            try
            {
                string target = Path.Combine(folder, "b0.effw");
                string effnet = Path.Combine(AppContext.BaseDirectory, "effnet.dll");
                var start = new ProcessStartInfo("bash")
                {
                    ArgumentList = { "-c", $"ulimit -f 1024 && exec dotnet \"{effnet}\" import \"{DamagedCheckpoints.Source}\" --phi 0 --classes 10 -o \"{target}\"" },
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                    // The runtime's W^X double mapping uses a file the size limit would also stop; without it the limit hits only our write.
                    Environment = { ["DOTNET_EnableWriteXorExecute"] = "0" },
                };
                using Process process = Process.Start(start)!;
                string error = process.StandardError.ReadToEnd();
                process.StandardOutput.ReadToEnd();
                process.WaitForExit();

                Assert.DoesNotContain("Failed to create CoreCLR", error);
                Assert.NotEqual(0, process.ExitCode); // 1 MiB of a 16 MB blob
                Assert.False(File.Exists(target), "a half-written blob is at the target");
                if (process.ExitCode == 1) // the write failed with an error: one line, and the temporary file is gone
                {
                    Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
                    Assert.Empty(Directory.GetFiles(folder));
                }
                else // killed by SIGXFSZ (exit 128 + 25) mid-write: the part written so far is only under the temporary name
                {
                    Assert.Equal(153, process.ExitCode);
                    string partial = Assert.Single(Directory.GetFiles(folder));
                    Assert.StartsWith("b0.effw.partial-", Path.GetFileName(partial));
                    Assert.Equal(1 << 20, new FileInfo(partial).Length);
                }
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
