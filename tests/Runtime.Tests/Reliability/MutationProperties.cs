using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CsCheck;
using EffNet.Import;
using EffNet.Runtime.Tests.Import;
using EffNet.Tests.Shared;
using Xunit;
using Xunit.Abstractions;

namespace EffNet.Runtime.Tests.Reliability
{
    /// <summary>
    /// Thousands of random mutations of valid files per parser (a fresh random seed each run; CsCheck prints the seed and
    /// the shrunk mutations of any failure): only <see cref="WeightFormatException"/> may escape, and no read allocates
    /// more managed memory than a small multiple of the file's size. Where the format has checksums, a damaged file is
    /// never accepted with other numbers.
    /// </summary>
    public sealed class MutationProperties
    {
        const int Iterations = 5000;
        const long MiB = 1 << 20;
        readonly ITestOutputHelper _output;

        public MutationProperties(ITestOutputHelper output) => _output = output;


        [Fact]
        public void Damaged_blobs_throw_only_WeightFormatException_and_are_never_accepted_unless_re_signed()
            => DamagedBlobs(BlobBytes.TinyBlob(), BlobBytes.Tiny, "blob");

        // The int8 reader widens stored levels into the weights' memory layout: damage must stop before or at it.
        [Fact]
        public void Damaged_int8_blobs_throw_only_WeightFormatException_and_are_never_accepted_unless_re_signed()
            => DamagedBlobs(BlobBytes.TinyInt8Blob(), BlobBytes.TinyInt8, "int8 blob");

        void DamagedBlobs(byte[] valid, Model.NetworkLayout layout, string kind)
        {
            var tally = new MutantTally();
            Gen.Select(Mutation.Generator(headerBytes: (int)BlobBytes.DataOffset(valid), fileBytes: valid.Length), Gen.Bool).Sample((mutations, resign) =>
            {
                byte[] bytes = Mutation.ApplyAll(valid, mutations);
                if (resign) BlobBytes.Resign(bytes);
                if (!tally.Check<WeightFormatException>(() => WeightBlob.Read(new MemoryStream(bytes), layout, "mutant.effw").Dispose(),
                        bytes, 2L * bytes.Length + 1 * MiB, Mutation.Print(mutations)))
                    return;
                Assert.True(resign || bytes.AsSpan().SequenceEqual(valid), $"a damaged {kind} was accepted: " + Mutation.Print(mutations));
            }, iter: Iterations, print: t => Mutation.Print(t.Item1) + (t.Item2 ? " (re-signed)" : ""));
            _output.WriteLine(kind + ": " + tally);
        }

        [Fact]
        public void Damaged_torch_save_zips_throw_only_WeightFormatException_and_never_yield_other_numbers()
        {
            byte[] valid = Fixtures.Bytes("tiny.pt");
            Dictionary<string, SourceTensor> original = PyTorchCheckpoint.Read(new MemoryStream(valid));
            var tally = new MutantTally();
            Mutation.Generator(headerBytes: 128, fileBytes: valid.Length).Sample(mutations =>
            {
                byte[] bytes = Mutation.ApplyAll(valid, mutations);
                Dictionary<string, SourceTensor>? read = null;
                if (!tally.Check<WeightFormatException>(() => read = PyTorchCheckpoint.Read(new MemoryStream(bytes), "mutant.pt"),
                        bytes, 16L * bytes.Length + 1 * MiB, Mutation.Print(mutations)))
                    return;
                // Everything a tensor is made of is under a CRC-32: an accepted file has the original tensors.
                Assert.Equal(original.Keys, read!.Keys);
                foreach (KeyValuePair<string, SourceTensor> tensor in original)
                {
                    Assert.Equal(tensor.Value.Shape, read[tensor.Key].Shape);
                    Assert.Equal(tensor.Value.Data, read[tensor.Key].Data);
                }
            }, iter: Iterations, print: Mutation.Print);
            _output.WriteLine("pth (zip): " + tally);
        }

        [Fact]
        public void Damaged_pickles_throw_only_WeightFormatException_within_the_allocation_bound()
        {
            (byte[] pickle, Dictionary<string, byte[]> storages) = TorchZip.Split(Fixtures.Bytes("tiny.pt")); // every element type, a strided view, a shared storage
            var tally = new MutantTally();
            Mutation.Generator(headerBytes: pickle.Length, fileBytes: pickle.Length).Sample(mutations =>
            {
                byte[] zip = TorchZip.Build(Mutation.ApplyAll(pickle, mutations), storages);
                tally.Check<WeightFormatException>(() => PyTorchCheckpoint.Read(new MemoryStream(zip), "mutant.pt"),
                    zip, 16L * zip.Length + 1 * MiB, Mutation.Print(mutations));
            }, iter: Iterations, print: Mutation.Print);
            _output.WriteLine("pth (data.pkl): " + tally);
        }

        internal static readonly byte[][] SafeTensorsSeeds =
        {
            SafeTensorsBytes.Build(
                "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}," +
                "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[24,28]},\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[28,32]}," +
                "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[32,40]},\"l\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[40,48]}," +
                "\"i\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[48,52]}}",
                TorchZip.Floats(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)),
            SafeTensorsBytes.OneTensor(),
        };

        [Fact]
        public void Damaged_safetensors_throw_only_WeightFormatException_within_the_allocation_bound()
        {
            Assert.All(SafeTensorsSeeds, seed => SafeTensorsFile.Read(new MemoryStream(seed)));
            var tally = new MutantTally();
            Gen.Select(Gen.Int[0, SafeTensorsSeeds.Length - 1], Mutation.Generator(headerBytes: 64, fileBytes: 512), Gen.Bool).Sample((seed, mutations, fixLength) =>
            {
                byte[] bytes = Mutation.ApplyAll(SafeTensorsSeeds[seed], mutations);
                // Half the time the length prefix is made to fit again, so that the mutated JSON is parsed rather than refused at offset 0.
                if (fixLength && bytes.Length >= 8)
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes,
                        (ulong)Math.Max(2, bytes.AsSpan(8).LastIndexOf((byte)'}') + 1));
                tally.Check<WeightFormatException>(() => SafeTensorsFile.Read(new MemoryStream(bytes), "mutant.safetensors"),
                    bytes, 16L * bytes.Length + 1 * MiB, Mutation.Print(mutations));
            }, iter: Iterations, print: t => $"seed {t.Item1}: {Mutation.Print(t.Item2)}{(t.Item3 ? " (length fixed)" : "")}");
            _output.WriteLine("safetensors: " + tally);
        }

        [Fact]
        public void Damaged_npy_files_throw_only_WeightFormatException_within_the_allocation_bound()
        {
            byte[][] seeds = new[] { "npy/f32.npy", "npy/f32_v2.npy", "npy/f32_v3.npy", "npy/f64_big_endian.npy", "npy/scalar.npy" }.Select(Fixtures.Bytes).ToArray();
            var tally = new MutantTally();
            Gen.Select(Gen.Int[0, seeds.Length - 1], Mutation.Generator(headerBytes: 128, fileBytes: 160)).Sample((seed, mutations) =>
            {
                byte[] bytes = Mutation.ApplyAll(seeds[seed], mutations);
                tally.Check<WeightFormatException>(() => NpyFile.Read(new MemoryStream(bytes), "mutant.npy"),
                    bytes, 8L * bytes.Length + 1 * MiB, Mutation.Print(mutations));
            }, iter: Iterations, print: t => $"seed {t.Item1}: {Mutation.Print(t.Item2)}");
            _output.WriteLine("npy: " + tally);
        }
    }
}
