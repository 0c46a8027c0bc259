using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using EffNet.Model;

namespace EffNet.Runtime.Tests.Import
{
    /// <summary>The checkpoint fixtures tools/make_checkpoints.py wrote with the real torch and torchvision.</summary>
    internal static class Fixtures
    {
        public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

        public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));
    }

    /// <summary>A temporary directory removed with everything in it.</summary>
    internal sealed class TempDirectory : IDisposable
    {
        public TempDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "effnet-import-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        /// <summary>Writes <paramref name="bytes"/> to a file named <paramref name="name"/> and returns its path.</summary>
        public string Write(string name, byte[] bytes)
        {
            string path = File(name);
            System.IO.File.WriteAllBytes(path, bytes);
            return path;
        }

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>Writes pickle opcodes by hand, for inputs torch.save would never produce.</summary>
    internal sealed class PickleBuilder
    {
        readonly List<byte> _bytes = new List<byte> { 0x80, 2 }; // PROTO 2

        public byte[] ToArray() => _bytes.ToArray();

        public PickleBuilder Op(byte opcode)
        {
            _bytes.Add(opcode);
            return this;
        }

        public PickleBuilder Raw(params byte[] bytes)
        {
            _bytes.AddRange(bytes);
            return this;
        }

        public PickleBuilder Global(string module, string name)
            => Op((byte)'c').Raw(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));

        public PickleBuilder Str(string text)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
            return Op((byte)'X').Raw(length).Raw(utf8);
        }

        public PickleBuilder Int(long value)
        {
            if (value >= 0 && value < 256) return Op((byte)'K').Raw((byte)value);
            var bytes = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
            return Op(0x8a).Raw(8).Raw(bytes); // LONG1
        }

        public PickleBuilder Mark() => Op((byte)'(');
        public PickleBuilder Tuple() => Op((byte)'t');
        public PickleBuilder Stop() => Op((byte)'.');

        public PickleBuilder IntTuple(long[] values)
        {
            Mark();
            foreach (long v in values) Int(v);
            return Tuple();
        }

        /// <summary>OrderedDict() with a MARK opened for SETITEMS.</summary>
        public PickleBuilder BeginStateDict() => Global("collections", "OrderedDict").Op((byte)')').Op((byte)'R').Mark();

        public PickleBuilder EndStateDict() => Op((byte)'u').Stop();

        /// <summary>key -> _rebuild_tensor_v2(('storage', torch.&lt;type&gt;, storageKey, 'cpu', numel), offset, size, stride, False, OrderedDict()).</summary>
        public PickleBuilder Tensor(string key, string storageKey, long numel, long offset, long[] size, long[] stride, string type = "FloatStorage")
        {
            Str(key);
            Global("torch._utils", "_rebuild_tensor_v2").Mark();
            Mark().Str("storage").Global("torch", type).Str(storageKey).Str("cpu").Int(numel).Tuple().Op((byte)'Q');
            Int(offset).IntTuple(size).IntTuple(stride).Op(0x89);
            Global("collections", "OrderedDict").Op((byte)')').Op((byte)'R');
            return Tuple().Op((byte)'R');
        }
    }

    /// <summary>Builds the zip layout torch.save writes: archive/data.pkl, archive/data/&lt;key&gt;, archive/version.</summary>
    internal static class TorchZip
    {
        /// <param name="deflatedZeros">A storage of that many zero bytes, deflated (torch.save itself never compresses), written a MiB at a time.</param>
        public static byte[] Build(byte[] pickle, IReadOnlyDictionary<string, byte[]> storages, string root = "archive",
                                   (string Key, long Bytes)? deflatedZeros = null, CompressionLevel level = CompressionLevel.NoCompression)
        {
            var buffer = new MemoryStream();
            using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            {
                Add(zip, root + "/data.pkl", pickle, CompressionLevel.NoCompression);
                foreach (KeyValuePair<string, byte[]> storage in storages)
                    Add(zip, root + "/data/" + storage.Key, storage.Value, level);
                if (deflatedZeros is (string key, long bytes))
                {
                    using Stream entry = zip.CreateEntry(root + "/data/" + key, CompressionLevel.SmallestSize).Open();
                    var zeros = new byte[1 << 20];
                    for (long done = 0; done < bytes; done += zeros.Length)
                        entry.Write(zeros, 0, (int)Math.Min(zeros.Length, bytes - done));
                }
                Add(zip, root + "/version", Encoding.ASCII.GetBytes("3\n"), CompressionLevel.NoCompression);
            }
            return buffer.ToArray();
        }

        /// <summary>The file offset of the central directory record of <paramref name="entry"/>.</summary>
        public static int CentralRecord(byte[] zip, string entry)
        {
            byte[] name = Encoding.ASCII.GetBytes(entry);
            for (int at = zip.Length - 46; at >= 0; at--)
                if (zip[at] == 'P' && zip[at + 1] == 'K' && zip[at + 2] == 1 && zip[at + 3] == 2 &&
                    BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 28)) == name.Length && zip.AsSpan(at + 46, name.Length).SequenceEqual(name))
                    return at;
            throw new InvalidOperationException(entry + " not found");
        }

        /// <summary>A copy of <paramref name="zip"/> with <paramref name="edit"/> applied at the central directory record of <paramref name="entry"/>.</summary>
        public static byte[] Patch(byte[] zip, string entry, Action<byte[], int> edit)
        {
            byte[] copy = (byte[])zip.Clone();
            edit(copy, CentralRecord(copy, entry));
            return copy;
        }

        /// <summary>A torch.save zip's data.pkl and its storages by key: the parts <see cref="Build"/> takes.</summary>
        public static (byte[] Pickle, Dictionary<string, byte[]> Storages) Split(byte[] torchZip)
        {
            using var zip = new ZipArchive(new MemoryStream(torchZip));
            byte[] Read(ZipArchiveEntry entry)
            {
                var buffer = new MemoryStream();
                using (Stream s = entry.Open()) s.CopyTo(buffer);
                return buffer.ToArray();
            }
            return (Read(zip.Entries.Single(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal))),
                    zip.Entries.Where(e => e.FullName.Contains("/data/", StringComparison.Ordinal)).ToDictionary(e => e.Name, Read));
        }

        static void Add(ZipArchive zip, string name, byte[] bytes, CompressionLevel level)
        {
            using Stream entry = zip.CreateEntry(name, level).Open();
            entry.Write(bytes);
        }

        public static byte[] Floats(params float[] values)
        {
            var bytes = new byte[values.Length * 4];
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
            return bytes;
        }
    }

    /// <summary>
    /// torch.save-shaped files that ask for far more memory than they hold: many views of one storage, a compressed storage
    /// that inflates far past the file. Before views were read once and inflation was bounded, each asked for gigabytes.
    /// </summary>
    internal static class MemoryBombs
    {
        /// <summary>
        /// <paramref name="views"/> tensors t0, t1, ... over one float32 storage of <paramref name="elements"/> zeros: each the
        /// whole storage (one view, as tied weights are), or when <paramref name="overlapping"/> each starting an element later.
        /// </summary>
        public static byte[] ViewsOfOneStorage(int views, int elements, bool overlapping)
        {
            var pickle = new PickleBuilder().BeginStateDict();
            for (int i = 0; i < views; i++)
                pickle.Tensor("t" + i, "0", elements, overlapping ? i : 0, new long[] { overlapping ? elements - views : elements }, new long[] { 1 });
            return TorchZip.Build(pickle.EndStateDict().ToArray(), new Dictionary<string, byte[]> { ["0"] = new byte[4L * elements] });
        }

        /// <summary><paramref name="views"/> tensors t0, t1, ..., each the whole of one float32 storage of <paramref name="bytes"/> zero bytes, deflated.</summary>
        public static byte[] ViewsOfACompressedStorage(int views, long bytes)
        {
            var pickle = new PickleBuilder().BeginStateDict();
            for (int i = 0; i < views; i++)
                pickle.Tensor("t" + i, "0", bytes / 4, 0, new long[] { bytes / 4 }, new long[] { 1 });
            return TorchZip.Build(pickle.EndStateDict().ToArray(), new Dictionary<string, byte[]>(), deflatedZeros: ("0", bytes));
        }

        /// <summary>
        /// <paramref name="layout"/>'s state dict as a torch.save zip: each tensor in its own storage of zeros, unless <paramref name="place"/>
        /// puts it in one of <paramref name="storages"/> or <paramref name="deflatedZeros"/>; then the tensors <paramref name="more"/> adds.
        /// </summary>
        /// <param name="rename">The key each torchvision name is saved under (e.g. <see cref="TimmNames.Of"/>); by default the name itself.</param>
        public static byte[] ModelCheckpoint(NetworkLayout layout, Func<string, int[], (string Storage, long Elements, long Offset, int[] Shape)?> place,
                                             Action<PickleBuilder>? more = null, Dictionary<string, byte[]>? storages = null,
                                             (string Key, long Bytes)? deflatedZeros = null, Func<string, string>? rename = null)
        {
            var pickle = new PickleBuilder().BeginStateDict();
            storages = new Dictionary<string, byte[]>(storages ?? new Dictionary<string, byte[]>());
            foreach ((string key, int[] modelShape) in layout.ReferenceStateDict())
            {
                if (place(key, modelShape) is not (string storage, long elements, long offset, int[] shape))
                {
                    (storage, elements, offset, shape) = (key, Elements(modelShape), 0, modelShape);
                    storages.Add(storage, new byte[4 * elements]);
                }
                pickle.Tensor(rename?.Invoke(key) ?? key, storage, elements, offset, shape.Select(d => (long)d).ToArray(), RowMajorStrides(shape));
            }
            more?.Invoke(pickle);
            return TorchZip.Build(pickle.EndStateDict().ToArray(), storages, deflatedZeros: deflatedZeros);
        }

        /// <summary>
        /// <paramref name="layout"/>'s state dict with every tensor a disjoint part of one deflated storage of zeros: a layout torch
        /// could save, but the model's weights (megabytes) from a file of kilobytes.
        /// </summary>
        public static byte[] ModelInOneCompressedStorage(NetworkLayout layout)
        {
            long total = layout.ReferenceStateDict().Sum(entry => Elements(entry.Value)), next = 0;
            return ModelCheckpoint(layout, (_, shape) =>
            {
                long offset = next;
                next += Elements(shape);
                return ("all", total, offset, shape);
            }, deflatedZeros: ("all", 4 * total));
        }

        static long Elements(int[] shape) => shape.Aggregate(1L, (n, d) => n * d);

        public static long[] RowMajorStrides(int[] shape)
        {
            var strides = new long[shape.Length];
            long stride = 1;
            for (int axis = shape.Length - 1; axis >= 0; axis--)
            {
                strides[axis] = stride;
                stride *= shape[axis];
            }
            return strides;
        }
    }

    /// <summary>timm's names for torchvision's keys, written from architecture reference 5.2 independently of the importer's tables.</summary>
    internal static class TimmNames
    {
        public static string Of(string key, NetworkLayout layout)
        {
            var top = new Dictionary<string, string> { ["features.0.0"] = "conv_stem", ["features.0.1"] = "bn1", ["features.8.0"] = "conv_head", ["features.8.1"] = "bn2", ["classifier.1"] = "classifier" };
            int dot = key.LastIndexOf('.');
            string module = key.Substring(0, dot), field = key.Substring(dot + 1);
            if (top.TryGetValue(module, out string? name)) return name + "." + field;
            BlockLayout block = layout.Blocks.Single(b => module.StartsWith(b.Module + ".", StringComparison.Ordinal));
            string inner = module.Substring(block.Module.Length + 1);
            string[] order = block.HasExpansion
                ? new[] { "block.0.0", "conv_pw", "block.0.1", "bn1", "block.1.0", "conv_dw", "block.1.1", "bn2", "block.2.fc1", "se.conv_reduce", "block.2.fc2", "se.conv_expand", "block.3.0", "conv_pwl", "block.3.1", "bn3" }
                : new[] { "block.0.0", "conv_dw", "block.0.1", "bn1", "block.1.fc1", "se.conv_reduce", "block.1.fc2", "se.conv_expand", "block.2.0", "conv_pw", "block.2.1", "bn2" };
            int at = Array.IndexOf(order, inner);
            return $"blocks.{block.Stage}.{block.IndexInStage}.{order[at + 1]}.{field}";
        }
    }

    /// <summary>Writes .npy files byte by byte, so the header can say anything.</summary>
    internal static class NpyBytes
    {
        /// <summary>Magic, version <paramref name="major"/>.<paramref name="minor"/>, the header's length and text, then <paramref name="dataBytes"/> zero bytes.</summary>
        public static byte[] Build(string header, int dataBytes, byte major = 1, byte minor = 0) => Build(header, new byte[dataBytes], major, minor);

        public static byte[] Build(string header, byte[] data, byte major = 1, byte minor = 0)
        {
            byte[] text = Encoding.Latin1.GetBytes(header);
            int prefix = major == 1 ? 10 : 12;
            var bytes = new byte[prefix + text.Length + data.Length];
            new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, minor }.CopyTo(bytes, 0);
            if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)text.Length);
            else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)text.Length);
            text.CopyTo(bytes, prefix);
            data.CopyTo(bytes, prefix + text.Length);
            return bytes;
        }
    }

    /// <summary>Writes safetensors files byte by byte, so the header can say anything.</summary>
    internal static class SafeTensorsBytes
    {
        public static byte[] Build(string headerJson, byte[] data)
        {
            byte[] header = Encoding.UTF8.GetBytes(headerJson);
            var bytes = new byte[8 + header.Length + data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
            header.CopyTo(bytes, 8);
            data.CopyTo(bytes, 8 + header.Length);
            return bytes;
        }

        /// <summary>One F32 tensor "w" of shape [2] holding 1 and 2, with the given header fields.</summary>
        public static byte[] OneTensor(string dtype = "F32", string shape = "[2]", string offsets = "[0,8]", int dataBytes = 8)
            => Build($"{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}}}",
                     TorchZip.Floats(1f, 2f).Concat(new byte[Math.Max(0, dataBytes - 8)]).Take(dataBytes).ToArray());
    }
}
