using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;

namespace EffNet.Import
{
    /// <summary>
    /// Reads the file <c>torch.save(model.state_dict(), path)</c> writes (PyTorch 1.6 and later): a zip holding
    /// <c>&lt;root&gt;/data.pkl</c>, the tensor storages <c>&lt;root&gt;/data/&lt;key&gt;</c> and <c>&lt;root&gt;/version</c>.
    /// The pickle is read by a restricted unpickler that knows only what a state dict needs and refuses every other
    /// Python global by name; nothing in the file is ever executed.
    /// </summary>
    public static class PyTorchCheckpoint
    {
        /// <summary>The largest data.pkl accepted; a state dict's is a few hundred kilobytes even for B7.</summary>
        public const int MaxPickleBytes = 64 << 20;

        // Deflate cannot expand more than this; an entry claiming more is lying (torch itself stores entries uncompressed).
        const long MaxDeflateRatio = 1032;

        /// <summary>Entries of a training checkpoint that may hold the state dict, tried in this order.</summary>
        static readonly string[] WrapperKeys = { "state_dict", "model_state_dict", "model", "state_dict_ema", "model_ema" };

        /// <summary>Reads every tensor of the state dict in <paramref name="path"/>, converted to float32 (integers too).</summary>
        /// <exception cref="WeightFormatException">The file is not a readable state dict; the message names the file and the key or offset.</exception>
        public static Dictionary<string, SourceTensor> Read(string path, IProgress<double>? progress = null)
            => CheckpointReader.WithFile(path, file => Read(file, path, progress));

        /// <summary>Reads a state dict from a seekable <paramref name="stream"/>; <paramref name="name"/> labels errors.</summary>
        public static Dictionary<string, SourceTensor> Read(Stream stream, string? name = null, IProgress<double>? progress = null)
            => ReadTyped(stream, name, progress).Tensors;

        internal static (Dictionary<string, SourceTensor> Tensors, SortedSet<string> ElementTypes) ReadTyped(Stream stream, string? name, IProgress<double>? progress)
        {
            CheckpointReader.RequireSeekable(stream);
            long fileLength = stream.Length;
            try
            {
                using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
                var archive = new Archive(zip, name, fileLength);
                var pickle = new PickleReader(archive.ReadEntry(archive.Root + "data.pkl", null, MaxPickleBytes), name);
                List<KeyValuePair<string, PickleTensor>> entries = StateDictEntries(pickle.Load(), name);

                var tensors = new Dictionary<string, SourceTensor>(entries.Count, StringComparer.Ordinal);
                var types = new SortedSet<string>(StringComparer.Ordinal);
                // Storage bytes are kept while tensors still need them (several views may share one), then dropped.
                var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                var users = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (KeyValuePair<string, PickleTensor> entry in entries)
                    users[entry.Value.Storage.Key] = users.GetValueOrDefault(entry.Value.Storage.Key) + 1;
                for (int i = 0; i < entries.Count; i++)
                {
                    (string key, PickleTensor tensor) = (entries[i].Key, entries[i].Value);
                    if (tensors.ContainsKey(key))
                        throw new WeightFormatException(name, $"the state dict holds '{key}' twice.");
                    tensors.Add(key, Materialize(archive, storages, key, tensor));
                    if (--users[tensor.Storage.Key] == 0)
                        storages.Remove(tensor.Storage.Key);
                    types.Add(ElementTypes.Name(tensor.Storage.Type));
                    progress?.Report((i + 1.0) / entries.Count);
                }
                return (tensors, types);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or NotSupportedException ||
                                      (e is IOException && e is not FileNotFoundException && e is not DirectoryNotFoundException))
            {
                throw new WeightFormatException(name, $"this is not a readable PyTorch zip checkpoint: its zip directory (the end-of-central-directory " +
                    $"record, searched for back from offset {fileLength} at the file's end, and the central directory it points to) cannot be read ({e.Message.TrimEnd('.')}). " +
                    "The file may be truncated or corrupted; torch.save(model.state_dict(), path) writes a readable one.");
            }
        }

        /// <summary>The (key, tensor) pairs of the unpickled root: a dict of tensors, or a training checkpoint wrapping one.</summary>
        static List<KeyValuePair<string, PickleTensor>> StateDictEntries(object root, string? name)
        {
            if (root is not PickleDict dict)
                throw new WeightFormatException(name, "the pickle holds a single " + (root is PickleTensor ? "tensor" : "object") +
                    ", not a state dict. Save model.state_dict().");
            if (dict.Items.Any(item => item.Value is not PickleTensor))
            {
                foreach (string wrapper in WrapperKeys)
                {
                    object? inner = dict.Items.FirstOrDefault(item => item.Key is string k && k == wrapper).Value;
                    if (inner is PickleDict innerDict && innerDict.Items.Count > 0 && innerDict.Items.All(item => item.Value is PickleTensor))
                    {
                        dict = innerDict;
                        break;
                    }
                }
            }
            var entries = new List<KeyValuePair<string, PickleTensor>>(dict.Items.Count);
            foreach (KeyValuePair<object, object> item in dict.Items)
            {
                if (item.Key is not string key)
                    throw new WeightFormatException(name, "the state dict has a key that is not a string.");
                if (item.Value is not PickleTensor tensor)
                    throw new WeightFormatException(name, $"state dict entry '{key}' is not a tensor. Save model.state_dict() (a dict of tensors), " +
                        $"or a dict holding it under one of: {string.Join(", ", WrapperKeys)}.");
                entries.Add(new KeyValuePair<string, PickleTensor>(key, tensor));
            }
            if (entries.Count == 0)
                throw new WeightFormatException(name, "the state dict is empty.");
            return entries;
        }

        static SourceTensor Materialize(Archive archive, Dictionary<string, byte[]> storages, string key, PickleTensor tensor)
        {
            PickleStorage storage = tensor.Storage;
            string Where() => $"tensor '{key}' (storage data/{storage.Key}, {storage.Elements} x {ElementTypes.Name(storage.Type)})";
            WeightFormatException Bad(string problem) => new WeightFormatException(archive.Name, Where() + ": " + problem + ".");

            if (tensor.Sizes.Length > 8)
                throw Bad($"rank {tensor.Sizes.Length} is more than a convolution weight has");
            var shape = new int[tensor.Sizes.Length];
            long elements = 1;
            long lastIndex = tensor.Offset; // the largest element index the view reaches
            for (int axis = 0; axis < shape.Length; axis++)
            {
                long size = tensor.Sizes[axis], stride = tensor.Strides[axis];
                if (size < 0 || size > int.MaxValue || stride < 0)
                    throw Bad($"axis {axis} has size {size} and stride {stride}");
                shape[axis] = (int)size;
                elements = size == 0 ? 0 : Math.Min(elements, long.MaxValue / size) * size;
                if (size > 0 && stride > 0)
                    lastIndex = stride > (long.MaxValue - lastIndex) / size ? long.MaxValue : lastIndex + (size - 1) * stride;
            }
            if (elements > 0 && lastIndex >= storage.Elements)
                throw Bad($"the view (offset {tensor.Offset}, shape {SourceTensor.FormatShape(shape)}, strides [{string.Join(", ", tensor.Strides)}]) reaches element {lastIndex}, past the storage's end");
            // A view can only repeat elements through zero or overlapping strides, which a saved state dict never has;
            // refusing them keeps every allocation within what the file holds.
            if (elements > storage.Elements)
                throw Bad($"the view has {elements} elements, more than its storage holds (overlapping strides are not supported)");

            if (!storages.TryGetValue(storage.Key, out byte[]? bytes))
            {
                if (storage.Elements > int.MaxValue)
                    throw Bad("the storage is larger than any EfficientNet tensor");
                long length = storage.Elements * ElementTypes.Size(storage.Type);
                bytes = archive.ReadEntry(archive.Root + "data/" + storage.Key, length, int.MaxValue, Where());
                storages.Add(storage.Key, bytes);
            }
            return new SourceTensor(shape, ElementTypes.Gather(bytes, storage.Type, tensor.Offset, shape, tensor.Strides));
        }

        /// <summary>The zip with its root folder found and every entry read bounds-checked.</summary>
        sealed class Archive
        {
            readonly ZipArchive _zip;
            readonly long _fileLength;
            readonly Dictionary<string, ZipArchiveEntry> _entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);

            public Archive(ZipArchive zip, string? name, long fileLength)
            {
                _zip = zip;
                Name = name;
                _fileLength = fileLength;
                foreach (ZipArchiveEntry entry in zip.Entries)
                    if (!_entries.TryAdd(entry.FullName, entry))
                        throw new WeightFormatException(name, $"the zip holds the entry '{entry.FullName}' twice; which copy counts would be ambiguous.");

                // The root folder is named after the file torch.save wrote (or "archive"): find it by its data.pkl.
                string[] roots = _entries.Keys.Where(k => k.EndsWith("/data.pkl", StringComparison.Ordinal) && k.IndexOf('/') == k.Length - 9)
                                              .ToArray();
                if (roots.Length != 1)
                    throw new WeightFormatException(name, roots.Length == 0
                        ? $"this zip has no <folder>/data.pkl among its {_entries.Count} entries ({Sample(_entries.Keys)}), so it is not a checkpoint written by torch.save."
                        : $"this zip has {roots.Length} <folder>/data.pkl entries ({Sample(roots)}); a torch.save checkpoint has one.");
                Root = roots[0].Substring(0, roots[0].Length - "data.pkl".Length);

                if (_entries.TryGetValue(Root + "byteorder", out ZipArchiveEntry? order))
                {
                    string text = Encoding.ASCII.GetString(ReadEntry(order.FullName, null, 64)).Trim();
                    if (text != "little")
                        throw new WeightFormatException(name, $"the checkpoint's byte order (entry '{order.FullName}') is '{text}'; only little-endian checkpoints are supported.");
                }
            }

            public string? Name { get; }

            /// <summary>"'a', 'b', 'c' and 2 more": entry names for messages.</summary>
            static string Sample(IEnumerable<string> names)
            {
                string[] all = names.ToArray();
                string shown = string.Join(", ", all.Take(5).Select(n => "'" + (n.Length > 80 ? n.Substring(0, 80) + "..." : n) + "'"));
                return all.Length > 5 ? $"{shown} and {all.Length - 5} more" : all.Length == 0 ? "none" : shown;
            }

            /// <summary>"archive/", the folder every entry sits in.</summary>
            public string Root { get; }

            /// <summary>
            /// The bytes of an entry, after checking its size against <paramref name="expected"/> (when given), the
            /// <paramref name="limit"/> and what the file can hold, so nothing is allocated from a size the file cannot back:
            /// a stored entry's bytes are in the file; a compressed entry's buffer grows only as its data really inflates.
            /// The entry's CRC-32 is verified (the zip reader itself does not), so a flipped bit is an error, not a wrong weight.
            /// </summary>
            public byte[] ReadEntry(string path, long? expected, int limit, string? what = null)
            {
                string label = what ?? path.Substring(Root?.Length ?? 0);
                if (!_entries.TryGetValue(path, out ZipArchiveEntry? entry))
                    throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' is missing.");
                long length = entry.Length, stored = entry.CompressedLength;
                if (expected is long need && length != need)
                    throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' holds {length} bytes but the tensor needs {need}.");
                if (length < 0 || length > limit || stored < 0 || stored > _fileLength || length > Math.Max(stored, 1) * MaxDeflateRatio)
                    throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' claims {length} bytes ({stored} stored) in a file of {_fileLength} bytes.");
                byte[] bytes;
                try
                {
                    using Stream data = entry.Open();
                    bytes = length <= stored ? ReadExactly(data, (int)length) : ReadGrowing(data, (int)length, (int)Math.Min(length, 2 * stored + 4096));
                    if (data.ReadByte() >= 0)
                        throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' is longer than the {length} bytes it declares.");
                }
                catch (Exception e) when (e is InvalidDataException or IOException)
                {
                    throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' ({length} bytes, {stored} stored) cannot be read: {e.Message.TrimEnd('.')}. " +
                        "The file is truncated or corrupted.");
                }
                uint crc = System.IO.Hashing.Crc32.HashToUInt32(bytes);
                if (crc != entry.Crc32)
                    throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' has CRC-32 0x{crc:x8} but the zip records 0x{entry.Crc32:x8}: the file is corrupted.");
                return bytes;
            }

            static byte[] ReadExactly(Stream data, int length)
            {
                var bytes = new byte[length];
                data.ReadExactly(bytes);
                return bytes;
            }

            /// <summary>Reads exactly <paramref name="length"/> bytes into a buffer that starts at <paramref name="initial"/> and doubles only when full.</summary>
            static byte[] ReadGrowing(Stream data, int length, int initial)
            {
                var bytes = new byte[initial];
                int done = 0;
                while (done < length)
                {
                    if (done == bytes.Length)
                        Array.Resize(ref bytes, (int)Math.Min(length, 2L * bytes.Length));
                    int n = data.Read(bytes, done, bytes.Length - done);
                    if (n == 0)
                        throw new EndOfStreamException($"the data ends after {done} of {length} bytes");
                    done += n;
                }
                return bytes;
            }
        }
    }
}
