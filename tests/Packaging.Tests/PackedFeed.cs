using System;
using System.IO;
using System.Linq;
using EffNet.Imaging;
using EffNet.Model;

namespace EffNet.Packaging.Tests
{
    /// <summary>
    /// Packs EffNet.Runtime, EffNet.Imaging, EffNet.Training and EffNet once, under a version no earlier run has put in the NuGet cache, into
    /// a folder feed; makes fresh consumer projects that reference only the EffNet package; and holds one B0 weight blob
    /// for them. Disposing removes the folder and the test packages from the machine's NuGet cache.
    /// </summary>
    public sealed class PackedFeed : IDisposable
    {
        /// <summary>Every package the repository makes for users, in the order they are packed.</summary>
        public static readonly string[] PackageIds = { "EffNet.Runtime", "EffNet.Imaging", "EffNet.Training", "EffNet" };

        /// <summary>The model of the README's snippets: torchvision's B0.</summary>
        public static readonly ModelConfig B0 = ModelConfig.ForPhi(0);

        /// <summary>The preprocessing <see cref="WeightBlob"/> records (not torchvision's, so a snippet that uses it shows).</summary>
        public static readonly PreprocessingInfo RecordedPreprocessing = new(240, 224, PreprocessingInterpolation.Bilinear);

        readonly string _work = Directory.CreateTempSubdirectory("effnet-pack-").FullName;

        public PackedFeed()
        {
            Version = "1.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
            Feed = Path.Combine(_work, "feed");
            foreach (string id in PackageIds)
            {
                var pack = DotnetProcess.Run(DotnetProcess.RepositoryRoot(), "pack", $"src/{id}/{id}.csproj",
                    "-c", "Release", "-o", Feed, "-p:Version=" + Version);
                if (pack.ExitCode != 0)
                    throw new InvalidOperationException($"dotnet pack {id} failed:\n{pack.Output}");
            }

            // Synthetic B0 weights with labels and a preprocessing, as `effnet import --labels` would record them.
            WeightBlob = Path.Combine(_work, "b0.effw");
            NetworkLayout layout = NetworkLayout.Create(B0);
            var labels = Enumerable.Range(0, B0.NumClasses).Select(i => "synthetic class " + i).ToArray();
            WeightBlobWriter.Write(WeightBlob, layout, SyntheticWeights.CreateStateDict(layout), BatchNormFolding.TorchvisionEpsilon(0),
                "packaging test", metadata: new WeightBlobMetadata(labels, RecordedPreprocessing, null));

            // A fine-tuned B0's shape: five classes with their names and torchvision's B0 preset, as `effnet import --labels` writes it.
            FineTunedBlob = Path.Combine(_work, "ft.effw");
            NetworkLayout fineTuned = NetworkLayout.Create(FineTuned);
            WeightBlobWriter.Write(FineTunedBlob, fineTuned, SyntheticWeights.CreateStateDict(fineTuned, seed: 5), BatchNormFolding.TorchvisionEpsilon(0),
                "packaging test", metadata: new WeightBlobMetadata(FineTunedLabels, PreprocessingInfo.ForTorchvision(0), null));
        }

        /// <summary>The README's fine-tuned model: B0 with a 5-class head.</summary>
        public static readonly ModelConfig FineTuned = ModelConfig.ForPhi(0) with { NumClasses = 5 };

        public static readonly string[] FineTunedLabels = { "Ankle_boot", "Bag", "Sneaker", "T-shirt_top", "Trouser" };

        /// <summary>A 5-class B0 blob of synthetic weights labelled <see cref="FineTunedLabels"/>.</summary>
        public string FineTunedBlob { get; }

        public string Version { get; }

        /// <summary>The scratch folder of the run (the feed, the blobs, the consumers).</summary>
        public string Work => _work;

        /// <summary>The folder the packages are packed into.</summary>
        public string Feed { get; }

        /// <summary>A B0 blob of synthetic weights whose labels are "synthetic class i".</summary>
        public string WeightBlob { get; }

        public string Package(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

        /// <summary>A new console project, in a folder of its own, whose only reference is the EffNet package from <see cref="Feed"/>.</summary>
        public string NewConsumer(string name, string program)
        {
            string consumer = Path.Combine(_work, name);
            Directory.CreateDirectory(consumer);
            File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{Feed}" />
                  </packageSources>
                </configuration>
                """);
            // Invariant globalization: percentages print as in the test's expectation, whatever the machine's culture.
            File.WriteAllText(Path.Combine(consumer, name + ".csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>disable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <InvariantGlobalization>true</InvariantGlobalization>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="EffNet" Version="{Version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(consumer, "Program.cs"), program);
            return consumer;
        }

        public void Dispose()
        {
            Directory.Delete(_work, recursive: true);
            // Leave no test package behind in the machine's NuGet cache.
            string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                           ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            foreach (string id in PackageIds)
            {
                string versions = Path.Combine(cache, id.ToLowerInvariant());
                string cached = Path.Combine(versions, Version);
                if (Directory.Exists(cached))
                    Directory.Delete(cached, recursive: true);
                if (Directory.Exists(versions) && !Directory.EnumerateFileSystemEntries(versions).Any())
                    Directory.Delete(versions);
            }
        }
    }
}
