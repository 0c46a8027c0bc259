using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using EffNet.Import;
using EffNet.Model;
using EffNet.Runtime.Tests.Import;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Runtime.Tests.Reliability
{
    /// <summary>
    /// Crafted checkpoints that ask for far more memory than they hold: each is refused (or read) with a
    /// <see cref="WeightFormatException"/> naming the problem, and the managed allocation of the whole read or import stays
    /// within docs/reliability.md's bound: 16 times the file's size + 1 MiB, plus the blob an import writes.
    /// </summary>
    public sealed class ImportMemoryTests : IDisposable
    {
        const long MiB = 1 << 20;
        readonly ITestOutputHelper _output;
        readonly TempDirectory _temp = new TempDirectory();

        public ImportMemoryTests(ITestOutputHelper output) => _output = output;

        public void Dispose() => _temp.Dispose();

        /// <summary>A model small enough to build whole checkpoints of in a test (the custom_c10 fixture's).</summary>
        static readonly NetworkLayout Small = NetworkLayout.Create(new ModelConfig(0.5, 0.6, 128, 10, EfficientNetPadding.Symmetric));

        static long Bound(long fileBytes) => 16 * fileBytes + MiB;

        /// <summary>Runs <paramref name="work"/> and asserts that it allocated at most <paramref name="allowed"/> bytes on this thread.</summary>
        T WithinBound<T>(Func<T> work, long allowed, string what)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            T result = work();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            _output.WriteLine($"{what}: {allocated:N0} bytes allocated (bound {allowed:N0})");
            Assert.True(allocated <= allowed, $"{what}: {allocated:N0} bytes allocated, more than the bound of {allowed:N0}");
            return result;
        }

        WeightFormatException RefusedWithinBound(Action read, long fileBytes, string what)
            => WithinBound(() => Assert.Throws<WeightFormatException>(read), Bound(fileBytes), what);

        string Import(byte[] checkpoint, string name = "crafted.pt")
        {
            string path = _temp.Write(name, checkpoint);
            CheckpointImporter.Import(path, Small.Config, _temp.File(name + ".effw"));
            return path;
        }

        // ----- a data.pkl of cheap objects -----

        [Theory]
        [InlineData((byte)'}', "EMPTY_DICT")]
        [InlineData((byte)']', "EMPTY_LIST")]
        [InlineData((byte)'(', "MARK")]
        public void A_megabyte_of_one_byte_pickle_objects_is_refused_within_the_bound(byte opcode, string name)
        {
            byte[] bytes = TorchZip.Build(new PickleBuilder().Raw(Enumerable.Repeat(opcode, 1 << 20).ToArray()).Stop().ToArray(),
                new Dictionary<string, byte[]>());
            WeightFormatException error = RefusedWithinBound(() => PyTorchCheckpoint.Read(new MemoryStream(bytes), "objects.pt"),
                bytes.Length, $"a megabyte of {name} opcodes");
            Assert.Contains($", more than a {2 + (1 << 20) + 1}-byte data.pkl holding a state dict can describe", error.Message); // PROTO 2, the opcodes, STOP
        }

        // ----- many views of one storage -----

        [Fact]
        public void Thousands_of_tensors_that_are_one_view_of_a_storage_read_it_once_and_share_one_tensor()
        {
            byte[] bytes = MemoryBombs.ViewsOfOneStorage(4000, 1 << 20, overlapping: false); // 4.8 MB that asked for 16 GB
            Dictionary<string, SourceTensor> tensors = WithinBound(() => PyTorchCheckpoint.Read(new MemoryStream(bytes), "views.pt"),
                Bound(bytes.Length), "4,000 views of one 4 MB storage");
            Assert.Equal(4000, tensors.Count);
            Assert.All(tensors.Values, tensor => Assert.Same(tensors["t0"], tensor));
        }

        [Fact]
        public void Thousands_of_overlapping_views_of_one_storage_are_refused_before_any_is_converted()
        {
            byte[] bytes = MemoryBombs.ViewsOfOneStorage(4000, 1 << 20, overlapping: true);
            WeightFormatException error = RefusedWithinBound(() => CheckpointReader.ReadCheckpoint(new MemoryStream(bytes), "overlapping.pt"),
                bytes.Length, "4,000 overlapping views of one 4 MB storage");
            Assert.StartsWith("overlapping.pt: tensor 't1' (storage data/0, 1048576 x float32): it and the 1 other tensor(s) before it", error.Message);
            Assert.Contains("views that overlap are not supported", error.Message);
        }

        [Fact]
        public void Many_views_of_a_compressed_storage_are_refused_before_it_inflates()
        {
            byte[] bytes = MemoryBombs.ViewsOfACompressedStorage(64, 256 * MiB); // 0.27 MB that asked for 16 GB
            WeightFormatException error = RefusedWithinBound(() => CheckpointReader.ReadCheckpoint(new MemoryStream(bytes), "compressed-views.pt"),
                bytes.Length, "64 views of a compressed 256 MB storage");
            Assert.Contains("the 64 tensors read: the compressed zip entries would inflate to 268435456 bytes", error.Message);
            Assert.Contains($"a file of {bytes.Length} bytes (4 times its size + 64 KiB)", error.Message);
        }

        [Fact]
        public void One_compressed_storage_that_inflates_far_past_the_file_is_refused_before_it_inflates()
        {
            byte[] bytes = MemoryBombs.ViewsOfACompressedStorage(1, 1024 * MiB); // 1 MB that peaked at 4.2 GB
            WeightFormatException error = RefusedWithinBound(() => PyTorchCheckpoint.Read(new MemoryStream(bytes), "bomb.pt"),
                bytes.Length, "one compressed 1 GB storage");
            Assert.StartsWith("bomb.pt: tensor 't0' (storage data/0, 268435456 x float32): the compressed zip entries would inflate to 1073741824 bytes", error.Message);
        }

        // ----- model checkpoints: names and shapes first, then only what the model needs -----

        static readonly int[] ClassifierShape = Small.ReferenceStateDict().Single(entry => entry.Key == "classifier.1.weight").Value;

        [Fact]
        public void A_crafted_model_checkpoint_without_tricks_imports_within_the_bound()
        {
            byte[] bytes = MemoryBombs.ModelCheckpoint(Small, (_, _) => null);
            WithinBound(() => Import(bytes), Bound(bytes.Length) + Small.WeightFloats * 4L, "the small model, every tensor its own storage");
        }

        [Fact]
        public void Names_and_shapes_are_checked_before_any_tensor_is_read()
        {
            // The classifier has the wrong shape and views a compressed 256 MB storage; 4,000 more tensors are the same view.
            int[] wrong = { ClassifierShape[0] + 1, ClassifierShape[1] };
            long elements = 64 * MiB;
            byte[] bytes = MemoryBombs.ModelCheckpoint(Small,
                (key, _) => key == "classifier.1.weight" ? ("bomb", elements, 0, wrong) : null,
                pickle =>
                {
                    for (int i = 0; i < 4000; i++)
                        pickle.Tensor("features.9." + i + ".weight", "bomb", elements, 0, wrong.Select(d => (long)d).ToArray(), MemoryBombs.RowMajorStrides(wrong));
                },
                deflatedZeros: ("bomb", 4 * elements));
            WeightFormatException error = RefusedWithinBound(() => Import(bytes), bytes.Length, "a mis-shaped model checkpoint over a compressed 256 MB storage");
            Assert.Contains("The tensors do not match", error.Message);
            Assert.Contains($"1 tensor(s) with the wrong shape: classifier.1.weight is [{wrong[0]}, {wrong[1]}]", error.Message);
            Assert.Contains("4000 tensor(s) unexpected: features.9.0.weight;", error.Message);
            Assert.Contains("and 3997 more", error.Message); // a few names and the count
        }

        [Fact]
        public void A_model_tensor_viewing_part_of_a_large_compressed_storage_is_refused_before_it_inflates()
        {
            long elements = 64 * MiB;
            byte[] bytes = MemoryBombs.ModelCheckpoint(Small, (key, shape) => key == "classifier.1.weight" ? ("bomb", elements, 0, shape) : null,
                                           deflatedZeros: ("bomb", 4 * elements));
            WeightFormatException error = RefusedWithinBound(() => Import(bytes), bytes.Length, "a model tensor over a compressed 256 MB storage");
            long reach = 4L * ClassifierShape[0] * ClassifierShape[1];
            Assert.Contains($"tensor 'classifier.1.weight' (storage data/bomb, {elements} x float32): the zip entry 'archive/data/bomb' is compressed " +
                            $"and inflates to {4 * elements} bytes, but the tensors read from it reach only {reach}", error.Message);
        }

        [Fact]
        public void A_model_checkpoint_whose_one_compressed_storage_inflates_past_the_allowance_is_refused_before_it_inflates()
        {
            byte[] bytes = MemoryBombs.ModelInOneCompressedStorage(Small);
            long total = Small.ReferenceStateDict().Sum(entry => entry.Value.Aggregate(1L, (n, d) => n * d));
            WeightFormatException error = RefusedWithinBound(() => Import(bytes), bytes.Length, "a model in one compressed storage");
            Assert.Contains($"the compressed zip entries would inflate to {4 * total} bytes, more than the {4 * bytes.Length + (64 << 10)} allowed", error.Message);
        }

        [Fact]
        public void A_storage_that_claims_more_bytes_than_the_file_holds_is_refused_before_reading()
        {
            const long elements = 256 * MiB;
            byte[] honest = MemoryBombs.ModelCheckpoint(Small, (key, shape) => key == "classifier.1.weight" ? ("liar", elements, 0, shape) : null,
                                            storages: new Dictionary<string, byte[]> { ["liar"] = new byte[16] });
            byte[] bytes = TorchZip.Patch(honest, "archive/data/liar", (zip, at) =>
            {
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(at + 20), (uint)(4 * elements)); // stored size
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(at + 24), (uint)(4 * elements)); // size
            });
            WeightFormatException error = RefusedWithinBound(() => Import(bytes), bytes.Length, "a storage claiming 1 GB");
            Assert.Contains($"the zip entry 'archive/data/liar' claims {4 * elements} bytes ({4 * elements} stored) in a file of {bytes.Length} bytes", error.Message);
        }

        [Fact]
        public void A_safetensors_checkpoint_is_checked_before_its_tensors_are_read()
        {
            Dictionary<string, SourceTensor> tensors = SyntheticWeights.CreateStateDict(Small);
            tensors.Add("features.9.0.weight", new SourceTensor(new[] { 16 << 20 }, new float[16 << 20]));
            var file = new MemoryStream();
            SafeTensorsFile.Write(file, tensors);
            byte[] bytes = file.ToArray();
            tensors = null!;
            // No tensor is read: far less than the 64 MB extra tensor alone.
            WeightFormatException error = WithinBound(() => Assert.Throws<WeightFormatException>(() => Import(bytes, "extra.safetensors")),
                bytes.Length / 8, "a safetensors file with an unexpected 64 MB tensor");
            Assert.Contains("1 tensor(s) unexpected: features.9.0.weight.", error.Message);
        }

        [Fact]
        public void A_re_zipped_checkpoint_with_deflated_storages_imports_to_the_same_blob()
        {
            // torch.save stores entries uncompressed; a zip tool that deflates them shrinks the weights by a few percent.
            (byte[] pickle, Dictionary<string, byte[]> storages) = TorchZip.Split(Fixtures.Bytes("custom_c10.pt"));
            byte[] deflated = TorchZip.Build(pickle, storages, level: CompressionLevel.Optimal);
            Directory.CreateDirectory(_temp.File("original"));
            Directory.CreateDirectory(_temp.File("deflated"));
            string original = _temp.Write("original/custom_c10.pt", Fixtures.Bytes("custom_c10.pt"));
            string rezipped = _temp.Write("deflated/custom_c10.pt", deflated);
            var metadata = new ImportMetadata { CreatedUtc = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero) };
            CheckpointImporter.Import(original, Small.Config, original + ".effw", metadata: metadata);
            CheckpointImporter.Import(rezipped, Small.Config, rezipped + ".effw", metadata: metadata);
            Assert.True(deflated.Length < new FileInfo(original).Length, "the storages were deflated");
            // The same blob but for the provenance's SHA-256, which is of each checkpoint file.
            string[] sha256 = new[] { original, rezipped }.Select(f => WeightBlob.ReadInfo(f + ".effw").Metadata.Provenance!.SourceSha256).ToArray();
            Assert.NotEqual(sha256[0], sha256[1]);
            byte[] fromRezipped = File.ReadAllBytes(rezipped + ".effw");
            int at = fromRezipped.AsSpan().IndexOf(Convert.FromHexString(sha256[1]));
            Convert.FromHexString(sha256[0]).CopyTo(fromRezipped, at);
            Assert.Equal(File.ReadAllBytes(original + ".effw"), BlobBytes.Resign(fromRezipped));
        }

        [Theory]
        [InlineData("b0_c10_fp16.pt", 0, 10)]
        [InlineData("custom_c10.pt", -1, 10)]
        [InlineData("custom_c10_timm_bf16.safetensors", -1, 10)]
        public void Importing_a_real_checkpoint_allocates_at_most_16_times_the_file_plus_the_blob(string checkpoint, int phi, int classes)
        {
            ModelConfig config = phi >= 0 ? ModelConfig.ForPhi(phi, numClasses: classes) : Small.Config;
            string path = Fixtures.PathOf(checkpoint);
            long blobBytes = NetworkLayout.Create(config).WeightFloats * 4L;
            WithinBound(() => CheckpointImporter.Import(path, config, _temp.File(checkpoint + ".effw")),
                Bound(new FileInfo(path).Length) + blobBytes, checkpoint);
        }
    }
}
