using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using EffNet.Model;
using EffNet.Runtime.Tests.Import;
using Xunit;

namespace EffNet.Cli.Tests
{
    /// <summary>
    /// `effnet import` of crafted files that asked for gigabytes (many views of one storage, compressed storages), run in a
    /// child process whose managed heap is capped at docs/reliability.md's bound (16 times the file + 1 MiB) plus 32 MiB for
    /// the runtime and the CLI: each exits 1 with one line naming the problem, never 2 with an OutOfMemoryException.
    /// </summary>
    public sealed class CliMemoryTests : IDisposable
    {
        const long MiB = 1 << 20;
        readonly string _folder = Directory.CreateTempSubdirectory("effnet-cli-memory-").FullName;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        public static TheoryData<string, string> Bombs() => new()
        {
            { "views", "cannot tell whose EfficientNet this checkpoint is" },
            { "overlapping views", "views that overlap are not supported" },
            { "compressed views", "cannot tell whose EfficientNet this checkpoint is" },
            { "compressed 1 GB", "cannot tell whose EfficientNet this checkpoint is" },
            { "B0 in one compressed storage", "the compressed zip entries would inflate to" },
        };

        static byte[] Bomb(string name) => name switch
        {
            "views" => MemoryBombs.ViewsOfOneStorage(4000, 1 << 20, overlapping: false),
            "overlapping views" => MemoryBombs.ViewsOfOneStorage(4000, 1 << 20, overlapping: true),
            "compressed views" => MemoryBombs.ViewsOfACompressedStorage(64, 256 * MiB),
            "compressed 1 GB" => MemoryBombs.ViewsOfACompressedStorage(1, 1024 * MiB),
            _ => MemoryBombs.ModelInOneCompressedStorage(NetworkLayout.Create(ModelConfig.ForPhi(0, numClasses: 10))),
        };

        [Theory]
        [MemberData(nameof(Bombs))]
        public void A_memory_bomb_exits_1_with_one_line_within_the_heap_bound(string bomb, string expected)
        {
            byte[] bytes = Bomb(bomb);
            string checkpoint = Path.Combine(_folder, bomb.Replace(' ', '-') + ".pth");
            File.WriteAllBytes(checkpoint, bytes);
            long heapLimit = 16 * bytes.Length + MiB + 32 * MiB;
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { Path.Combine(AppContext.BaseDirectory, "effnet.dll"), "import", checkpoint, "--phi", "0", "--classes", "10", "-o", Path.Combine(_folder, "out.effw") },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                Environment = { ["DOTNET_GCHeapHardLimit"] = "0x" + heapLimit.ToString("x", CultureInfo.InvariantCulture) },
            };
            using Process process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();

            CliRunner.AssertOneLineUserError((process.ExitCode, output, error), expected);
            Assert.Contains(checkpoint, error);
            Assert.False(File.Exists(Path.Combine(_folder, "out.effw")));
        }
    }
}
