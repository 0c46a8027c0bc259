using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Xunit;

namespace EffNet.Packaging.Tests
{
    /// <summary>
    /// `dotnet pack` gives one EffNet.Runtime package carrying the generator; a fresh project that references only that
    /// package (from a local folder) compiles a model with the attribute, builds and runs it.
    /// </summary>
    public sealed class PackageConsumerTests : IDisposable
    {
        readonly string _work = Directory.CreateTempSubdirectory("effnet-pack-").FullName;
        string? _version;

        public void Dispose()
        {
            Directory.Delete(_work, recursive: true);
            // Leave no test package behind in the machine's NuGet cache.
            string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                           ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            string cached = Path.Combine(cache, "effnet.runtime", _version ?? "none");
            if (_version != null && Directory.Exists(cached))
                Directory.Delete(cached, recursive: true);
        }

        [Fact]
        public void Packed_runtime_carries_the_generator_and_a_fresh_consumer_builds_and_runs_a_model()
        {
            // A version no earlier run has put in the NuGet cache.
            string version = _version = "1.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
            string feed = Path.Combine(_work, "feed");
            var pack = DotnetProcess.Run(DotnetProcess.RepositoryRoot(), "pack", "src/EffNet.Runtime/EffNet.Runtime.csproj",
                "-c", "Release", "-o", feed, "-p:Version=" + version);
            Assert.True(pack.ExitCode == 0, pack.Output);

            string package = Path.Combine(feed, $"EffNet.Runtime.{version}.nupkg");
            using (ZipArchive zip = ZipFile.OpenRead(package))
            {
                string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
                Assert.Contains("analyzers/dotnet/cs/EffNet.Generator.dll", entries);
                Assert.Contains("lib/net10.0/EffNet.Runtime.dll", entries);
            }

            string consumer = Path.Combine(_work, "consumer");
            Directory.CreateDirectory(consumer);
            File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="EffNet.Runtime" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
                using System;
                using System.IO;
                using EffNet;
                using EffNet.Model;

                NetworkLayout layout = NetworkLayout.Create(new ModelConfig(1.0, 1.0, Tiny.InputHeight, Tiny.NumClasses, EfficientNetPadding.Symmetric));
                var blob = new MemoryStream();
                WeightBlobWriter.Write(blob, layout, SyntheticWeights.CreateStateDict(layout), 1e-5f, "consumer test");
                blob.Position = 0;
                using var net = Tiny.Load(blob);
                var logits = new float[Tiny.NumClasses];
                net.Run(SyntheticWeights.CreateInput(Tiny.InputHeight), logits);
                Console.WriteLine($"{Tiny.ModelName}; parameters {Tiny.ParameterCount}; logits {string.Join(" ", logits)}");

                [EfficientNet(Phi = 0, Resolution = 64, NumClasses = 3)]
                public partial class Tiny;
                """);

            var run = DotnetProcess.Run(consumer, "run", "-c", "Release");
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Contains("EfficientNet-B0 @64x64, 3 classes, symmetric padding; parameters 4011391; logits ", run.Output);
        }
    }
}
