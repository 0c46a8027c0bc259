using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using EffNet.Memory;
using EffNet.Model;

namespace EffNet
{
    /// <summary>
    /// The weights of one model read from a v1 or v2 blob into 64-byte aligned native memory, after checking the magic, version,
    /// fingerprint, every tensor's name, shape and offset, and the checksum.
    /// </summary>
    public sealed class WeightBlob : IDisposable
    {
        readonly AlignedBuffer _weights;

        WeightBlob(AlignedBuffer weights, WeightBlobInfo info)
        {
            _weights = weights;
            Info = info;
        }

        public WeightBlobInfo Info { get; }

        /// <summary>All packed weights, laid out as the model's <see cref="NetworkLayout"/> says.</summary>
        public ReadOnlySpan<float> Weights => _weights.Span;

        public bool IsDisposed => _weights.IsDisposed;

        public void Dispose() => _weights.Dispose();

        /// <summary>
        /// Reorders the weights of every layer that runs on the 1x1 conv's GEMM (the 1x1 convs, [in, out], and the stem,
        /// [taps, out]) into the panel order <see cref="Kernels.PointwiseConvolution.PackPanels"/> describes. Done once by the
        /// session that runs the weights; <see cref="Weights"/> shows the result.
        /// </summary>
        internal void PackForKernels(NetworkLayout layout)
        {
            Span<float> all = _weights.Span;
            static bool OnGemm(ConvLayer l) => l.Kind is LayerKind.Pointwise or LayerKind.Convolution;
            var staging = new float[layout.Layers.Where(OnGemm).Select(l => l.WeightLength).DefaultIfEmpty(0).Max()];
            foreach (ConvLayer layer in layout.Layers)
            {
                if (layer.Precision == EfficientNetPrecision.Int8)
                {
                    PackInt8(all, layer);
                    continue;
                }
                if (!OnGemm(layer)) continue;
                Span<float> weights = all.Slice((int)layer.WeightOffset, (int)layer.WeightLength);
                weights.CopyTo(staging);
                int rows = layer.Kernel * layer.Kernel * layer.InChannels; // 1 x 1 x in for a 1x1 conv
                Kernels.PointwiseConvolution.PackPanels(staging.AsSpan(0, weights.Length), weights, rows, layer.OutChannels);
            }
        }

        // An int8 layer's [in, out] levels into the int8 GEMM's order, and the input zero point's share out of its bias.
        static void PackInt8(Span<float> all, ConvLayer layer)
        {
            Span<sbyte> levels = Kernels.PointwiseConvolutionInt8.StoredLevels(all.Slice((int)layer.WeightOffset, (int)layer.WeightFloats), layer.WeightLength);
            sbyte[] staging = levels.ToArray();
            int rows = layer.Kernel * layer.Kernel * layer.InChannels; // in for a 1x1 conv; the window's taps for a k x k one
            Kernels.PointwiseConvolutionInt8.PackWeights(staging, rows, layer.OutChannels, levels);
            Span<float> quantization = all.Slice((int)layer.InputQuantizationOffset, 2);
            if (!(quantization[0] > 0 && float.IsFinite(quantization[0])) || !(quantization[1] >= 0 && quantization[1] <= 255 && quantization[1] == MathF.Round(quantization[1])))
                throw new WeightFormatException(null, $"'{layer.InputQuantizationName}' is [{quantization[0]}, {quantization[1]}]: an input scale must be a positive number and " +
                                                      "a zero point a whole number in 0..255. The blob is damaged; quantise the float32 blob again.");
            Kernels.PointwiseConvolutionInt8.FoldInputZeroPoint(levels, rows, layer.OutChannels, quantization[0], (byte)quantization[1],
                all.Slice((int)layer.WeightScaleOffset, layer.OutChannels), all.Slice((int)layer.BiasOffset, layer.OutChannels));
        }

        /// <summary>Reads <paramref name="path"/>, which must have been made for <paramref name="expected"/>.</summary>
        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="WeightFormatException">The file is not a valid blob for this model.</exception>
        public static WeightBlob Read(string path, NetworkLayout expected)
        {
            using FileStream file = OpenFile(path);
            return Read(file, expected, path);
        }

        /// <summary>
        /// Opens <paramref name="path"/> for reading a blob once, as a stream: a pipe or FIFO works too (it is read to its end, never seeked).
        /// </summary>
        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        internal static FileStream OpenFile(string path)
        {
            ArgumentNullException.ThrowIfNull(path);
            if (Directory.Exists(path))
                throw new WeightFormatException(path, "this is a directory, not a weight file; give the path of a blob written by `effnet import`.");
            if (!File.Exists(path))
                throw new FileNotFoundException($"Weight file '{path}' does not exist. Make one with `effnet import`, or check the path.", path);
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }

        /// <summary>
        /// Reads a blob from <paramref name="stream"/>, from its current position to its end; <paramref name="name"/> labels
        /// errors (a file name, or null). The stream need not be seekable.
        /// </summary>
        public static WeightBlob Read(Stream stream, NetworkLayout expected, string? name = null)
        {
            ArgumentNullException.ThrowIfNull(stream);
            ArgumentNullException.ThrowIfNull(expected);
            var reader = new BlobReader(stream, name);
            WeightBlobInfo info = reader.ReadHeaderAndDirectory();

            if (info.Fingerprint != expected.Fingerprint && info.Config.Precision != expected.Config.Precision)
                throw reader.Fail(info.Config.Precision == EfficientNetPrecision.Int8
                    ? $"the weights are the int8 quantisation of {info.ModelDescription}, but this model is the float32 {expected.Config.DisplayName}. " +
                      "Load them into a class with Precision = EfficientNetPrecision.Int8 (or with EfficientNetModel.Load), or give the float32 blob."
                    : $"the weights are float32 ({info.ModelDescription}), but this model is {expected.Config.DisplayName}: make its blob with " +
                      "`effnet quantize --weights <this file> --calibration <images> -o <int8 file>`.");
            if (info.Fingerprint != expected.Fingerprint && expected.Config.Precision == EfficientNetPrecision.Int8 && OtherQuantizationRule(info) is string other)
                throw reader.Fail(other);
            if (info.Fingerprint != expected.Fingerprint)
                throw reader.Fail(
                    $"the weights were made for {info.ModelDescription} (fingerprint 0x{info.Fingerprint:x16} at offset 16), " +
                    $"but this model is {expected.Config.DisplayName} (fingerprint 0x{expected.Fingerprint:x16}). " +
                    "Import the checkpoint again for this model, or change the [EfficientNet] attribute to match the weights.");
            CheckDirectory(reader, info, expected);

            var weights = new AlignedBuffer(expected.WeightFloats);
            try
            {
                if (!expected.WidensAtLoad)
                    reader.ReadDataAndVerify(info, MemoryMarshal.AsBytes(weights.Span)); // the data section is the memory image
                else
                {
                    var stored = new float[expected.StoredFloats];
                    reader.ReadDataAndVerify(info, MemoryMarshal.AsBytes(stored.AsSpan()));
                    Widen(expected, stored, weights.Span);
                }
                return new WeightBlob(weights, info);
            }
            catch
            {
                weights.Dispose();
                throw;
            }
        }

        /// <summary>Reads only the header and tensor directory (for inspecting a file without knowing its model).</summary>
        public static WeightBlobInfo ReadInfo(string path)
        {
            using FileStream file = OpenFile(path);
            return ReadInfo(file, path);
        }

        /// <summary>
        /// Reads only the header and tensor directory of the blob starting at <paramref name="stream"/>'s current position,
        /// leaving the stream just past the directory; <paramref name="name"/> labels errors.
        /// </summary>
        public static WeightBlobInfo ReadInfo(Stream stream, string? name = null)
        {
            ArgumentNullException.ThrowIfNull(stream);
            return new BlobReader(stream, name).ReadHeaderAndDirectory();
        }

        /// <summary>
        /// Why an int8 blob quantised under another rule than <see cref="QuantizationPolicy.Version"/> cannot be read, and
        /// what to do; null when its architecture text names this rule or none.
        /// </summary>
        internal static string? OtherQuantizationRule(WeightBlobInfo info)
            => QuantizationRule(info.Architecture) is int rule && rule != QuantizationPolicy.Version
                ? $"the weights are an int8 quantisation made under quantisation rule {rule} (architecture text 'precision=int8/{rule}'), " +
                  $"but this EffNet reads rule {QuantizationPolicy.Version}, which stores and runs other layers in int8. Quantise the float32 blob again: " +
                  "`effnet quantize --weights <float32 file> --calibration <images> -o <int8 file>`."
                : null;

        // The quantisation rule an int8 network's architecture text names (" precision=int8/N"), or null for float32.
        static int? QuantizationRule(string architecture)
        {
            const string Tag = " precision=int8/";
            int at = architecture.IndexOf(Tag, StringComparison.Ordinal);
            if (at < 0) return null;
            int start = at + Tag.Length, end = start;
            while (end < architecture.Length && char.IsAsciiDigit(architecture[end])) end++;
            return int.TryParse(architecture.AsSpan(start, end - start), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int rule) ? rule : null;
        }

        /// <summary>
        /// The weights as an int8 blob stores them (<see cref="NetworkLayout.StoredFloats"/>) into memory's layout: the
        /// levels of the layers stored as levels widened to floats, every other tensor copied.
        /// </summary>
        static void Widen(NetworkLayout layout, float[] stored, Span<float> memory)
        {
            foreach (ConvLayer layer in layout.Layers)
            {
                Span<float> weights = stored.AsSpan((int)layer.StoredWeightOffset, (int)layer.StoredWeightFloats);
                if (layer.StoredAsLevels)
                    WeightLevels.Widen(weights, stored.AsSpan((int)layer.StoredWeightScaleOffset, layer.OutChannels), layer,
                                       memory.Slice((int)layer.WeightOffset, (int)layer.WeightLength));
                else
                    weights.CopyTo(memory.Slice((int)layer.WeightOffset));
                stored.AsSpan((int)layer.StoredBiasOffset, (int)layer.BiasLength).CopyTo(memory.Slice((int)layer.BiasOffset));
                if (layer.Precision != EfficientNetPrecision.Int8) continue;
                stored.AsSpan((int)layer.StoredWeightScaleOffset, layer.OutChannels).CopyTo(memory.Slice((int)layer.WeightScaleOffset));
                stored.AsSpan((int)layer.StoredInputQuantizationOffset, 2).CopyTo(memory.Slice((int)layer.InputQuantizationOffset));
            }
        }

        static void CheckDirectory(BlobReader reader, WeightBlobInfo info, NetworkLayout expected)
        {
            if (info.DataBytes != expected.StoredFloats * sizeof(float))
                throw reader.Fail($"the data length at offset 48 is {info.DataBytes} bytes, but {expected.Config.DisplayName} needs {expected.StoredFloats * sizeof(float)}.");
            LayoutTensor[] tensors = expected.BlobTensors().ToArray();
            if (info.Tensors.Length != tensors.Length)
                throw reader.Fail($"the tensor count at offset {reader.TensorCountOffset} is {info.Tensors.Length}, but {expected.Config.DisplayName} has {tensors.Length} tensors.");
            for (int t = 0; t < tensors.Length; t++)
                Expect(reader, t, info.Tensors[t], tensors[t]);
        }

        static void Expect(BlobReader reader, int index, WeightBlobTensor actual, LayoutTensor expected)
        {
            if (actual.Name != expected.Name || !actual.Shape.SequenceEqual(expected.Shape) || actual.Type != expected.Type ||
                actual.OffsetBytes != expected.OffsetFloats * sizeof(float) || actual.LengthBytes != expected.Bytes)
                throw reader.Fail(
                    $"tensor {index} (directory entry at offset {reader.TensorEntryOffsets[index]}), '{actual.Name}' {actual.Type} {SourceTensor.FormatShape(actual.Shape)} at data offset {actual.OffsetBytes} ({actual.LengthBytes} bytes), " +
                    $"is not the expected '{expected.Name}' {expected.Type} {SourceTensor.FormatShape(expected.Shape)} at {expected.OffsetFloats * sizeof(float)} ({expected.Bytes} bytes).");
        }

        /// <summary>Bounds-checked sequential reading of a blob; every failure names the source and the offset.</summary>
        sealed class BlobReader
        {
            readonly Stream _stream;
            readonly string? _name;
            readonly XxHash3 _hash = new XxHash3();
            readonly long _length; // from the blob's first byte to the stream's end, when the stream can tell
            long _position;

            public BlobReader(Stream stream, string? name)
            {
                _stream = stream;
                _name = name;
                _length = stream.CanSeek ? stream.Length - stream.Position : -1;
            }

            public WeightFormatException Fail(string message) => new WeightFormatException(_name, message);

            /// <summary>File offset of the directory's tensor count, for messages.</summary>
            public long TensorCountOffset { get; private set; }

            /// <summary>File offset of each tensor's directory entry, for messages.</summary>
            public long[] TensorEntryOffsets { get; private set; } = Array.Empty<long>();

            public WeightBlobInfo ReadHeaderAndDirectory()
            {
                var header = new byte[WeightBlobFormat.HeaderBytes];
                ReadExactly(header, "the header");
                if (!header.AsSpan(0, 8).SequenceEqual(WeightBlobFormat.Magic))
                    throw Fail("this is not an EffNet weight blob (the first 8 bytes, at offset 0, are not \"EFFNETWB\"). Convert checkpoints with `effnet import`.");
                uint version = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
                if (version != WeightBlobFormat.Version && version != WeightBlobFormat.Version1)
                    throw Fail($"weight blob format version {version} (at offset 8) is not supported; this runtime reads versions {WeightBlobFormat.Version1} and {WeightBlobFormat.Version}. " +
                               (version > WeightBlobFormat.Version ? "Update EffNet to read it, or re-import the checkpoint with this version." : "Re-import the checkpoint with this version of EffNet."));
                uint headerBytes = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
                ulong fingerprint = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(16));
                long directoryOffset = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(24));
                long directoryBytes = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(32));
                long dataOffset = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(40));
                long dataBytes = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(48));
                ulong flags = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(WeightBlobFormat.FlagsOffset));
                if (headerBytes != WeightBlobFormat.HeaderBytes)
                    throw Fail($"the header size at offset 12 is {headerBytes}; it must be {WeightBlobFormat.HeaderBytes}.");
                if (directoryOffset != WeightBlobFormat.HeaderBytes)
                    throw Fail($"the directory offset at offset 24 is {directoryOffset}; it must be {WeightBlobFormat.HeaderBytes}.");
                if (directoryBytes < 16 || directoryBytes > WeightBlobFormat.MaxDirectoryBytes)
                    throw Fail($"directory length {directoryBytes} at offset 32 is outside 16..{WeightBlobFormat.MaxDirectoryBytes} bytes.");
                if (dataOffset != AlignUp(directoryOffset + directoryBytes))
                    throw Fail($"the data offset at offset 40 is {dataOffset}; it must be {AlignUp(directoryOffset + directoryBytes)}, the directory's end rounded up to {WeightBlobFormat.DataAlignment} bytes.");
                if (dataBytes < 0 || dataBytes % sizeof(float) != 0)
                    throw Fail($"the data length at offset 48 is {dataBytes}; it must be a non-negative multiple of {sizeof(float)} bytes.");
                if ((flags & ~WeightBlobFormat.KnownFlags) != 0)
                    throw Fail($"the flags at offset {WeightBlobFormat.FlagsOffset} are 0x{flags:x16}; this runtime knows only 0x{WeightBlobFormat.KnownFlags:x16}. The blob comes from a newer EffNet or is damaged.");
                if (_length >= 0 && (dataBytes > _length || dataOffset + dataBytes + WeightBlobFormat.TrailerBytes != _length))
                    throw Fail($"the file is {_length} bytes but its header (data offset and length at offsets 40 and 48) describes " +
                               $"{(dataBytes > _length ? "more" : (dataOffset + dataBytes + WeightBlobFormat.TrailerBytes).ToString(System.Globalization.CultureInfo.InvariantCulture))}: it is truncated or has trailing bytes.");

                var directory = new byte[directoryBytes];
                ReadExactly(directory, "the tensor directory");
                var cursor = new DirectoryCursor(directory, directoryOffset, this);
                string model = cursor.Text("model description");
                string architecture = cursor.Text("architecture");
                string source = cursor.Text("source description");
                var config = new ModelConfig(cursor.Double("width"), cursor.Double("depth"), (int)Math.Min(cursor.UInt32("resolution"), int.MaxValue),
                    (int)Math.Min(cursor.UInt32("classes"), int.MaxValue), (EfficientNetPadding)cursor.Byte("padding"));
                TensorCountOffset = cursor.Position;
                uint count = cursor.UInt32("tensor count");
                if (count > directoryBytes / 20)
                    throw Fail($"the tensor count at offset {TensorCountOffset} is {count}, more than the directory's {directoryBytes} bytes can describe.");
                var tensors = new WeightBlobTensor[count];
                TensorEntryOffsets = new long[count];
                var names = new HashSet<string>(StringComparer.Ordinal);
                for (int i = 0; i < count; i++)
                {
                    TensorEntryOffsets[i] = cursor.Position;
                    tensors[i] = cursor.Tensor(dataBytes);
                    if (!names.Add(tensors[i].Name))
                        throw Fail($"tensor '{tensors[i].Name}' (directory entry at offset {TensorEntryOffsets[i]}) is listed twice.");
                }
                // v1 has no metadata: no labels, and the preprocessing its model's weights were published with, if any.
                ModelFamily family = ModelFamily.EfficientNet;
                EfficientNetPrecision precision = EfficientNetPrecision.Float32;
                WeightBlobMetadata metadata = version == WeightBlobFormat.Version1
                    ? WeightBlobMetadata.None with { Preprocessing = PreprocessingInfo.PublishedFor(config) }
                    : cursor.Metadata(config, out family, out precision);
                config = config with { Family = family, Precision = precision };
                cursor.ExpectEnd();
                CheckNoOverlap(tensors);

                ReadExactly(new byte[dataOffset - directoryOffset - directoryBytes], "the directory padding");
                return new WeightBlobInfo(version, fingerprint, model, architecture, source, config, tensors, dataOffset, dataBytes,
                                          (flags & WeightBlobFormat.FlagNonFiniteAllowed) != 0) { Metadata = metadata };
            }

            void CheckNoOverlap(WeightBlobTensor[] tensors)
            {
                int[] order = Enumerable.Range(0, tensors.Length).OrderBy(i => tensors[i].OffsetBytes).ToArray();
                for (int k = 1; k < order.Length; k++)
                {
                    WeightBlobTensor before = tensors[order[k - 1]], after = tensors[order[k]];
                    if (before.OffsetBytes + before.LengthBytes > after.OffsetBytes)
                        throw Fail($"tensor '{after.Name}' (directory entry at offset {TensorEntryOffsets[order[k]]}) starts at data offset {after.OffsetBytes}, " +
                                   $"inside '{before.Name}' ({before.LengthBytes} bytes from data offset {before.OffsetBytes}): tensors must not overlap.");
                }
            }

            public void ReadDataAndVerify(WeightBlobInfo info, Span<byte> destination)
            {
                ReadExactly(destination, "the tensor data");
                ulong computed = _hash.GetCurrentHashAsUInt64();
                var trailer = new byte[WeightBlobFormat.TrailerBytes];
                _hash.Reset(); // the trailer is not part of the checksum
                ReadExactly(trailer, "the checksum trailer");
                if (!trailer.AsSpan(8).SequenceEqual(WeightBlobFormat.TrailerMagic))
                    throw Fail($"the trailer at offset {_position - 8} is not \"EFFNETWE\": the file is truncated or damaged.");
                ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(trailer);
                if (stored != computed)
                    throw Fail($"checksum mismatch: stored 0x{stored:x16} at offset {_position - WeightBlobFormat.TrailerBytes}, computed 0x{computed:x16}. The file is corrupted; copy or import it again.");
                if (_stream.ReadByte() != -1)
                    throw Fail($"unexpected bytes after the trailer at offset {_position}.");
                if (!info.NonFiniteAllowed)
                    CheckFinite(info, MemoryMarshal.Cast<byte, float>(destination));
            }

            /// <summary>
            /// A blob not written with allowNonFinite holds only finite weights (a vectorised scan: about 15 ms for B7's 66M
            /// floats). The int8 tensors of a quantised blob are levels, not floats, so there only the float tensors are scanned.
            /// </summary>
            void CheckFinite(WeightBlobInfo info, ReadOnlySpan<float> weights)
            {
                int index = -1;
                if (info.Tensors.All(t => t.Type == TensorElementType.Float32))
                    index = NonFiniteValues.IndexOf(weights);
                else
                    foreach (WeightBlobTensor t in info.Tensors)
                    {
                        if (t.Type != TensorElementType.Float32) continue;
                        int at = NonFiniteValues.IndexOf(weights.Slice((int)(t.OffsetBytes / sizeof(float)), (int)(t.LengthBytes / sizeof(float))));
                        if (at >= 0) { index = (int)(t.OffsetBytes / sizeof(float)) + at; break; }
                    }
                if (index < 0)
                    return;
                long bytes = (long)index * sizeof(float);
                WeightBlobTensor? tensor = info.Tensors.FirstOrDefault(t => bytes >= t.OffsetBytes && bytes < t.OffsetBytes + t.LengthBytes);
                string where = tensor is null
                    ? $"data offset {bytes}"
                    : $"tensor '{tensor.Name}' {NonFiniteValues.Position((int)((bytes - tensor.OffsetBytes) / sizeof(float)), tensor.Shape)}";
                throw Fail($"{where} (file offset {info.DataOffset + bytes}) holds {NonFiniteValues.Name(weights[index])}, but the blob was not written " +
                           $"to allow non-finite values (flags at offset {WeightBlobFormat.FlagsOffset}). {NonFiniteValues.Advice}");
            }

            void ReadExactly(Span<byte> buffer, string what)
            {
                int done = 0;
                while (done < buffer.Length)
                {
                    int n = _stream.Read(buffer.Slice(done));
                    if (n == 0)
                        throw Fail($"the file ends at offset {_position + done} inside {what} ({buffer.Length} bytes from offset {_position}): it is truncated.");
                    done += n;
                }
                _hash.Append(buffer);
                _position += buffer.Length;
            }

            static long AlignUp(long value) => (value + WeightBlobFormat.DataAlignment - 1) / WeightBlobFormat.DataAlignment * WeightBlobFormat.DataAlignment;
        }

        /// <summary>Reads fields of the directory, failing with the absolute file offset of the field.</summary>
        sealed class DirectoryCursor
        {
            readonly byte[] _bytes;
            readonly long _base;
            readonly BlobReader _reader;
            int _at;

            public DirectoryCursor(byte[] bytes, long fileOffset, BlobReader reader)
            {
                _bytes = bytes; _base = fileOffset; _reader = reader;
            }

            public long Position => _base + _at;

            ReadOnlySpan<byte> Take(int count, string what)
            {
                if (count < 0 || count > _bytes.Length - _at)
                    throw _reader.Fail($"{what} at offset {_base + _at} needs {count} bytes but the directory ends at offset {_base + _bytes.Length}.");
                ReadOnlySpan<byte> span = _bytes.AsSpan(_at, count);
                _at += count;
                return span;
            }

            public uint UInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
            ushort UInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
            long Int64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));
            public double Double(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));
            public byte Byte(string what) => Take(1, what)[0];

            public string Text(string what)
            {
                long at = _base + _at;
                uint length = UInt32(what + " length");
                if (length > WeightBlobFormat.MaxTextBytes)
                    throw _reader.Fail($"{what} at offset {at} claims {length} bytes; at most {WeightBlobFormat.MaxTextBytes} are allowed.");
                return Utf8(Take((int)length, what), what, at);
            }

            string Utf8(ReadOnlySpan<byte> bytes, string what, long at)
            {
                try { return new UTF8Encoding(false, true).GetString(bytes); }
                catch (DecoderFallbackException) { throw _reader.Fail($"{what} at offset {at} is not valid UTF-8."); }
            }

            /// <summary>u16 byte length + UTF-8, of 1..<paramref name="maxBytes"/> bytes.</summary>
            string ShortText(string what, int maxBytes)
            {
                long at = _base + _at;
                int length = UInt16(what + " length");
                if (length == 0 || length > maxBytes)
                    throw _reader.Fail($"{what} length {length} at offset {at} is outside 1..{maxBytes}.");
                return Utf8(Take(length, what), what, at + 2);
            }

            /// <summary>
            /// The v2 metadata fields, in ascending tag order, each at most once; unknown tags are skipped unless their
            /// must-understand bit is set. Each known field must be consumed exactly and fit <paramref name="config"/>.
            /// </summary>
            public WeightBlobMetadata Metadata(ModelConfig config, out ModelFamily family, out EfficientNetPrecision precision)
            {
                family = ModelFamily.EfficientNet;
                precision = EfficientNetPrecision.Float32;
                long countAt = Position;
                uint count = UInt32("metadata field count");
                if (count > (_bytes.Length - _at) / 6)
                    throw _reader.Fail($"the metadata field count at offset {countAt} is {count}, more than the directory's remaining {_bytes.Length - _at} bytes can hold.");
                WeightBlobMetadata metadata = WeightBlobMetadata.None;
                int previousTag = 0;
                for (uint i = 0; i < count; i++)
                {
                    long at = Position;
                    ushort tag = UInt16("metadata field tag");
                    uint length = UInt32("metadata field length");
                    if (tag <= previousTag)
                        throw _reader.Fail($"metadata field tag {tag} at offset {at} does not follow tag {previousTag}: fields are in ascending tag order, each at most once.");
                    previousTag = tag;
                    if (length > _bytes.Length - _at)
                        throw _reader.Fail($"metadata field {tag} at offset {at} claims {length} bytes but the directory ends at offset {_base + _bytes.Length}.");
                    int end = _at + (int)length;
                    switch (tag)
                    {
                        case WeightBlobFormat.TagLabels:
                            metadata = metadata with { Labels = Labels(config, at) };
                            break;
                        case WeightBlobFormat.TagPreprocessing:
                            metadata = metadata with { Preprocessing = Preprocessing(config, at, (int)length) };
                            break;
                        case WeightBlobFormat.TagProvenance:
                            metadata = metadata with { Provenance = Provenance(at) };
                            break;
                        case WeightBlobFormat.TagFamily:
                            byte value = Byte("model family");
                            family = (ModelFamily)value;
                            if (length != 1 || !FamilySpec.IsKnown(family))
                                throw _reader.Fail($"the model family field at offset {at} is {value} ({length} bytes); this runtime knows 0..4 (EfficientNet, EfficientNet-Lite, EfficientNetV2-S/M/L). The blob comes from a newer EffNet or is damaged.");
                            break;
                        case WeightBlobFormat.TagPrecision:
                            byte code = Byte("precision");
                            precision = (EfficientNetPrecision)code;
                            if (length != 1 || precision != EfficientNetPrecision.Int8)
                                throw _reader.Fail($"the precision field at offset {at} is {code} ({length} bytes); this runtime knows 1 (int8), and a float32 blob has no such field. The blob comes from a newer EffNet or is damaged.");
                            break;
                        default:
                            if ((tag & WeightBlobFormat.TagMustUnderstand) != 0)
                                throw _reader.Fail($"metadata field {tag} at offset {at} is one this runtime does not know and must understand to use the weights: the blob comes from a newer EffNet. Update EffNet.");
                            _at = end; // a newer writer's optional field
                            break;
                    }
                    if (_at != end)
                        throw _reader.Fail($"metadata field {tag} at offset {at} claims {length} bytes but its contents take {_at - (end - (int)length)}.");
                }
                return metadata;
            }

            string[] Labels(ModelConfig config, long fieldAt)
            {
                long at = Position;
                uint count = UInt32("label count");
                if (count != config.NumClasses)
                    throw _reader.Fail($"the label count at offset {at} is {count}, but the blob's model has {config.NumClasses} classes (labels field at offset {fieldAt}).");
                if (count > (_bytes.Length - _at) / 3)
                    throw _reader.Fail($"the label count at offset {at} is {count}, more than the directory's remaining {_bytes.Length - _at} bytes can hold.");
                var labels = new string[count];
                for (int i = 0; i < labels.Length; i++)
                {
                    long labelAt = Position;
                    labels[i] = ShortText("label " + i, WeightBlobMetadata.MaxLabelBytes);
                    if (WeightBlobMetadata.LabelProblem(labels[i]) is string problem)
                        throw _reader.Fail($"label {i} at offset {labelAt}, {WeightBlobMetadata.Quote(labels[i])}, cannot be used: {problem}.");
                }
                return labels;
            }

            PreprocessingInfo Preprocessing(ModelConfig config, long fieldAt, int length)
            {
                if (length != WeightBlobFormat.PreprocessingBytes)
                    throw _reader.Fail($"the preprocessing field at offset {fieldAt} is {length} bytes; it must be {WeightBlobFormat.PreprocessingBytes}.");
                long at = Position;
                uint resize = UInt32("resize size"), crop = UInt32("crop size");
                byte interpolation = Byte("interpolation");
                var v = new float[6]; // mean R, G, B, std R, G, B
                for (int i = 0; i < v.Length; i++)
                    v[i] = BinaryPrimitives.ReadSingleLittleEndian(Take(4, "mean and std"));
                PreprocessingInfo preprocessing;
                try
                {
                    preprocessing = new PreprocessingInfo((int)Math.Min(resize, int.MaxValue), (int)Math.Min(crop, int.MaxValue), (PreprocessingInterpolation)interpolation,
                                                          (v[0], v[1], v[2]), (v[3], v[4], v[5]));
                }
                catch (ArgumentException e)
                {
                    throw _reader.Fail($"the preprocessing field at offset {fieldAt} is invalid: {e.Message}");
                }
                if (preprocessing.CropSize != config.Resolution)
                    throw _reader.Fail($"the preprocessing crop size at offset {at + 4} is {crop}, but the blob's model takes {config.Resolution} pixels.");
                return preprocessing;
            }

            WeightProvenance Provenance(long fieldAt)
            {
                string file = ShortText("source file name", WeightProvenance.MaxTextBytes);
                string sha = Convert.ToHexStringLower(Take(WeightBlobFormat.Sha256Bytes, "source SHA-256"));
                string tool = ShortText("tool version", WeightProvenance.MaxTextBytes);
                long timeAt = Position;
                string time = ShortText("creation time", WeightProvenance.MaxTextBytes);
                if (!DateTimeOffset.TryParseExact(time, WeightProvenance.TimeFormat, System.Globalization.CultureInfo.InvariantCulture,
                        System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out DateTimeOffset created))
                    throw _reader.Fail($"the creation time at offset {timeAt} is not ISO 8601 UTC ({WeightProvenance.TimeFormat}).");
                var provenance = new WeightProvenance(file, sha, tool, created);
                string[] problems = provenance.Problems();
                if (problems.Length > 0)
                    throw _reader.Fail($"the provenance field at offset {fieldAt} is invalid: {string.Join(" ", problems)}");
                return provenance;
            }

            public WeightBlobTensor Tensor(long dataBytes)
            {
                long at = _base + _at;
                string name = ShortText("tensor name", WeightBlobFormat.MaxNameBytes);
                byte dtype = Byte("dtype");
                if (dtype != WeightBlobFormat.DTypeFloat32 && dtype != WeightBlobFormat.DTypeInt8 && dtype != WeightBlobFormat.DTypeInt16)
                    throw _reader.Fail($"tensor '{name}' (directory entry at offset {at}) has dtype code {dtype}; only {WeightBlobFormat.DTypeFloat32} (float32), " +
                                       $"{WeightBlobFormat.DTypeInt8} (int8) and {WeightBlobFormat.DTypeInt16} (int16) are defined.");
                int elementBytes = LayoutTensor.ElementBytes((TensorElementType)dtype);
                int rank = Byte("rank");
                if (rank > WeightBlobFormat.MaxRank)
                    throw _reader.Fail($"tensor '{name}' (directory entry at offset {at}) has rank {rank}; at most {WeightBlobFormat.MaxRank} is allowed.");
                var shape = new int[rank];
                long elements = 1;
                for (int d = 0; d < rank; d++)
                {
                    uint dim = UInt32("dimension");
                    if (dim == 0 || dim > int.MaxValue)
                        throw _reader.Fail($"tensor '{name}' (directory entry at offset {at}) has dimension {d} = {dim}; sizes are 1..{int.MaxValue}.");
                    if (elements > dataBytes / dim)
                        throw _reader.Fail($"tensor '{name}' (directory entry at offset {at}) has more elements than the {dataBytes}-byte data section holds.");
                    shape[d] = (int)dim;
                    elements *= dim;
                }
                long offset = Int64("tensor offset");
                long length = Int64("tensor length");
                if (offset < 0 || offset % WeightBlobFormat.DataAlignment != 0 || length != elements * elementBytes || offset > dataBytes - length)
                    throw _reader.Fail($"tensor '{name}' {SourceTensor.FormatShape(shape)} (directory entry at offset {at}) claims {length} bytes at data offset {offset}; " +
                                       $"expected {elements * elementBytes} bytes at a {WeightBlobFormat.DataAlignment}-byte aligned offset inside the {dataBytes}-byte data section.");
                return new WeightBlobTensor(name, shape, offset, length) { Type = (TensorElementType)dtype };
            }

            public void ExpectEnd()
            {
                if (_at != _bytes.Length)
                    throw _reader.Fail($"{_bytes.Length - _at} unexplained bytes at the end of the directory (offset {_base + _at}).");
            }
        }
    }

    /// <summary>
    /// What a blob says about itself: header fields, model description, the configuration it was made for (as written;
    /// check it with <see cref="ModelConfig.Validate"/> before building a layout from it) and the tensor directory.
    /// </summary>
    /// <param name="NonFiniteAllowed">The blob was written with allowNonFinite, so it may hold NaN and infinite weights; otherwise reading refuses them.</param>
    public sealed record WeightBlobInfo(uint Version, ulong Fingerprint, string ModelDescription, string Architecture,
                                        string SourceDescription, ModelConfig Config, WeightBlobTensor[] Tensors, long DataOffset, long DataBytes,
                                        bool NonFiniteAllowed = false)
    {
        /// <summary>
        /// Labels, preprocessing and provenance (v2). A v1 blob has no labels and no provenance; its preprocessing is
        /// <see cref="PreprocessingInfo.PublishedFor"/> its configuration.
        /// </summary>
        public WeightBlobMetadata Metadata { get; init; } = WeightBlobMetadata.None;
    }

    /// <summary>One entry of a blob's tensor directory; offsets are bytes from the start of the data section.</summary>
    public sealed record WeightBlobTensor(string Name, int[] Shape, long OffsetBytes, long LengthBytes)
    {
        /// <summary>Float32, or Int8 for the weights of an int8 layer.</summary>
        public TensorElementType Type { get; init; } = TensorElementType.Float32;
    }
}
