using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using EffNet.Model;

namespace EffNet.Runtime.Tests.Reliability
{
    /// <summary>Weight blobs as bytes, for tests that damage them: a tiny valid blob and ways to edit one and re-sign it.</summary>
    internal static class BlobBytes
    {
        /// <summary>The smallest network the attribute allows (width 0.1, depth 0.1, 32 pixels, 2 classes): a blob of about 100 KB.</summary>
        public static readonly NetworkLayout Tiny = NetworkLayout.Create(new ModelConfig(0.1, 0.1, 32, 2, EfficientNetPadding.Symmetric));

        public static byte[] Write(NetworkLayout layout, Dictionary<string, SourceTensor>? stateDict = null, bool allowNonFinite = false,
                                   WeightBlobMetadata? metadata = null)
        {
            var stream = new MemoryStream();
            WeightBlobWriter.Write(stream, layout, stateDict ?? SyntheticWeights.CreateStateDict(layout), BatchNormFolding.PyTorchEpsilon, "reliability test",
                                   allowNonFinite, metadata);
            return stream.ToArray();
        }

        /// <summary>Every metadata field, so that damage to each of them is tried.</summary>
        public static readonly WeightBlobMetadata TinyMetadata = new(
            new[] { "cat", "chat noir" },
            new PreprocessingInfo(36, 32, PreprocessingInterpolation.Bilinear, (0.5f, 0.5f, 0.5f), (0.25f, 0.25f, 0.25f)),
            new WeightProvenance("tiny.pt", new string('a', 64), "1.0.0-test", new DateTimeOffset(2025, 1, 31, 12, 0, 0, TimeSpan.Zero)));

        static readonly Lazy<byte[]> s_tiny = new(() => Write(Tiny, metadata: TinyMetadata));

        /// <summary>A fresh copy of the tiny model's valid blob.</summary>
        public static byte[] TinyBlob() => (byte[])s_tiny.Value.Clone();

        /// <summary>The tiny model's int8 layout: int8 layers, float32 layers stored as s8 and s16 levels, a float32 stem.</summary>
        public static readonly NetworkLayout TinyInt8 = NetworkLayout.Create(Tiny.Config with { Precision = EfficientNetPrecision.Int8 });

        static readonly Lazy<byte[]> s_tinyInt8 = new(() =>
        {
            string folder = Path.Combine(Path.GetTempPath(), "effnet-blobbytes-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            try
            {
                string floats = Path.Combine(folder, "tiny.effw"), int8 = Path.Combine(folder, "tiny.int8.effw");
                File.WriteAllBytes(floats, s_tiny.Value);
                var images = new[] { SyntheticWeights.CreateInput(32, seed: 1), SyntheticWeights.CreateInput(32, seed: 2) };
                Quantization.Quantizer.Quantize(floats, images, int8);
                return File.ReadAllBytes(int8);
            }
            finally { Directory.Delete(folder, recursive: true); }
        });

        /// <summary>A fresh copy of the tiny model's valid int8 blob (`effnet quantize` of <see cref="TinyBlob"/>).</summary>
        public static byte[] TinyInt8Blob() => (byte[])s_tinyInt8.Value.Clone();

        /// <summary>Recomputes the checksum, so that a damaged blob gets past it to the checks behind it.</summary>
        public static byte[] Resign(byte[] blob)
        {
            if (blob.Length < 16) return blob;
            BinaryPrimitives.WriteUInt64LittleEndian(blob.AsSpan(blob.Length - 16), XxHash3.HashToUInt64(blob.AsSpan(0, blob.Length - 16)));
            return blob;
        }

        public static long DirectoryLength(byte[] blob) => BinaryPrimitives.ReadInt64LittleEndian(blob.AsSpan(32));
        public static long DataOffset(byte[] blob) => BinaryPrimitives.ReadInt64LittleEndian(blob.AsSpan(40));
        public static long DataLength(byte[] blob) => BinaryPrimitives.ReadInt64LittleEndian(blob.AsSpan(48));

        /// <summary>
        /// The blob with its directory replaced by <paramref name="edit"/>'s result: the header's lengths and offsets, the
        /// padding and the checksum follow, so only the directory's contents are wrong.
        /// </summary>
        public static byte[] WithDirectory(byte[] blob, Func<byte[], byte[]> edit)
        {
            byte[] directory = edit(blob.AsSpan(64, (int)DirectoryLength(blob)).ToArray());
            byte[] data = blob.AsSpan((int)DataOffset(blob), (int)DataLength(blob)).ToArray();
            int dataOffset = (64 + directory.Length + 63) / 64 * 64;
            var result = new byte[dataOffset + data.Length + 16];
            blob.AsSpan(0, 64).CopyTo(result);
            BinaryPrimitives.WriteInt64LittleEndian(result.AsSpan(32), directory.Length);
            BinaryPrimitives.WriteInt64LittleEndian(result.AsSpan(40), dataOffset);
            directory.CopyTo(result, 64);
            data.CopyTo(result, dataOffset);
            blob.AsSpan(blob.Length - 8).CopyTo(result.AsSpan(result.Length - 8));
            return Resign(result);
        }

        /// <summary>File offset of the directory's metadata field count (v2: right after the last tensor entry).</summary>
        public static int MetadataOffset(byte[] blob)
            => TensorEntryOffset(blob, (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(TensorCountOffset(blob))));

        /// <summary>File offset of the payload of the metadata field <paramref name="tag"/>.</summary>
        public static int MetadataField(byte[] blob, ushort tag)
        {
            int at = MetadataOffset(blob) + 4;
            while (BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(at)) != tag)
                at += 6 + (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(at + 2));
            return at + 6;
        }

        /// <summary>File offset of the directory's tensor count (after the three texts and the 25-byte configuration).</summary>
        public static int TensorCountOffset(byte[] blob)
        {
            int at = 64;
            for (int text = 0; text < 3; text++)
                at += 4 + (int)BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(at));
            return at + 8 + 8 + 4 + 4 + 1;
        }

        /// <summary>File offset of directory entry <paramref name="index"/> (its u16 name length).</summary>
        public static int TensorEntryOffset(byte[] blob, int index)
        {
            int at = TensorCountOffset(blob) + 4;
            for (int i = 0; i < index; i++)
            {
                int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(at));
                int rank = blob[at + 2 + nameLength + 1];
                at += 2 + nameLength + 2 + 4 * rank + 16;
            }
            return at;
        }

        /// <summary>The file offsets of entry <paramref name="index"/>'s fields: dtype, rank, first dimension, data offset, data length.</summary>
        public static (int DType, int Rank, int FirstDim, int Offset, int Length) TensorFields(byte[] blob, int index)
        {
            int at = TensorEntryOffset(blob, index);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(at));
            int dtype = at + 2 + nameLength;
            int rank = blob[dtype + 1];
            return (dtype, dtype + 1, dtype + 2, dtype + 2 + 4 * rank, dtype + 2 + 4 * rank + 8);
        }
    }

    /// <summary>Bytes on a stream that cannot seek, like a pipe: readers cannot check the length up front.</summary>
    internal sealed class NonSeekableStream : MemoryStream
    {
        public NonSeekableStream(byte[] bytes) : base(bytes) { }
        public override bool CanSeek => false;
    }
}
