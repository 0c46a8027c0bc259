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

        // The compressed entries of a file may inflate to at most 4 times its size (+ 64 KiB) altogether. torch.save stores
        // entries uncompressed and re-zipped weights shrink by a few percent, so only a zip bomb needs more; with float16
        // doubling on conversion, reading every tensor then stays within 16 times the file's size.
        const long MaxInflationRatio = 4;
        const long InflationSlack = 64 << 10;

        /// <summary>Entries of a training checkpoint that may hold the state dict, tried in this order.</summary>
        static readonly string[] WrapperKeys = { "state_dict", "model_state_dict", "model", "state_dict_ema", "model_ema" };

        /// <summary>Reads every tensor of the state dict in <paramref name="path"/>, converted to float32 (integers too).</summary>
        /// <exception cref="WeightFormatException">The file is not a readable state dict; the message names the file and the key or offset.</exception>
        public static Dictionary<string, SourceTensor> Read(string path, IProgress<double>? progress = null)
            => CheckpointReader.WithFile(path, file => Read(file, path, progress));

        /// <summary>Reads a state dict from a seekable <paramref name="stream"/>; <paramref name="name"/> labels errors.</summary>
        /// <remarks>Tensors that are the same view of one storage (tied weights) are read as one <see cref="SourceTensor"/> under each key.</remarks>
        public static Dictionary<string, SourceTensor> Read(Stream stream, string? name = null, IProgress<double>? progress = null)
        {
            using CheckpointFile checkpoint = Open(stream, name);
            return checkpoint.ReadAll(progress);
        }

        /// <summary>
        /// Reads the zip directory and data.pkl of the checkpoint in <paramref name="stream"/> (left open) and checks every
        /// tensor against its storage and every storage's declared size against the file, reading no storage yet.
        /// </summary>
        internal static CheckpointFile Open(Stream stream, string? name)
        {
            CheckpointReader.RequireSeekable(stream);
            ZipArchive zip = OpenZip(stream, name);
            try
            {
                return new Contents(zip, name, stream.Length);
            }
            catch
            {
                zip.Dispose();
                throw;
            }
        }

        static ZipArchive OpenZip(Stream stream, string? name)
        {
            long fileLength = stream.Length;
            try
            {
                var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
                _ = zip.Entries.Count; // reads the central directory now, so its damage is reported here
                return zip;
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or NotSupportedException ||
                                      (e is IOException && e is not FileNotFoundException && e is not DirectoryNotFoundException))
            {
                throw new WeightFormatException(name, $"this is not a readable PyTorch zip checkpoint: its zip directory (the end-of-central-directory " +
                    $"record, searched for back from offset {fileLength} at the file's end, and the central directory it points to) cannot be read ({e.Message.TrimEnd('.')}). " +
                    "The file may be truncated or corrupted; torch.save(model.state_dict(), path) writes a readable one.");
            }
        }

        /// <summary>A tensor of the state dict, checked to lie inside its storage: which elements it takes and in which order.</summary>
        sealed record View(string Key, PickleStorage Storage, long Offset, int[] Shape, long[] Strides, long Elements, long Reach)
        {
            /// <summary>Equal for two tensors that are the same view of the same storage (tied weights): they share one conversion.</summary>
            public string Identity { get; } = Storage.Key + "@" + Offset + ":" + string.Join(",", Shape) + ":" + string.Join(",", Strides);

            public string StoragePath(string root) => root + "data/" + Storage.Key;

            public long StorageBytes => Storage.Elements * ElementTypes.Size(Storage.Type);

            /// <summary>"tensor 'k' (storage data/0, 6 x float32)": how messages name the tensor.</summary>
            public override string ToString() => $"tensor '{Key}' (storage data/{Storage.Key}, {Storage.Elements} x {ElementTypes.Name(Storage.Type)})";
        }

        /// <summary>The opened checkpoint: the zip, and every tensor of data.pkl as a checked view, its storage not read yet.</summary>
        sealed class Contents : CheckpointFile
        {
            readonly ZipArchive _zip;
            readonly Archive _archive;
            readonly Dictionary<string, View> _views;

            public Contents(ZipArchive zip, string? name, long fileLength) : this(zip, new Archive(zip, name, fileLength)) { }

            Contents(ZipArchive zip, Archive archive) : this(zip, archive, ReadViews(archive)) { }

            Contents(ZipArchive zip, Archive archive, Dictionary<string, View> views)
                : base(CheckpointFormat.PyTorch,
                       views.ToDictionary(view => view.Key, view => view.Value.Shape, StringComparer.Ordinal),
                       new SortedSet<string>(views.Values.Select(view => ElementTypes.Name(view.Storage.Type)), StringComparer.Ordinal))
            {
                _zip = zip;
                _archive = archive;
                _views = views;
            }

            static Dictionary<string, View> ReadViews(Archive archive)
            {
                var pickle = new PickleReader(archive.ReadEntry(archive.Root + "data.pkl", null, MaxPickleBytes), archive.Name);
                var views = new Dictionary<string, View>(StringComparer.Ordinal);
                foreach (KeyValuePair<string, PickleTensor> entry in StateDictEntries(pickle.Load(), archive.Name))
                {
                    if (views.ContainsKey(entry.Key))
                        throw new WeightFormatException(archive.Name, $"the state dict holds '{entry.Key}' twice.");
                    views.Add(entry.Key, CheckView(archive.Name, entry.Key, entry.Value));
                }
                CheckViewsFitTheirStorages(archive.Name, views.Values);
                foreach (View first in views.Values.DistinctBy(view => view.Storage.Key))
                    archive.CheckEntry(first.StoragePath(archive.Root), first.StorageBytes, int.MaxValue, first.ToString());
                return views;
            }

            /// <summary>
            /// Reads each storage the <paramref name="keys"/> view once, converts its tensors (identical views once) and drops
            /// its bytes. Compressed storages are checked against what these tensors reach and the file's inflation allowance
            /// before the first byte is inflated.
            /// </summary>
            protected override Dictionary<string, SourceTensor> Load(IReadOnlyList<string> keys, IProgress<double>? progress)
            {
                List<View[]> byStorage = keys.Select(key => _views[key]).GroupBy(view => view.Storage.Key, StringComparer.Ordinal)
                                             .Select(group => group.ToArray()).ToList();
                long inflating = 0;
                foreach (View[] views in byStorage)
                {
                    View first = views[0];
                    long reach = views.Max(view => view.Reach) * ElementTypes.Size(first.Storage.Type);
                    inflating += _archive.InflatedSize(first.StoragePath(_archive.Root), reach, first.ToString());
                }
                _archive.CheckInflation(inflating, keys.Count == 1 ? _views[keys[0]].ToString() : $"the {keys.Count} tensors read");

                var tensors = new Dictionary<string, SourceTensor>(keys.Count, StringComparer.Ordinal);
                foreach (View[] views in byStorage)
                {
                    View first = views[0];
                    PickleStorage storage = first.Storage;
                    byte[] bytes = _archive.ReadEntry(first.StoragePath(_archive.Root), first.StorageBytes, int.MaxValue, first.ToString());
                    var converted = new Dictionary<string, SourceTensor>(StringComparer.Ordinal);
                    foreach (View view in views)
                    {
                        if (!converted.TryGetValue(view.Identity, out SourceTensor? tensor))
                        {
                            tensor = new SourceTensor(view.Shape, ElementTypes.Gather(bytes, storage.Type, view.Offset, view.Shape, view.Strides));
                            converted.Add(view.Identity, tensor);
                        }
                        tensors.Add(view.Key, tensor);
                        progress?.Report((double)tensors.Count / keys.Count);
                    }
                }
                return tensors;
            }

            public override void Dispose() => _zip.Dispose();
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

        static View CheckView(string? file, string key, PickleTensor tensor)
        {
            PickleStorage storage = tensor.Storage;
            WeightFormatException Bad(string problem) => new WeightFormatException(file,
                $"tensor '{key}' (storage data/{storage.Key}, {storage.Elements} x {ElementTypes.Name(storage.Type)}): {problem}.");

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
            if (storage.Elements > int.MaxValue)
                throw Bad("the storage is larger than any EfficientNet tensor");
            return new View(key, storage, tensor.Offset, shape, tensor.Strides, elements, elements == 0 ? 0 : lastIndex + 1);
        }

        /// <summary>
        /// The different views of one storage may not hold more elements together than the storage has. Only views that share
        /// elements could, which torch.save of a model's state dict never writes; refusing them keeps the converted tensors
        /// within what the file holds (4,000 overlapping views of one 4 MB storage would be 16 GB). Identical views (tied
        /// weights) count once, as they are converted once.
        /// </summary>
        static void CheckViewsFitTheirStorages(string? file, IEnumerable<View> views)
        {
            foreach (IGrouping<string, View> storageViews in views.GroupBy(view => view.Storage.Key, StringComparer.Ordinal))
            {
                long held = 0;
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (View view in storageViews)
                {
                    if (!seen.Add(view.Identity))
                        continue;
                    if (view.Elements > view.Storage.Elements - held)
                        throw new WeightFormatException(file, view + (seen.Count == 1
                            ? $": the view (shape {SourceTensor.FormatShape(view.Shape)}, strides [{string.Join(", ", view.Strides)}]) has {view.Elements} elements, more than its storage holds"
                            : $": it and the {seen.Count - 1} other tensor(s) before it that view this storage hold {held + view.Elements} elements together, more than the storage holds") +
                            "; views that overlap are not supported. Save tensors that do not share storage: {k: v.clone() for k, v in state_dict.items()}.");
                    held += view.Elements;
                }
            }
        }

        /// <summary>The zip with its root folder found and every entry read bounds-checked.</summary>
        sealed class Archive
        {
            readonly ZipArchive _zip;
            readonly long _fileLength;
            long _inflated; // bytes inflated so far beyond what the file stores
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
            /// The entry at <paramref name="path"/>, after checking its declared size against <paramref name="expected"/> (when
            /// given), the <paramref name="limit"/> and what the file can back: a stored entry's bytes must lie in the file, and
            /// no entry may claim to inflate past deflate's 1032:1.
            /// </summary>
            public ZipArchiveEntry CheckEntry(string path, long? expected, long limit, string label)
            {
                if (!_entries.TryGetValue(path, out ZipArchiveEntry? entry))
                    throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' is missing.");
                long length = entry.Length, stored = entry.CompressedLength;
                if (expected is long need && length != need)
                    throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' holds {length} bytes but the tensor needs {need}.");
                if (length < 0 || length > limit || stored < 0 || stored > _fileLength || length > Math.Max(stored, 1) * MaxDeflateRatio)
                    throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' claims {length} bytes ({stored} stored) in a file of {_fileLength} bytes.");
                return entry;
            }

            /// <summary>
            /// The bytes the entry at <paramref name="path"/> inflates to beyond what the file stores (0 for a stored entry),
            /// after checking that they are no more than the <paramref name="needed"/> bytes the tensors read from it reach.
            /// </summary>
            public long InflatedSize(string path, long needed, string label)
            {
                ZipArchiveEntry entry = _entries[path];
                if (!Inflates(entry))
                    return 0;
                if (entry.Length > needed)
                    throw new WeightFormatException(Name, $"{label}: the zip entry '{path}' is compressed and inflates to {entry.Length} bytes, " +
                        $"but the tensors read from it reach only {needed}; torch.save stores storages uncompressed and whole, so the file was made otherwise.");
                return entry.Length;
            }

            /// <summary>Refuses to inflate <paramref name="bytes"/> more when, with what was inflated before, they exceed the file's allowance.</summary>
            public void CheckInflation(long bytes, string label)
            {
                long allowed = MaxInflationRatio * _fileLength + InflationSlack;
                if (bytes > allowed - _inflated)
                    throw new WeightFormatException(Name, $"{label}: the compressed zip entries would inflate to {_inflated + bytes} bytes, more than the " +
                        $"{allowed} allowed for a file of {_fileLength} bytes ({MaxInflationRatio} times its size + {InflationSlack / 1024} KiB). " +
                        "torch.save stores its entries uncompressed; re-save the weights with torch.save(model.state_dict(), path).");
            }

            /// <summary>Does the entry hold more bytes than the file stores for it (a compressed entry that really shrank)?</summary>
            static bool Inflates(ZipArchiveEntry entry) => entry.Length > entry.CompressedLength;

            /// <summary>
            /// The bytes of an entry, after <see cref="CheckEntry"/> and, for a compressed entry, <see cref="CheckInflation"/>:
            /// nothing is allocated from a size the file cannot back, and inflating stops at the declared size. The entry's CRC-32
            /// is verified (the zip reader itself does not), so a flipped bit is an error, not a wrong weight.
            /// </summary>
            public byte[] ReadEntry(string path, long? expected, int limit, string? what = null)
            {
                string label = what ?? path.Substring(Root?.Length ?? 0);
                ZipArchiveEntry entry = CheckEntry(path, expected, limit, label);
                long length = entry.Length, stored = entry.CompressedLength;
                if (Inflates(entry))
                {
                    CheckInflation(length, label);
                    _inflated += length;
                }
                var bytes = new byte[length];
                try
                {
                    using Stream data = entry.Open();
                    data.ReadExactly(bytes);
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
        }
    }
}
