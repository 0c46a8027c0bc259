using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace EffNet.Import
{
    /// <summary>
    /// The safetensors format: a little-endian u64 header length, a JSON header mapping each tensor name to its
    /// <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> (relative to the end of the header), an optional
    /// <c>__metadata__</c> object of strings, then the tensor bytes, packed without gaps. F32, F16, BF16 and F64 are read
    /// as float32, and so are the integer types I64 and I32 (only <c>num_batches_tracked</c> is an integer in these models).
    /// </summary>
    public static class SafeTensorsFile
    {
        /// <summary>The largest JSON header accepted (the format's own limit).</summary>
        public const int MaxHeaderBytes = 100 << 20;

        const string MetadataKey = "__metadata__";

        static readonly Dictionary<string, ElementType> DTypes = new Dictionary<string, ElementType>(StringComparer.Ordinal)
        {
            ["F32"] = ElementType.Float32,
            ["F16"] = ElementType.Float16,
            ["BF16"] = ElementType.BFloat16,
            ["F64"] = ElementType.Float64,
            ["I64"] = ElementType.Int64,
            ["I32"] = ElementType.Int32,
        };

        /// <summary>Reads every tensor of <paramref name="path"/> under its own name, converted to float32.</summary>
        /// <exception cref="WeightFormatException">The file is not valid safetensors; the message names the file and the tensor or offset.</exception>
        public static Dictionary<string, SourceTensor> Read(string path, IProgress<double>? progress = null)
            => CheckpointReader.WithFile(path, file => Read(file, path, progress));

        /// <summary>Reads a seekable <paramref name="stream"/>; <paramref name="name"/> labels errors.</summary>
        public static Dictionary<string, SourceTensor> Read(Stream stream, string? name = null, IProgress<double>? progress = null)
        {
            using CheckpointFile file = Open(stream, name);
            return file.ReadAll(progress);
        }

        /// <summary>The <c>__metadata__</c> strings of <paramref name="path"/> (empty when there are none), read from the header alone.</summary>
        public static Dictionary<string, string> ReadMetadata(string path)
            => CheckpointReader.WithFile(path, file => ReadHeader(file, path).Metadata);

        /// <summary>Reads and checks the header of the file in <paramref name="stream"/> (left open), reading no tensor yet.</summary>
        internal static CheckpointFile Open(Stream stream, string? name) => new Contents(stream, name, ReadHeader(stream, name));

        /// <summary>The opened file: its header's entries, each tensor read from the stream when asked for.</summary>
        sealed class Contents : CheckpointFile
        {
            readonly Stream _stream;
            readonly string? _name;
            readonly long _dataStart;
            readonly Dictionary<string, Entry> _entries;

            public Contents(Stream stream, string? name, Header header)
                : base(CheckpointFormat.SafeTensors,
                       header.Entries.ToDictionary(entry => entry.Name, entry => entry.Shape, StringComparer.Ordinal),
                       new SortedSet<string>(header.Entries.Select(entry => ElementTypes.Name(entry.Type)), StringComparer.Ordinal),
                       header.Metadata)
            {
                _stream = stream;
                _name = name;
                _dataStart = header.DataStart;
                _entries = header.Entries.ToDictionary(entry => entry.Name, StringComparer.Ordinal);
            }

            protected override Dictionary<string, SourceTensor> Load(IReadOnlyList<string> keys, IProgress<double>? progress)
            {
                var tensors = new Dictionary<string, SourceTensor>(keys.Count, StringComparer.Ordinal);
                foreach (string key in keys)
                {
                    Entry entry = _entries[key];
                    var bytes = new byte[entry.End - entry.Begin];
                    _stream.Position = _dataStart + entry.Begin;
                    try
                    {
                        _stream.ReadExactly(bytes);
                    }
                    catch (EndOfStreamException)
                    {
                        throw new WeightFormatException(_name, $"tensor '{entry.Name}' at data offset {entry.Begin}: the file ends before its {bytes.Length} bytes.");
                    }
                    var data = new float[bytes.Length / ElementTypes.Size(entry.Type)];
                    ElementTypes.Convert(bytes, 0, entry.Type, data);
                    tensors.Add(entry.Name, new SourceTensor(entry.Shape, data));
                    progress?.Report((double)tensors.Count / keys.Count);
                }
                return tensors;
            }
        }

        /// <summary>Writes <paramref name="tensors"/> as F32 safetensors, in their enumeration order, atomically (temporary file, then rename).</summary>
        public static void Write(string path, IReadOnlyDictionary<string, SourceTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        {
            using var output = EffNet.IO.AtomicFile.Create(path);
            Write(output.Stream, tensors, metadata);
            output.Commit();
        }

        /// <summary>Writes <paramref name="tensors"/> as F32 safetensors to <paramref name="destination"/>.</summary>
        public static void Write(Stream destination, IReadOnlyDictionary<string, SourceTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(destination);
            ArgumentNullException.ThrowIfNull(tensors);
            var json = new MemoryStream();
            using (var writer = new Utf8JsonWriter(json))
            {
                writer.WriteStartObject();
                if (metadata is { Count: > 0 })
                {
                    writer.WriteStartObject(MetadataKey);
                    foreach (KeyValuePair<string, string> item in metadata)
                        writer.WriteString(item.Key, item.Value);
                    writer.WriteEndObject();
                }
                long offset = 0;
                foreach (KeyValuePair<string, SourceTensor> tensor in tensors)
                {
                    if (tensor.Key == MetadataKey)
                        throw new ArgumentException($"A tensor cannot be named '{MetadataKey}'.", nameof(tensors));
                    writer.WriteStartObject(tensor.Key);
                    writer.WriteString("dtype", "F32");
                    writer.WriteStartArray("shape");
                    foreach (int d in tensor.Value.Shape) writer.WriteNumberValue(d);
                    writer.WriteEndArray();
                    writer.WriteStartArray("data_offsets");
                    writer.WriteNumberValue(offset);
                    offset += (long)tensor.Value.Data.Length * sizeof(float);
                    writer.WriteNumberValue(offset);
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            // The format pads the header with spaces so the data starts 8-byte aligned.
            while (json.Length % 8 != 0) json.WriteByte((byte)' ');

            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
            destination.Write(length);
            json.Position = 0;
            json.CopyTo(destination);
            foreach (SourceTensor tensor in tensors.Values)
            {
                if (BitConverter.IsLittleEndian)
                    destination.Write(MemoryMarshal.AsBytes(tensor.Data.AsSpan()));
                else
                    foreach (float v in tensor.Data)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(length, v);
                        destination.Write(length.Slice(0, 4));
                    }
            }
            destination.Flush();
        }

        sealed record Entry(string Name, ElementType Type, int[] Shape, long Begin, long End);

        sealed record Header(List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart);

        static Header ReadHeader(Stream stream, string? name)
        {
            CheckpointReader.RequireSeekable(stream);
            WeightFormatException Bad(string message) => new WeightFormatException(name, message);

            long fileLength = stream.Length;
            if (fileLength < 8)
                throw Bad($"the file is {fileLength} bytes, too short for a safetensors header (an 8-byte length at offset 0).");
            Span<byte> prefix = stackalloc byte[8];
            stream.Position = 0;
            stream.ReadExactly(prefix);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(fileLength - 8))
                throw Bad($"the header length {headerLength} at offset 0 does not fit a file of {fileLength} bytes (limit {MaxHeaderBytes}).");
            var json = new byte[headerLength];
            stream.ReadExactly(json);
            if (!System.Text.Unicode.Utf8.IsValid(json))
                throw Bad($"the header (offset 8, {headerLength} bytes) is not valid UTF-8.");
            long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;

            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                using JsonDocument document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    throw Bad("the JSON header (offset 8) is not an object.");
                foreach (JsonProperty property in document.RootElement.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                        throw Bad($"the header names '{property.Name}' twice.");
                    if (property.Name == MetadataKey)
                        ReadMetadataObject(property.Value, metadata, Bad);
                    else
                        entries.Add(ReadEntry(property.Name, property.Value, dataLength, Bad));
                }
            }
            catch (JsonException e)
            {
                throw Bad($"the header (offset 8, {headerLength} bytes) is not valid JSON: {e.Message}");
            }

            // The tensors must tile the data section exactly: no overlaps, no gaps, nothing after the last one.
            long expected = 0;
            foreach (Entry entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
            {
                if (entry.Begin != expected)
                    throw Bad($"tensor '{entry.Name}' starts at data offset {entry.Begin}, but the previous tensor ends at {expected} (tensors must be packed without overlaps or gaps).");
                expected = entry.End;
            }
            if (expected != dataLength)
                throw Bad($"the tensors end at data offset {expected}, but the data section holds {dataLength} bytes: the file is truncated or has trailing bytes.");
            return new Header(entries, metadata, dataStart);
        }

        static void ReadMetadataObject(JsonElement value, Dictionary<string, string> metadata, Func<string, WeightFormatException> bad)
        {
            if (value.ValueKind != JsonValueKind.Object)
                throw bad($"'{MetadataKey}' is not an object of strings.");
            foreach (JsonProperty item in value.EnumerateObject())
            {
                if (item.Value.ValueKind != JsonValueKind.String)
                    throw bad($"'{MetadataKey}' entry '{item.Name}' is not a string.");
                metadata[item.Name] = item.Value.GetString()!;
            }
        }

        static Entry ReadEntry(string name, JsonElement value, long dataLength, Func<string, WeightFormatException> bad)
        {
            if (value.ValueKind != JsonValueKind.Object)
                throw bad($"tensor '{name}' is not described by an object.");
            if (!value.TryGetProperty("dtype", out JsonElement dtype) || dtype.ValueKind != JsonValueKind.String)
                throw bad($"tensor '{name}' has no dtype.");
            string dtypeName = dtype.GetString()!;
            if (!DTypes.TryGetValue(dtypeName, out ElementType type))
                throw bad($"tensor '{name}' has dtype '{dtypeName}'; supported are {string.Join(", ", DTypes.Keys)}.");

            if (!value.TryGetProperty("shape", out JsonElement shapeJson) || shapeJson.ValueKind != JsonValueKind.Array || shapeJson.GetArrayLength() > 8)
                throw bad($"tensor '{name}' has no shape (an array of at most 8 sizes).");
            var shape = new int[shapeJson.GetArrayLength()];
            long elements = 1;
            int axis = 0;
            foreach (JsonElement d in shapeJson.EnumerateArray())
            {
                if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int size) || size < 0)
                    throw bad($"tensor '{name}' has an invalid size in its shape {shapeJson.GetRawText()}.");
                shape[axis++] = size;
                elements = size == 0 ? 0 : Math.Min(elements, long.MaxValue / 8 / size) * size;
            }

            if (!value.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2 ||
                !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end))
                throw bad($"tensor '{name}' has no data_offsets [begin, end].");
            if (begin < 0 || end < begin || end > dataLength)
                throw bad($"tensor '{name}' has data_offsets [{begin}, {end}] outside the data section of {dataLength} bytes.");
            long bytes = elements * ElementTypes.Size(type);
            if (end - begin != bytes)
                throw bad($"tensor '{name}' ({dtypeName} {SourceTensor.FormatShape(shape)}) needs {bytes} bytes, but its data_offsets [{begin}, {end}] span {end - begin}.");
            if (elements > int.MaxValue)
                throw bad($"tensor '{name}' has {elements} elements, more than one tensor can hold.");
            return new Entry(name, type, shape, begin, end);
        }
    }
}
