using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Hashing;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using EffNet.Model;

namespace EffNet
{
    /// <summary>
    /// Folds BatchNorm into a torchvision state dict, packs every weight into the layout the kernels read, and writes
    /// the result as a v2 weight blob (see docs/weight-format.md).
    /// </summary>
    public static class WeightBlobWriter
    {
        /// <summary>
        /// Writes the blob to <paramref name="path"/> atomically: the weights are checked and packed first, then written to
        /// a temporary file that replaces the target only when complete, so a failed write leaves nothing behind.
        /// </summary>
        /// <param name="allowNonFinite">Keep NaN and infinite weights instead of refusing them (see <see cref="Pack"/>).</param>
        /// <param name="metadata">Labels, preprocessing and provenance to record; by default none.</param>
        /// <exception cref="ArgumentException">The metadata does not fit the model (<see cref="WeightBlobMetadata.Problems"/>).</exception>
        public static void Write(string path, NetworkLayout layout, IReadOnlyDictionary<string, SourceTensor> stateDict,
                                 float batchNormEpsilon, string sourceDescription, bool allowNonFinite = false, WeightBlobMetadata? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(path);
            byte[] directory = BuildDirectory(layout, sourceDescription ?? "", metadata ?? WeightBlobMetadata.None);
            float[] packed = Pack(layout, stateDict, batchNormEpsilon, allowNonFinite);
            using var output = EffNet.IO.AtomicFile.Create(path);
            WritePacked(output.Stream, layout, directory, packed, allowNonFinite);
            output.Commit();
        }

        /// <summary>Writes the blob to <paramref name="destination"/>.</summary>
        /// <param name="stateDict">Tensors under torchvision's names and shapes (<see cref="NetworkLayout.ReferenceStateDict"/>).</param>
        /// <param name="batchNormEpsilon">The epsilon the source model's BatchNorms used (<see cref="BatchNormFolding.TorchvisionEpsilon"/>).</param>
        /// <param name="allowNonFinite">Keep NaN and infinite weights instead of refusing them (see <see cref="Pack"/>).</param>
        /// <param name="metadata">Labels, preprocessing and provenance to record; by default none.</param>
        /// <exception cref="ArgumentException">The metadata does not fit the model (<see cref="WeightBlobMetadata.Problems"/>).</exception>
        public static void Write(Stream destination, NetworkLayout layout, IReadOnlyDictionary<string, SourceTensor> stateDict,
                                 float batchNormEpsilon, string sourceDescription, bool allowNonFinite = false, WeightBlobMetadata? metadata = null)
        {
            ArgumentNullException.ThrowIfNull(destination);
            byte[] directory = BuildDirectory(layout, sourceDescription ?? "", metadata ?? WeightBlobMetadata.None);
            float[] packed = Pack(layout, stateDict, batchNormEpsilon, allowNonFinite);
            WritePacked(destination, layout, directory, packed, allowNonFinite);
        }

        /// <summary>
        /// Writes to <paramref name="path"/> (atomically) a blob of weights already laid out as <paramref name="layout"/>'s
        /// blob stores them (<see cref="NetworkLayout.StoredFloats"/>; the quantiser's output: levels and scales where a
        /// layer stores levels, floats everywhere else).
        /// </summary>
        public static void WriteLaidOut(string path, NetworkLayout layout, float[] weights, string sourceDescription, WeightBlobMetadata metadata)
        {
            ArgumentNullException.ThrowIfNull(path);
            ArgumentNullException.ThrowIfNull(layout);
            ArgumentNullException.ThrowIfNull(weights);
            if (weights.LongLength != layout.StoredFloats)
                throw new ArgumentException($"{layout.Config.DisplayName}'s blob holds {layout.StoredFloats:N0} floats of weights; got {weights.LongLength:N0}.", nameof(weights));
            byte[] directory = BuildDirectory(layout, sourceDescription ?? "", metadata ?? WeightBlobMetadata.None);
            using var output = EffNet.IO.AtomicFile.Create(path);
            WritePacked(output.Stream, layout, directory, weights, allowNonFinite: false);
            output.Commit();
        }

        /// <summary>
        /// Writes to <paramref name="path"/> (atomically) the blob of <paramref name="baseBlobPath"/> with a new classifier:
        /// every other weight as the base has it, the class count of <paramref name="classifierBias"/>, and
        /// <paramref name="metadata"/> (labels, preprocessing, provenance) in place of the base's. This is how a head trained
        /// on the base's features becomes a model of its own.
        /// </summary>
        /// <param name="classifierWeights">[classes, features], row-major (torch's <c>classifier.1.weight</c>)</param>
        /// <param name="classifierBias">[classes]</param>
        /// <exception cref="ArgumentException">The shapes do not fit the base, or a value is NaN or infinite.</exception>
        public static void WriteWithClassifier(string path, string baseBlobPath, ReadOnlySpan<float> classifierWeights,
                                               ReadOnlySpan<float> classifierBias, string sourceDescription, WeightBlobMetadata metadata)
        {
            ArgumentNullException.ThrowIfNull(path);
            ArgumentNullException.ThrowIfNull(metadata);
            WeightBlobInfo info = WeightBlob.ReadInfo(baseBlobPath);
            NetworkLayout baseLayout = NetworkLayout.Create(info.Config);
            int classes = classifierBias.Length, features = baseLayout.Classifier.InChannels;
            if (classes < 1 || classifierWeights.Length != (long)classes * features)
                throw new ArgumentException($"The classifier must be [classes, {features}] weights and [classes] biases; got {classifierWeights.Length} weights and {classes} biases.");
            if (NonFiniteValues.IndexOf(classifierWeights) >= 0 || NonFiniteValues.IndexOf(classifierBias) >= 0)
                throw new ArgumentException("The classifier holds NaN or infinity: the training diverged; lower the learning rate.");
            NetworkLayout layout = NetworkLayout.Create(info.Config with { NumClasses = classes });
            // Only the classifier, the last tensor, changes size: everything before it keeps its place.
            if (layout.Classifier.WeightOffset != baseLayout.Classifier.WeightOffset)
                throw new InvalidOperationException("The classifier is expected to be the last layer of the weight layout.");

            byte[] directory = BuildDirectory(layout, sourceDescription ?? "", metadata);
            var packed = new float[layout.WeightFloats];
            using (WeightBlob baseBlob = WeightBlob.Read(baseBlobPath, baseLayout))
                baseBlob.Weights.Slice(0, (int)baseLayout.Classifier.WeightOffset).CopyTo(packed);
            classifierWeights.CopyTo(packed.AsSpan((int)layout.Classifier.WeightOffset, (int)layout.Classifier.WeightLength));
            classifierBias.CopyTo(packed.AsSpan((int)layout.Classifier.BiasOffset, (int)layout.Classifier.BiasLength));
            using var output = EffNet.IO.AtomicFile.Create(path);
            WritePacked(output.Stream, layout, directory, packed, info.NonFiniteAllowed);
            output.Commit();
        }

        /// <summary>
        /// Checks that <paramref name="stateDict"/> is exactly the model's state dict (every problem listed in one
        /// exception), then folds BatchNorm and packs all weights into one buffer laid out as <paramref name="layout"/> says.
        /// </summary>
        /// <param name="allowNonFinite">
        /// False (the default): a NaN or infinity in any tensor, or produced by folding a BatchNorm (a negative running
        /// variance, an overflowing scale), is refused with a <see cref="WeightFormatException"/> naming the tensor and the
        /// first bad index. True: such values are packed as they are, and the blob records that it may hold them.
        /// </param>
        public static float[] Pack(NetworkLayout layout, IReadOnlyDictionary<string, SourceTensor> stateDict, float batchNormEpsilon,
                                   bool allowNonFinite = false)
        {
            ArgumentNullException.ThrowIfNull(layout);
            ArgumentNullException.ThrowIfNull(stateDict);
            if (!(batchNormEpsilon > 0) || float.IsInfinity(batchNormEpsilon))
                throw new ArgumentOutOfRangeException(nameof(batchNormEpsilon), batchNormEpsilon, "BatchNorm epsilon must be a positive number (1e-5 for PyTorch-trained weights, 1e-3 for TensorFlow-trained).");
            if (layout.Config.Precision != EfficientNetPrecision.Float32)
                throw new InvalidOperationException($"{layout.Config.DisplayName} is made by quantising a float32 blob (`effnet quantize`), not from a state dict.");
            Check(layout, stateDict);
            if (!allowNonFinite)
                NonFiniteValues.Check(PackedTensors(layout).Select(entry => new KeyValuePair<string, SourceTensor>(entry.Key, stateDict[entry.Key])), null);

            var packed = new float[layout.WeightFloats];
            foreach (ConvLayer layer in layout.Layers)
            {
                PackLayer(layer, stateDict, batchNormEpsilon, packed);
                if (!allowNonFinite && layer.BatchNorm is not null) // the other layers copy checked values
                    CheckFolded(layer, packed, batchNormEpsilon);
            }
            return packed;
        }

        /// <summary>Finite inputs can still fold into NaN or infinity (running_var + eps &lt;= 0, or a huge gamma / tiny variance).</summary>
        static void CheckFolded(ConvLayer layer, float[] packed, float epsilon)
        {
            foreach ((string name, long offset, long length, int[] shape) in new[]
            {
                (layer.WeightName, layer.WeightOffset, layer.WeightLength, layer.PackedWeightShape),
                (layer.BiasName, layer.BiasOffset, layer.BiasLength, new[] { layer.OutChannels }),
            })
            {
                int index = NonFiniteValues.IndexOf(packed.AsSpan((int)offset, (int)length));
                if (index >= 0)
                    throw new WeightFormatException(null,
                        $"folding BatchNorm '{layer.BatchNorm}' (eps {epsilon.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}) into '{layer.WeightName}' " +
                        $"gives {NonFiniteValues.Name(packed[offset + index])} at {NonFiniteValues.Position(index, shape)} of the packed '{name}': " +
                        $"'{layer.BatchNorm}.running_var' + eps must be positive and gamma / sqrt(running_var + eps) must fit a float. {NonFiniteValues.Advice}");
            }
        }

        /// <summary>
        /// Throws one <see cref="WeightFormatException"/> listing every missing, unexpected and mis-shaped tensor when
        /// <paramref name="stateDict"/> is not exactly the model's state dict (num_batches_tracked is optional).
        /// </summary>
        public static void Check(NetworkLayout layout, IReadOnlyDictionary<string, SourceTensor> stateDict)
        {
            ArgumentNullException.ThrowIfNull(layout);
            ArgumentNullException.ThrowIfNull(stateDict);
            CheckShapes(layout, stateDict.ToDictionary(entry => entry.Key, entry => entry.Value.Shape, StringComparer.Ordinal));
        }

        /// <summary><see cref="Check"/> on the tensors' shapes alone, so a checkpoint is checked before any tensor is read.</summary>
        internal static void CheckShapes(NetworkLayout layout, IReadOnlyDictionary<string, int[]> shapes)
        {
            var missing = new List<string>();
            var misShaped = new List<string>();
            var expected = new HashSet<string>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, int[]> entry in layout.ReferenceStateDict())
            {
                expected.Add(entry.Key);
                if (IsTrainingCounter(entry.Key))
                    continue; // optional and ignored
                if (!shapes.TryGetValue(entry.Key, out int[]? shape))
                    missing.Add(entry.Key);
                else if (!shape.SequenceEqual(entry.Value))
                    misShaped.Add($"{entry.Key} is {SourceTensor.FormatShape(shape)}, expected {SourceTensor.FormatShape(entry.Value)}");
            }
            var unexpected = shapes.Keys.Where(k => !expected.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
            if (missing.Count + misShaped.Count + unexpected.Count == 0)
                return;

            var message = new StringBuilder();
            message.Append("The tensors do not match ").Append(layout.Config.DisplayName).Append('.');
            Describe(message, "missing", missing);
            Describe(message, "with the wrong shape", misShaped);
            Describe(message, "unexpected", unexpected);
            message.Append(" Check that the checkpoint is for this variant, resolution-independent layers aside, and uses torchvision's key names.");
            throw new WeightFormatException(null, message.ToString());
        }

        /// <summary>The state dict entries the packed weights are made of: all but the optional num_batches_tracked counters.</summary>
        internal static IEnumerable<KeyValuePair<string, int[]>> PackedTensors(NetworkLayout layout)
            => layout.ReferenceStateDict().Where(entry => !IsTrainingCounter(entry.Key));

        static bool IsTrainingCounter(string key) => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

        static void Describe(StringBuilder message, string what, List<string> items)
        {
            if (items.Count == 0) return;
            const int shown = 3; // a few names and the count: a checkpoint of another model is described, not listed
            message.Append(' ').Append(items.Count).Append(" tensor(s) ").Append(what).Append(": ")
                   .Append(string.Join("; ", items.Take(shown)));
            if (items.Count > shown) message.Append("; and ").Append(items.Count - shown).Append(" more");
            message.Append('.');
        }

        static void PackLayer(ConvLayer layer, IReadOnlyDictionary<string, SourceTensor> stateDict, float epsilon, float[] packed)
        {
            int outs = layer.OutChannels;
            float[] source = stateDict[layer.WeightName].Data;
            Span<float> bias = packed.AsSpan((int)layer.BiasOffset, outs);
            var scale = new double[outs];
            if (layer.BatchNorm is string bn)
            {
                BatchNormFolding.Fold(stateDict[bn + ".weight"].Data, stateDict[bn + ".bias"].Data,
                    stateDict[bn + ".running_mean"].Data, stateDict[bn + ".running_var"].Data, epsilon, scale, bias);
            }
            else
            {
                Array.Fill(scale, 1.0);
                stateDict[layer.BiasName].Data.AsSpan(0, outs).CopyTo(bias);
            }

            Span<float> weights = packed.AsSpan((int)layer.WeightOffset, (int)layer.WeightLength);
            int ins = layer.InChannels, k = layer.Kernel;
            switch (layer.Kind)
            {
                case LayerKind.Convolution: // [O, I, kh, kw] -> [kh, kw, I, O]
                    for (int o = 0; o < outs; o++)
                        for (int i = 0; i < ins; i++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++)
                                    weights[((ky * k + kx) * ins + i) * outs + o] = (float)(source[((o * ins + i) * k + ky) * k + kx] * scale[o]);
                    break;
                case LayerKind.Pointwise: // [O, I, 1, 1] -> [I, O]
                    for (int o = 0; o < outs; o++)
                        for (int i = 0; i < ins; i++)
                            weights[i * outs + o] = (float)(source[o * ins + i] * scale[o]);
                    break;
                case LayerKind.Depthwise: // [C, 1, kh, kw] -> [kh, kw, C]
                    for (int c = 0; c < outs; c++)
                        for (int t = 0; t < k * k; t++)
                            weights[t * outs + c] = (float)(source[c * k * k + t] * scale[c]);
                    break;
                case LayerKind.SqueezeExpand: // [C, S, 1, 1] -> [S, C]
                    for (int c = 0; c < outs; c++)
                        for (int s = 0; s < ins; s++)
                            weights[s * outs + c] = source[c * ins + s];
                    break;
                default: // SqueezeReduce [S, C, 1, 1] and Classifier [O, I]: already row-major [out, in]
                    source.AsSpan(0, (int)layer.WeightLength).CopyTo(weights);
                    break;
            }
        }

        static void WritePacked(Stream destination, NetworkLayout layout, byte[] directory, float[] packed, bool allowNonFinite)
        {
            long directoryOffset = WeightBlobFormat.HeaderBytes;
            long dataOffset = AlignUp(directoryOffset + directory.Length, WeightBlobFormat.DataAlignment);
            if (packed.LongLength != layout.StoredFloats)
                throw new ArgumentException($"{layout.Config.DisplayName}'s blob holds {layout.StoredFloats:N0} floats of weights; got {packed.LongLength:N0}.", nameof(packed));
            long dataBytes = layout.StoredFloats * sizeof(float);

            var header = new byte[WeightBlobFormat.HeaderBytes];
            WeightBlobFormat.Magic.CopyTo(header, 0);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), WeightBlobFormat.Version);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), WeightBlobFormat.HeaderBytes);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), layout.Fingerprint);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(24), directoryOffset);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(32), directory.Length);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(40), dataOffset);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(48), dataBytes);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(56), allowNonFinite ? WeightBlobFormat.FlagNonFiniteAllowed : 0);

            var hash = new XxHash3();
            void Emit(ReadOnlySpan<byte> bytes)
            {
                hash.Append(bytes);
                destination.Write(bytes);
            }

            Emit(header);
            Emit(directory);
            Emit(new byte[dataOffset - directoryOffset - directory.Length]);
            Emit(MemoryMarshal.AsBytes(packed.AsSpan()));

            var trailer = new byte[WeightBlobFormat.TrailerBytes];
            BinaryPrimitives.WriteUInt64LittleEndian(trailer, hash.GetCurrentHashAsUInt64());
            WeightBlobFormat.TrailerMagic.CopyTo(trailer, 8);
            destination.Write(trailer);
            destination.Flush();
        }

        /// <summary>The directory: model, architecture, source, configuration, tensors, then (v2) the metadata fields.</summary>
        static byte[] BuildDirectory(NetworkLayout layout, string sourceDescription, WeightBlobMetadata metadata)
        {
            ArgumentNullException.ThrowIfNull(layout);
            string[] problems = metadata.Problems(layout.Config).Concat(metadata.Provenance?.Problems() ?? Array.Empty<string>()).ToArray();
            if (problems.Length > 0)
                throw new ArgumentException("The weight blob's metadata does not fit " + layout.Config.DisplayName + ": " + string.Join(" ", problems), nameof(metadata));
            using var buffer = new MemoryStream();
            using var writer = new BinaryWriter(buffer, Encoding.UTF8);
            WriteText(writer, layout.Config.DisplayName);
            WriteText(writer, layout.CanonicalArchitecture);
            WriteText(writer, sourceDescription);
            ModelConfig config = layout.Config;
            writer.Write(config.Width);
            writer.Write(config.Depth);
            writer.Write((uint)config.Resolution);
            writer.Write((uint)config.NumClasses);
            writer.Write((byte)config.Padding);
            LayoutTensor[] tensors = layout.BlobTensors().ToArray();
            writer.Write((uint)tensors.Length);
            foreach (LayoutTensor tensor in tensors)
                WriteTensor(writer, tensor);
            WriteMetadata(writer, metadata, config.Family, config.Precision);
            writer.Flush();
            if (buffer.Length > WeightBlobFormat.MaxDirectoryBytes)
                throw new ArgumentException($"The directory would be {buffer.Length:N0} bytes, more than a blob allows ({WeightBlobFormat.MaxDirectoryBytes:N0}): shorten the labels.", nameof(metadata));
            return buffer.ToArray();
        }

        /// <summary>u32 field count, then each present field as u16 tag, u32 length, payload, in ascending tag order.</summary>
        static void WriteMetadata(BinaryWriter writer, WeightBlobMetadata metadata, ModelFamily family, EfficientNetPrecision precision)
        {
            var fields = new List<(ushort Tag, byte[] Payload)>();
            if (metadata.Labels is { } labels)
                fields.Add((WeightBlobFormat.TagLabels, Payload(w =>
                {
                    w.Write((uint)labels.Count);
                    foreach (string label in labels) WriteShortText(w, label);
                })));
            if (metadata.Preprocessing is { } p)
                fields.Add((WeightBlobFormat.TagPreprocessing, Payload(w =>
                {
                    w.Write((uint)p.ResizeSize);
                    w.Write((uint)p.CropSize);
                    w.Write((byte)p.Interpolation);
                    foreach (float v in new[] { p.Mean.R, p.Mean.G, p.Mean.B, p.Std.R, p.Std.G, p.Std.B }) w.Write(v);
                })));
            if (metadata.Provenance is { } source)
                fields.Add((WeightBlobFormat.TagProvenance, Payload(w =>
                {
                    WriteShortText(w, source.SourceFileName);
                    w.Write(Convert.FromHexString(source.SourceSha256));
                    WriteShortText(w, source.ToolVersion);
                    WriteShortText(w, source.CreatedText);
                })));
            if (family != ModelFamily.EfficientNet)
                fields.Add((WeightBlobFormat.TagFamily, new[] { (byte)family }));
            if (precision != EfficientNetPrecision.Float32)
                fields.Add((WeightBlobFormat.TagPrecision, new[] { (byte)precision }));
            writer.Write((uint)fields.Count);
            foreach ((ushort tag, byte[] payload) in fields)
            {
                writer.Write(tag);
                writer.Write((uint)payload.Length);
                writer.Write(payload);
            }
        }

        static byte[] Payload(Action<BinaryWriter> write)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
                write(writer);
            return buffer.ToArray();
        }

        /// <summary>u16 byte length + UTF-8 (labels and provenance texts; their limits are checked before).</summary>
        static void WriteShortText(BinaryWriter writer, string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            writer.Write((ushort)bytes.Length);
            writer.Write(bytes);
        }

        static void WriteText(BinaryWriter writer, string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            if (bytes.Length > WeightBlobFormat.MaxTextBytes)
                throw new ArgumentException($"Text fields of a weight blob are limited to {WeightBlobFormat.MaxTextBytes} bytes.");
            writer.Write((uint)bytes.Length);
            writer.Write(bytes);
        }

        static void WriteTensor(BinaryWriter writer, LayoutTensor tensor)
        {
            WriteShortText(writer, tensor.Name);
            writer.Write((byte)tensor.Type);
            writer.Write((byte)tensor.Shape.Length);
            foreach (int d in tensor.Shape) writer.Write((uint)d);
            writer.Write(tensor.OffsetFloats * sizeof(float));
            writer.Write(tensor.Bytes);
        }

        static long AlignUp(long value, int alignment) => (value + alignment - 1) / alignment * alignment;
    }
}
