using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using EffNet.Imaging;
using EffNet.Import;
using EffNet.Model;

namespace EffNet.Fuzz
{
    /// <summary>
    /// One parser and its contract: for any input it returns a result or throws its one documented exception, and it
    /// allocates no more managed memory than <see cref="AllowedBytes"/>. Anything else is thrown on, so afl-fuzz records
    /// the input as a crash.
    /// </summary>
    sealed class Target
    {
        readonly Action<byte[]> _parse;
        readonly Type _documented;
        readonly Func<int, long> _allowedBytes;

        public Target(Action<byte[]> parse, Type documented, Func<int, long> allowedBytes)
        {
            _parse = parse;
            _documented = documented;
            _allowedBytes = allowedBytes;
        }

        public long AllowedBytes(int inputLength) => _allowedBytes(inputLength);

        /// <summary>"ok" or "refused: ..." when the contract holds; throws when it does not.</summary>
        public string Check(byte[] input)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            string outcome;
            try
            {
                _parse(input);
                outcome = "ok";
            }
            catch (Exception e) when (e.GetType() == _documented)
            {
                outcome = "refused: " + e.Message;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > AllowedBytes(input.Length))
                throw new AllocationBoundException($"{allocated:N0} bytes allocated for a {input.Length:N0}-byte input (allowed {AllowedBytes(input.Length):N0}); outcome {outcome}");
            return outcome;
        }
    }

    sealed class AllocationBoundException : Exception
    {
        public AllocationBoundException(string message) : base(message) { }
    }

    static class Targets
    {
        /// <summary>
        /// The blob target reads against the smallest network there is (width 0.1, depth 0.1, 32 px, 2 classes). Lazy:
        /// nothing instrumented may run before SharpFuzz has set up its coverage map.
        /// </summary>
        static readonly Lazy<NetworkLayout> s_tinyLayout = new(() => NetworkLayout.Create(new ModelConfig(0.1, 0.1, 32, 2, EfficientNetPadding.Symmetric)));

        public static NetworkLayout TinyLayout => s_tinyLayout.Value;

        static readonly Lazy<NetworkLayout> s_tinyInt8Layout = new(() => NetworkLayout.Create(TinyLayout.Config with { Precision = EfficientNetPrecision.Int8 }));

        /// <summary>The same network quantised: the blob-int8 target reads int8 blobs, whose levels are widened at load.</summary>
        public static NetworkLayout TinyInt8Layout => s_tinyInt8Layout.Value;

        /// <summary>The image target's pixel limit: small, so that a header claiming a large image is refused quickly.</summary>
        public const long ImageMaxPixels = 1 << 20;

        const long MiB = 1 << 20;

        public static readonly IReadOnlyDictionary<string, Target> All = new Dictionary<string, Target>
        {
            ["blob"] = new Target(ReadBlob, typeof(WeightFormatException), n => 8L * n + 4 * MiB),
            ["blob-int8"] = new Target(ReadInt8Blob, typeof(WeightFormatException), n => 8L * n + 4 * MiB),
            ["pth"] = new Target(bytes => PyTorchCheckpoint.Read(new MemoryStream(bytes), "fuzz.pt"), typeof(WeightFormatException), n => 16L * n + 4 * MiB),
            ["pickle"] = new Target(ReadPickle, typeof(WeightFormatException), n => 256L * n + 4 * MiB),
            ["safetensors"] = new Target(bytes => SafeTensorsFile.Read(new MemoryStream(bytes), "fuzz.safetensors"), typeof(WeightFormatException), n => 16L * n + 4 * MiB),
            ["npy"] = new Target(bytes => NpyFile.Read(new MemoryStream(bytes), "fuzz.npy"), typeof(WeightFormatException), n => 8L * n + 1 * MiB),
            ["image"] = new Target(bytes => ImageDecoder.Decode(bytes, "fuzz.img", ImageMaxPixels), typeof(ImageFormatException), n => 16L * n + 8 * ImageMaxPixels + 4 * MiB),
        };

        static void ReadBlob(byte[] bytes)
        {
            using WeightBlob blob = WeightBlob.Read(new MemoryStream(bytes), TinyLayout, "fuzz.effw");
        }

        static void ReadInt8Blob(byte[] bytes)
        {
            using WeightBlob blob = WeightBlob.Read(new MemoryStream(bytes), TinyInt8Layout, "fuzz.int8.effw");
        }

        /// <summary>The input as data.pkl of a torch.save zip holding tiny.pt's storages, so mutations reach the unpickler past the zip's CRCs.</summary>
        static void ReadPickle(byte[] pickle)
        {
            byte[] zip = EffNet.Runtime.Tests.Import.TorchZip.Build(pickle, Seeds.TinyStorages.Value);
            PyTorchCheckpoint.Read(new MemoryStream(zip), "fuzz.pt");
        }
    }
}
