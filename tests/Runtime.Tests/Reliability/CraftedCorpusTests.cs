using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using EffNet.Import;
using EffNet.Runtime.Tests.Import;
using Xunit;

namespace EffNet.Runtime.Tests.Reliability
{
    /// <summary>
    /// Hand-crafted bad files for every weight-file parser: truncated in each section, lengths and offsets that lie (huge,
    /// negative, overlapping, past the end), wrong dtype or shape, duplicate keys, wrong magic or version, checksum
    /// mismatches, oversized zip entries. Every one must fail with <see cref="WeightFormatException"/> whose message names
    /// the file, an offset or a key, and what was wrong. (The forbidden-global, broken-pickle, lying-safetensors and .npy
    /// header cases of CheckpointErrorTests and NpyFileTests are not repeated here.)
    /// </summary>
    public sealed class CraftedCorpusTests
    {
        public sealed record Case(string Name, Func<byte[]> Bytes, string Expected)
        {
            public override string ToString() => Name;
        }

        static readonly Regex OffsetOrKey = new Regex(@"offsets? \d|'[^']+'", RegexOptions.Compiled);

        static void AssertRefused(Action read, string file, string expected)
        {
            var error = Assert.Throws<WeightFormatException>(read);
            Assert.StartsWith(file + ": ", error.Message);
            Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"\"{expected}\" not in: {error.Message}");
            Assert.True(OffsetOrKey.IsMatch(error.Message), "no offset or key in: " + error.Message);
        }

        static TheoryData<Case> Table(params Case[] cases)
        {
            var data = new TheoryData<Case>();
            foreach (Case c in cases) data.Add(c);
            return data;
        }

        // ----- weight blob -----

        static byte[] Blob(Action<byte[]> edit, bool resign = true)
        {
            byte[] blob = BlobBytes.TinyBlob();
            edit(blob);
            return resign ? BlobBytes.Resign(blob) : blob;
        }

        static byte[] Cut(byte[] bytes, long keep) => bytes.AsSpan(0, (int)keep).ToArray();

        static void I64(byte[] blob, int at, long value) => BinaryPrimitives.WriteInt64LittleEndian(blob.AsSpan(at), value);
        static void U32(byte[] blob, int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(at), value);

        public static TheoryData<Case> BlobCases()
        {
            byte[] valid = BlobBytes.TinyBlob();
            long dataOffset = BlobBytes.DataOffset(valid), dataLength = BlobBytes.DataLength(valid);
            int count = BlobBytes.TensorCountOffset(valid);
            var entry1 = BlobBytes.TensorFields(valid, 1);
            int entry0 = BlobBytes.TensorEntryOffset(valid, 0), entry2 = BlobBytes.TensorEntryOffset(valid, 2);
            // Two directory entries whose names have the same length: one can be renamed to the other.
            (int sameA, int sameB) = SameLengthNames(valid);
            int metadata = BlobBytes.MetadataOffset(valid);
            int labels = BlobBytes.MetadataField(valid, WeightBlobFormat.TagLabels);
            int preprocessing = BlobBytes.MetadataField(valid, WeightBlobFormat.TagPreprocessing);
            int provenance = BlobBytes.MetadataField(valid, WeightBlobFormat.TagProvenance);
            int time = provenance + 2 + 7 + 32 + 2 + 10 + 2; // "tiny.pt", the SHA-256, "1.0.0-test", then the time's text
            return Table(
                new Case("cut in the header", () => Cut(valid, 40), "is truncated"),
                new Case("cut in the directory", () => Cut(valid, 64 + 100), "is truncated"),
                new Case("cut in the directory padding", () => Cut(valid, dataOffset - 1), "is truncated"),
                new Case("cut in the data", () => Cut(valid, dataOffset + dataLength / 2), "is truncated"),
                new Case("cut in the trailer", () => Cut(valid, valid.Length - 8), "is truncated"),
                new Case("a byte after the trailer", () => valid.Append((byte)0).ToArray(), "trailing bytes"),
                new Case("wrong magic", () => Blob(b => b[3] = (byte)'X'), "not an EffNet weight blob"),
                new Case("version 3", () => Blob(b => U32(b, 8, 3)), "format version 3 (at offset 8) is not supported"),
                new Case("a v2 blob labelled version 1", () => Blob(b => U32(b, 8, 1)), "unexplained bytes at the end of the directory"),
                new Case("header size 32", () => Blob(b => U32(b, 12, 32)), "header size at offset 12 is 32"),
                new Case("directory offset 0", () => Blob(b => I64(b, 24, 0)), "directory offset at offset 24 is 0"),
                new Case("directory length 0", () => Blob(b => I64(b, 32, 0)), "directory length 0 at offset 32"),
                new Case("directory length negative", () => Blob(b => I64(b, 32, -64)), "directory length -64 at offset 32"),
                new Case("directory length huge", () => Blob(b => I64(b, 32, long.MaxValue)), "at offset 32 is outside"),
                new Case("data offset misaligned", () => Blob(b => I64(b, 40, dataOffset + 4)), "data offset at offset 40"),
                new Case("data length negative", () => Blob(b => I64(b, 48, -4)), "data length at offset 48 is -4"),
                new Case("data length not whole floats", () => Blob(b => I64(b, 48, dataLength - 2)), "data length at offset 48"),
                new Case("data length past the end", () => Blob(b => I64(b, 48, dataLength + 64)), "offsets 40 and 48"),
                new Case("data length huge", () => Blob(b => I64(b, 48, long.MaxValue - 3)), "describes more"),
                new Case("unknown flags", () => Blob(b => I64(b, 56, 1L << 40)), "flags at offset 56"),
                new Case("another model's fingerprint", () => Blob(b => b[16] ^= 1), "fingerprint 0x"),
                new Case("text length huge", () => Blob(b => U32(b, 64, uint.MaxValue)), "at most 65536 are allowed"),
                new Case("text length past the directory", () => Blob(b => U32(b, 64, 60000)), "needs 60000 bytes but the directory ends"),
                new Case("text not UTF-8", () => Blob(b => b[68] = 0xFF), "is not valid UTF-8"),
                new Case("tensor count 0", () => Blob(b => U32(b, count, 0)), "metadata field count at offset"),
                new Case("tensor count one short", () => Blob(b => U32(b, count, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(count)) - 1)), "metadata field count at offset"),
                new Case("tensor count huge", () => Blob(b => U32(b, count, uint.MaxValue)), $"tensor count at offset {count} is 4294967295"),
                new Case("name length 0", () => Blob(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(entry0), 0)), $"tensor name length 0 at offset {entry0}"),
                new Case("name length huge", () => Blob(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(entry0), 5000)), "is outside 1..1024"),
                new Case("name not UTF-8", () => Blob(b => b[entry0 + 2] = 0xC0), "tensor name at offset"),
                new Case("dtype code 4 (undefined)", () => Blob(b => b[entry1.DType] = 4), "has dtype code 4"),
                new Case("int16 dtype over float32 bytes", () => Blob(b => b[entry1.DType] = 3), "claims 32 bytes at data offset"),
                new Case("int8 dtype over float32 bytes", () => Blob(b => b[entry1.DType] = 2), "claims 32 bytes at data offset"),
                new Case("rank 9", () => Blob(b => b[entry1.Rank] = 9), "has rank 9"),
                new Case("dimension 0", () => Blob(b => U32(b, entry1.FirstDim, 0)), "has dimension 0 = 0"),
                new Case("dimension huge", () => Blob(b => U32(b, entry1.FirstDim, uint.MaxValue)), "has dimension 0 = 4294967295"),
                new Case("offset negative", () => Blob(b => I64(b, entry1.Offset, -64)), "at data offset -64"),
                new Case("offset misaligned", () => Blob(b => I64(b, entry1.Offset, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(entry1.Offset)) + 4)), "64-byte aligned offset"),
                new Case("offset past the data", () => Blob(b => I64(b, entry1.Offset, dataLength)), $"data offset {dataLength}"),
                new Case("length lies", () => Blob(b => I64(b, entry1.Length, BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(entry1.Length)) + 4)), "claims"),
                new Case("tensors overlap", () => Blob(b => I64(b, entry1.Offset, 0)), "tensors must not overlap"),
                new Case("duplicate tensor name", () => Blob(b => CopyName(b, sameA, sameB)), "is listed twice"),
                new Case("tensors out of order", () => Blob(SwapFirstEntries), "is not the expected"),
                new Case("checksum mismatch", () => Blob(b => b[dataOffset + 5] ^= 0x20, resign: false), "checksum mismatch"),
                new Case("trailer magic", () => Blob(b => b[^1] = (byte)'X', resign: false), "is not \"EFFNETWE\""),
                new Case("metadata field count huge", () => Blob(b => U32(b, metadata, uint.MaxValue)), $"metadata field count at offset {metadata} is 4294967295"),
                new Case("metadata field count one short", () => Blob(b => U32(b, metadata, 2)), "unexplained bytes at the end of the directory"),
                new Case("metadata field length past the directory", () => Blob(b => U32(b, labels - 4, 1 << 30)), "claims 1073741824 bytes but the directory ends"),
                new Case("labels field length lies", () => Blob(b => U32(b, labels - 4, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(labels - 4)) + 1)), "but its contents take"),
                new Case("metadata fields out of order", () => Blob(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(preprocessing - 6), WeightBlobFormat.TagLabels)), "does not follow tag 1"),
                new Case("unknown field that must be understood", () => Blob(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(provenance - 6), 0x8003)), "must understand"),
                new Case("label count not the classes", () => Blob(b => U32(b, labels, 3)), $"the label count at offset {labels} is 3, but the blob's model has 2 classes"),
                new Case("label count huge", () => Blob(b => U32(b, labels, uint.MaxValue)), "the label count at offset"),
                new Case("label length 0", () => Blob(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(labels + 4), 0)), $"label 0 length 0 at offset {labels + 4} is outside 1..256"),
                new Case("label length past the directory", () => Blob(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(labels + 4), 250)), "needs 250 bytes but the directory ends"),
                new Case("label not UTF-8", () => Blob(b => b[labels + 6] = 0xFF), $"label 0 at offset {labels + 6} is not valid UTF-8"),
                new Case("label with a line break", () => Blob(b => b[labels + 7] = (byte)'\n'), "holds a line break"),
                new Case("preprocessing field of 32 bytes", () => Blob(b => U32(b, preprocessing - 4, 32)), "is 32 bytes; it must be 33"),
                new Case("interpolation 7", () => Blob(b => b[preprocessing + 8] = 7), "interpolation 7 is neither"),
                new Case("std 0", () => Blob(b => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(preprocessing + 21), 0f)), "every std must be finite and non-zero"),
                new Case("mean NaN", () => Blob(b => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(preprocessing + 9), float.NaN)), "every mean must be finite"),
                new Case("crop not the resolution", () => Blob(b => U32(b, preprocessing + 4, 33)), $"crop size at offset {preprocessing + 4} is 33"),
                new Case("source file name not UTF-8", () => Blob(b => b[provenance + 2] = 0xC0), "source file name at offset"),
                new Case("creation time not ISO 8601", () => Blob(b => b[time + 10] = (byte)' '), $"the creation time at offset {time - 2} is not ISO 8601"),
                new Case("NaN weight", () => Blob(b => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan((int)dataOffset + 8), float.NaN)), "holds NaN"));
        }

        /// <summary>Gives entry <paramref name="to"/> the name of entry <paramref name="from"/> (names of equal length).</summary>
        static void CopyName(byte[] blob, int from, int to)
        {
            int source = BlobBytes.TensorEntryOffset(blob, from), target = BlobBytes.TensorEntryOffset(blob, to);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(source));
            blob.AsSpan(source + 2, length).CopyTo(blob.AsSpan(target + 2));
        }

        /// <summary>Swaps the first two directory entries whole: each stays valid, the order no longer matches the model.</summary>
        static void SwapFirstEntries(byte[] blob)
        {
            int first = BlobBytes.TensorEntryOffset(blob, 0), second = BlobBytes.TensorEntryOffset(blob, 1), third = BlobBytes.TensorEntryOffset(blob, 2);
            byte[] a = blob[first..second], b = blob[second..third];
            b.CopyTo(blob, first);
            a.CopyTo(blob, first + b.Length);
        }

        static (int A, int B) SameLengthNames(byte[] blob)
        {
            var seen = new Dictionary<int, int>();
            for (int i = 0; ; i++)
            {
                int length = BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(BlobBytes.TensorEntryOffset(blob, i)));
                if (seen.TryGetValue(length, out int first))
                    return (first, i);
                seen[length] = i;
            }
        }

        [Theory]
        [MemberData(nameof(BlobCases))]
        public void Crafted_bad_blob_is_refused_naming_the_file_and_the_offset_or_tensor(Case c)
        {
            byte[] bytes = c.Bytes();
            AssertRefused(() => WeightBlob.Read(new MemoryStream(bytes), BlobBytes.Tiny, "corpus.effw").Dispose(), "corpus.effw", c.Expected);
        }

        [Theory]
        [InlineData(40L)]
        [InlineData(164L)]
        [InlineData(-20L)]
        [InlineData(-1L)]
        public void Blob_cut_short_on_a_stream_that_cannot_seek_names_the_offset_where_it_ends(long keep)
        {
            byte[] valid = BlobBytes.TinyBlob();
            byte[] cut = Cut(valid, keep >= 0 ? keep : valid.Length + keep);
            AssertRefused(() => WeightBlob.Read(new NonSeekableStream(cut), BlobBytes.Tiny, "stream.effw").Dispose(), "stream.effw", $"the file ends at offset {cut.Length}");
        }

        [Fact]
        public void Bytes_after_the_trailer_of_a_stream_that_cannot_seek_are_refused()
        {
            byte[] longer = BlobBytes.TinyBlob().Append((byte)7).ToArray();
            AssertRefused(() => WeightBlob.Read(new NonSeekableStream(longer), BlobBytes.Tiny, "stream.effw").Dispose(), "stream.effw", "unexpected bytes after the trailer");
        }

        // ----- torch.save zip and its pickle -----

        static readonly Dictionary<string, byte[]> TwoStorages = new() { ["0"] = TorchZip.Floats(1, 2, 3, 4), ["1"] = TorchZip.Floats(5, 6, 7, 8) };

        static byte[] TwoTensorZip() => TorchZip.Build(new PickleBuilder().BeginStateDict()
            .Tensor("a", "0", 4, 0, new long[] { 4 }, new long[] { 1 })
            .Tensor("b", "1", 4, 0, new long[] { 2, 2 }, new long[] { 2, 1 })
            .EndStateDict().ToArray(), TwoStorages);

        static int DataStart(byte[] zip, string entry)
        {
            int local = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(TorchZip.CentralRecord(zip, entry) + 42));
            return local + 30 + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(local + 26)) + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(local + 28));
        }

        static byte[] Zip(params (string Name, byte[] Bytes, CompressionLevel Level)[] entries)
        {
            var buffer = new MemoryStream();
            using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
                foreach (var (name, bytes, level) in entries)
                {
                    using Stream s = zip.CreateEntry(name, level).Open();
                    s.Write(bytes);
                }
            return buffer.ToArray();
        }

        static byte[] StateDict(PickleBuilder tensors) => TorchZip.Build(tensors.EndStateDict().ToArray(), TwoStorages);

        public static TheoryData<Case> TorchCases()
        {
            byte[] tiny = Fixtures.Bytes("tiny.pt"), two = TwoTensorZip();
            byte[] pickle = new PickleBuilder().BeginStateDict().Tensor("a", "0", 4, 0, new long[] { 4 }, new long[] { 1 }).EndStateDict().ToArray();
            const CompressionLevel Stored = CompressionLevel.NoCompression;
            return Table(
                new Case("cut in a local header", () => Cut(tiny, 20), "zip directory"),
                new Case("cut in data.pkl", () => Cut(tiny, 400), "zip directory"),
                new Case("cut in the central directory", () => Cut(tiny, 1900), "zip directory"),
                new Case("cut in the end record", () => Cut(tiny, tiny.Length - 10), "zip directory"),
                new Case("flipped bit in data.pkl", () => { byte[] z = (byte[])two.Clone(); z[DataStart(z, "archive/data.pkl") + 30] ^= 4; return z; }, "CRC-32"),
                new Case("flipped bit in a storage", () => { byte[] z = (byte[])two.Clone(); z[DataStart(z, "archive/data/1") + 2] ^= 4; return z; }, "tensor 'b'"),
                new Case("data.pkl claims 2 GB", () => TorchZip.Patch(two, "archive/data.pkl", (z, at) => BinaryPrimitives.WriteUInt32LittleEndian(z.AsSpan(at + 24), int.MaxValue)), "claims 2147483647 bytes"),
                new Case("data.pkl claims more than it inflates to",
                    () => TorchZip.Patch(Zip(("archive/data.pkl", pickle, CompressionLevel.Optimal), ("archive/data/0", TorchZip.Floats(1, 2, 3, 4), Stored)), "archive/data.pkl",
                        (z, at) => BinaryPrimitives.WriteUInt32LittleEndian(z.AsSpan(at + 24), BinaryPrimitives.ReadUInt32LittleEndian(z.AsSpan(at + 20)) * 2000)), "claims"),
                new Case("data.pkl deflated shorter than it claims",
                    () => TorchZip.Patch(Zip(("archive/data.pkl", pickle, CompressionLevel.Optimal), ("archive/data/0", TorchZip.Floats(1, 2, 3, 4), Stored)), "archive/data.pkl",
                        (z, at) => BinaryPrimitives.WriteUInt32LittleEndian(z.AsSpan(at + 24), (uint)pickle.Length + 100)), "cannot be read"),
                new Case("a storage of the wrong size", () => TorchZip.Patch(two, "archive/data/1", (z, at) => BinaryPrimitives.WriteUInt32LittleEndian(z.AsSpan(at + 24), 20)), "holds 20 bytes but the tensor needs 16"),
                new Case("the same entry twice", () => TorchZip.Patch(two, "archive/data/1", (z, at) => z[at + 46 + "archive/data/".Length] = (byte)'0'), "the entry 'archive/data/0' twice"),
                new Case("two roots", () => Zip(("a/data.pkl", pickle, Stored), ("b/data.pkl", pickle, Stored)), "2 <folder>/data.pkl entries"),
                new Case("no data.pkl", () => Zip(("archive/data/0", TorchZip.Floats(1), Stored)), "no <folder>/data.pkl"),
                new Case("big-endian byte order", () => Zip(("archive/data.pkl", pickle, Stored), ("archive/byteorder", "big"u8.ToArray(), Stored)), "is 'big'"),
                new Case("a key twice", () => StateDict(new PickleBuilder().BeginStateDict()
                    .Tensor("w", "0", 4, 0, new long[] { 4 }, new long[] { 1 }).Tensor("w", "1", 4, 0, new long[] { 4 }, new long[] { 1 })), "holds 'w' twice"),
                new Case("a storage described as two types", () => StateDict(new PickleBuilder().BeginStateDict()
                    .Tensor("a", "0", 4, 0, new long[] { 4 }, new long[] { 1 }).Tensor("b", "0", 8, 0, new long[] { 8 }, new long[] { 1 }, "HalfStorage")), "storage '0' is described twice"),
                new Case("float16 declared over float32 bytes", () => StateDict(new PickleBuilder().BeginStateDict()
                    .Tensor("a", "0", 4, 0, new long[] { 4 }, new long[] { 1 }, "HalfStorage")), "holds 16 bytes but the tensor needs 8"),
                new Case("storage offset huge", () => StateDict(new PickleBuilder().BeginStateDict().Tensor("a", "0", 4, long.MaxValue - 1, new long[] { 4 }, new long[] { 1 })), "past the storage's end"),
                new Case("element count negative", () => StateDict(new PickleBuilder().BeginStateDict().Tensor("a", "0", -4, 0, new long[] { 4 }, new long[] { 1 })), "invalid element count integer -4"),
                new Case("rank 9", () => StateDict(new PickleBuilder().BeginStateDict().Tensor("a", "0", 4, 0, Enumerable.Repeat(1L, 9).ToArray(), Enumerable.Repeat(1L, 9).ToArray())), "rank 9"),
                new Case("sizes multiply past int", () => StateDict(new PickleBuilder().BeginStateDict().Tensor("a", "0", 4, 0, new long[] { 1L << 31 }, new long[] { 0 })), "axis 0 has size 2147483648"),
                new Case("a megabyte of one-byte objects", () => TorchZip.Build(new PickleBuilder().Raw(Enumerable.Repeat((byte)'}', (1 << 20) + 1).ToArray()).Stop().ToArray(), TwoStorages), "-byte data.pkl holding a state dict can describe"),
                new Case("a megabyte of marks", () => TorchZip.Build(new PickleBuilder().Raw(Enumerable.Repeat((byte)'(', (1 << 20) + 1).ToArray()).Stop().ToArray(), TwoStorages), "-byte data.pkl holding a state dict can describe"),
                new Case("numpy's reconstructor", () => TorchZip.Build(new PickleBuilder().Global("numpy.core.multiarray", "_reconstruct").Stop().ToArray(), TwoStorages), "refuses global 'numpy.core.multiarray._reconstruct'"),
                new Case("builtins.exec", () => TorchZip.Build(new PickleBuilder().Global("builtins", "exec").Stop().ToArray(), TwoStorages), "refuses global 'builtins.exec'"),
                new Case("getattr", () => TorchZip.Build(new PickleBuilder().Global("__builtin__", "getattr").Stop().ToArray(), TwoStorages), "refuses global '__builtin__.getattr'"),
                new Case("shutil.rmtree", () => TorchZip.Build(new PickleBuilder().Str("shutil").Str("rmtree").Op(0x93).Stop().ToArray(), TwoStorages), "refuses global 'shutil.rmtree'"));
        }

        [Theory]
        [MemberData(nameof(TorchCases))]
        public void Crafted_bad_torch_save_file_is_refused_naming_the_file_and_the_entry_offset_or_key(Case c)
        {
            byte[] bytes = c.Bytes();
            long before = GC.GetAllocatedBytesForCurrentThread();
            AssertRefused(() => CheckpointReader.ReadCheckpoint(new MemoryStream(bytes), "corpus.pt"), "corpus.pt", c.Expected);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated <= 128L * bytes.Length + (4 << 20), $"{allocated:N0} bytes allocated for a {bytes.Length:N0}-byte file");
        }

        // ----- safetensors -----

        static byte[] St(string header, int dataBytes = 8) => SafeTensorsBytes.Build(header, new byte[dataBytes]);

        static string One(string dtype = "\"F32\"", string shape = "[2]", string offsets = "[0,8]") =>
            $"{{\"w\":{{\"dtype\":{dtype},\"shape\":{shape},\"data_offsets\":{offsets}}}}}";

        public static TheoryData<Case> SafeTensorsCases()
        {
            byte[] valid = SafeTensorsBytes.OneTensor();
            return Table(
                new Case("cut in the length prefix", () => Cut(valid, 5), "too short for a safetensors header"),
                new Case("cut in the header", () => Cut(valid, 30), "does not fit a file"),
                new Case("cut in the data", () => Cut(valid, valid.Length - 4), "outside the data section of 4 bytes"),
                new Case("header length 1", () => { byte[] b = (byte[])valid.Clone(); b[0] = 1; return b; }, "header length 1 at offset 0"),
                new Case("header length 2^40", () => { byte[] b = (byte[])valid.Clone(); BinaryPrimitives.WriteUInt64LittleEndian(b, 1UL << 40); return b; }, "header length 1099511627776 at offset 0"),
                new Case("header not UTF-8", () => { byte[] b = St(One()); b[12] = 0xFF; return b; }, "(offset 8, "),
                new Case("header an array", () => St("[1,2]", 0), "(offset 8) is not an object"),
                new Case("header nested too deep", () => St("{\"__metadata__\":" + new string('[', 9) + new string(']', 9) + "}", 0), "(offset 8,"),
                new Case("a tensor described by a string", () => St("{\"w\":\"F32\"}", 0), "tensor 'w' is not described by an object"),
                new Case("no dtype", () => St("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}"), "tensor 'w' has no dtype"),
                new Case("dtype a number", () => St(One(dtype: "7")), "tensor 'w' has no dtype"),
                new Case("dtype F8", () => St(One(dtype: "\"F8_E4M3\"")), "has dtype 'F8_E4M3'"),
                new Case("rank 9", () => St(One(shape: "[1,1,1,1,1,1,1,1,2]")), "an array of at most 8 sizes"),
                new Case("size 2^31", () => St(One(shape: "[2147483648]")), "invalid size in its shape"),
                new Case("sizes overflowing", () => St(One(shape: "[65536,65536,65536,65536,65536]")), "needs"),
                new Case("offsets not integers", () => St(One(offsets: "[0.5,8]")), "has no data_offsets"),
                new Case("offsets of three", () => St(One(offsets: "[0,4,8]")), "has no data_offsets"),
                new Case("offsets huge", () => St(One(offsets: "[0,9223372036854775807]")), "outside the data section of 8 bytes"),
                new Case("a gap between tensors", () => St("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12),
                    "tensor 'b' starts at data offset 8, but the previous tensor ends at 4"),
                new Case("metadata an array", () => St("{\"__metadata__\":[1]}", 0), "'__metadata__' is not an object of strings"));
        }

        [Theory]
        [MemberData(nameof(SafeTensorsCases))]
        public void Crafted_bad_safetensors_file_is_refused_naming_the_file_and_the_offset_or_tensor(Case c)
        {
            byte[] bytes = c.Bytes();
            AssertRefused(() => SafeTensorsFile.Read(new MemoryStream(bytes), "corpus.safetensors"), "corpus.safetensors", c.Expected);
        }

        // ----- .npy -----

        static byte[] Npy(string header, int dataBytes, byte major = 1, byte minor = 0) => NpyBytes.Build(header, dataBytes, major, minor);

        const string Good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";

        public static TheoryData<Case> NpyCases()
        {
            byte[] valid = Npy(Good, 24), v2 = Npy(Good, 24, major: 2);
            return Table(
                new Case("cut in the magic", () => Cut(valid, 4), "too short for a .npy header (10 bytes from offset 0)"),
                new Case("cut in the version", () => Cut(valid, 7), "too short"),
                new Case("cut in a version 2 header length", () => Cut(v2, 11), "ends inside its header length (4 bytes at offset 8)"),
                new Case("cut in the header", () => Cut(valid, 30), "runs past the end of the file"),
                new Case("cut in the data", () => Cut(valid, valid.Length - 4), "needs 24 bytes of data, but the file has 20 after its header at offset"),
                new Case("wrong magic", () => { byte[] b = (byte[])valid.Clone(); b[0] = (byte)'N'; return b; }, "at offset 0, not"),
                new Case("version 1.1", () => Npy(Good, 24, minor: 1), "version 1.1 at offset 6"),
                new Case("header length 2^32 - 1", () => { byte[] b = (byte[])v2.Clone(); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), uint.MaxValue); return b; }, "header length 4294967295 at offset 8"),
                new Case("33 axes", () => Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + string.Concat(Enumerable.Repeat("1, ", 33)) + ")}\n", 4), "more than 32 axes"),
                new Case("sizes overflowing", () => Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647)}\n", 4), "needs"),
                new Case("unterminated string", () => Npy("{'descr: '<f4', 'fortran_order': False, 'shape': ()}\n", 4), "(offset "),
                new Case("no closing brace", () => Npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()\n", 4), "expected '}'"),
                new Case("bytes", () => Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,)}\n", 4), "dtype '|u1'"),
                new Case("complex", () => Npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}\n", 8), "the header's 'descr' at offset 10"),
                new Case("Fortran order", () => Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}\n", 24), "'fortran_order' at offset 10 is True"));
        }

        [Theory]
        [MemberData(nameof(NpyCases))]
        public void Crafted_bad_npy_file_is_refused_naming_the_file_and_the_offset_or_key(Case c)
        {
            byte[] bytes = c.Bytes();
            AssertRefused(() => NpyFile.Read(new MemoryStream(bytes), "corpus.npy"), "corpus.npy", c.Expected);
        }
    }
}
