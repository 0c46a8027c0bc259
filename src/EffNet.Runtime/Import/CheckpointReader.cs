using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace EffNet.Import
{
    /// <summary>The checkpoint file formats <see cref="CheckpointReader"/> reads.</summary>
    public enum CheckpointFormat
    {
        /// <summary><c>torch.save(state_dict)</c>: a zip with data.pkl and the storages (.pt, .pth, .bin).</summary>
        PyTorch,

        /// <summary>safetensors: a JSON header and raw tensor bytes (.safetensors).</summary>
        SafeTensors,
    }

    /// <summary>A checkpoint read into memory: its format, the element types it held and every tensor as float32.</summary>
    public sealed record Checkpoint(CheckpointFormat Format, IReadOnlyCollection<string> ElementTypes, Dictionary<string, SourceTensor> Tensors);

    /// <summary>
    /// A checkpoint opened for reading: every tensor's key, shape and element type is known and checked against the file,
    /// but no tensor is read until <see cref="Read"/> asks for it. A caller checks names and shapes first and then reads
    /// only the tensors it needs, so a file that does not fit costs no more than its description.
    /// </summary>
    internal abstract class CheckpointFile : IDisposable
    {
        protected CheckpointFile(CheckpointFormat format, Dictionary<string, int[]> shapes, SortedSet<string> elementTypes,
                                 IReadOnlyDictionary<string, string>? metadata = null)
        {
            Format = format;
            Shapes = shapes;
            ElementTypeNames = elementTypes;
            Metadata = metadata ?? new Dictionary<string, string>();
        }

        public CheckpointFormat Format { get; }

        /// <summary>Every tensor's shape under the file's own key, in the file's order.</summary>
        public IReadOnlyDictionary<string, int[]> Shapes { get; }

        /// <summary>The element types of all the file's tensors: float32, float16, ...</summary>
        public IReadOnlyCollection<string> ElementTypeNames { get; }

        /// <summary>The file's own text metadata: a safetensors <c>__metadata__</c>; empty for torch.save files.</summary>
        public IReadOnlyDictionary<string, string> Metadata { get; }

        /// <summary>The tensors under <paramref name="keys"/>, converted to float32, in the file's order.</summary>
        /// <exception cref="WeightFormatException">A tensor's data is damaged or cannot be read within the file's limits.</exception>
        public Dictionary<string, SourceTensor> Read(IEnumerable<string> keys, IProgress<double>? progress = null)
        {
            var wanted = new HashSet<string>(keys, StringComparer.Ordinal);
            foreach (string key in wanted)
                if (!Shapes.ContainsKey(key))
                    throw new ArgumentException($"The checkpoint has no tensor '{key}'.", nameof(keys));
            string[] ordered = Shapes.Keys.Where(wanted.Contains).ToArray();
            Dictionary<string, SourceTensor> loaded = Load(ordered, progress);
            return ordered.ToDictionary(key => key, key => loaded[key], StringComparer.Ordinal);
        }

        /// <summary>Every tensor of the file, converted to float32, in the file's order.</summary>
        public Dictionary<string, SourceTensor> ReadAll(IProgress<double>? progress = null) => Read(Shapes.Keys, progress);

        /// <summary>Reads and converts the tensors under <paramref name="keys"/> (all known, in the file's order), reporting 0..1.</summary>
        protected abstract Dictionary<string, SourceTensor> Load(IReadOnlyList<string> keys, IProgress<double>? progress);

        public virtual void Dispose() { }
    }

    /// <summary>Reads a PyTorch or safetensors checkpoint, telling the format from the file's first bytes (never its name).</summary>
    public static class CheckpointReader
    {
        /// <summary>Every tensor of <paramref name="path"/>, under the file's own key names, converted to float32.</summary>
        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="WeightFormatException">The file is not a checkpoint this reader understands, or is damaged.</exception>
        public static Dictionary<string, SourceTensor> Read(string path, IProgress<double>? progress = null)
            => ReadCheckpoint(path, progress).Tensors;

        /// <summary>Like <see cref="Read"/>, also telling the format and the element types found.</summary>
        public static Checkpoint ReadCheckpoint(string path, IProgress<double>? progress = null)
            => WithFile(path, file => ReadCheckpoint(file, path, progress));

        /// <summary>Reads a checkpoint from a seekable <paramref name="stream"/>; <paramref name="name"/> labels errors.</summary>
        public static Checkpoint ReadCheckpoint(Stream stream, string? name = null, IProgress<double>? progress = null)
        {
            using CheckpointFile file = Open(stream, name);
            return new Checkpoint(file.Format, file.ElementTypeNames, file.ReadAll(progress));
        }

        /// <summary>
        /// Opens the checkpoint in a seekable <paramref name="stream"/> (left open) and checks every tensor's description
        /// against the file, reading no tensor yet.
        /// </summary>
        internal static CheckpointFile Open(Stream stream, string? name)
        {
            RequireSeekable(stream);
            var head = new byte[(int)Math.Min(16, stream.Length)];
            stream.Position = 0;
            stream.ReadExactly(head);
            stream.Position = 0;
            return DetectFormat(head, stream.Length, name) == CheckpointFormat.PyTorch
                ? PyTorchCheckpoint.Open(stream, name)
                : SafeTensorsFile.Open(stream, name);
        }

        /// <summary>
        /// The format of a file whose first bytes are <paramref name="head"/> (16 are enough) and whose length is
        /// <paramref name="length"/>. Throws <see cref="WeightFormatException"/> saying what the file looks like otherwise.
        /// </summary>
        public static CheckpointFormat DetectFormat(ReadOnlySpan<byte> head, long length, string? name = null)
        {
            if (head.Length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
                return CheckpointFormat.PyTorch;
            if (head.Length >= 9 && head[8] == '{')
            {
                ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(head);
                if (headerLength >= 2 && headerLength <= (ulong)(length - 8))
                    return CheckpointFormat.SafeTensors;
            }
            string what = head.Length switch
            {
                >= 6 when head[0] == 0x93 && head.Slice(1, 5).SequenceEqual("NUMPY"u8) => "a NumPy .npy array, not a checkpoint",
                >= 8 when head.Slice(0, 8).SequenceEqual("EFFNETWB"u8) => "already an EffNet weight blob; load it directly",
                >= 2 when head[0] == 0x80 && head[1] <= 5 =>
                    "a bare pickle: the legacy torch.save format (before PyTorch 1.6, or _use_new_zipfile_serialization=False). " +
                    "Re-save it with a current PyTorch: torch.save(torch.load(path), new_path)",
                >= 8 when head[0] == 0x89 && head.Slice(1, 3).SequenceEqual("HDF"u8) => "an HDF5 file (Keras .h5), which is not supported",
                _ => "neither a PyTorch zip checkpoint (starting \"PK\\x03\\x04\") nor safetensors (an 8-byte header length, then '{')",
            };
            string first = head.IsEmpty ? "it is empty" : "its first bytes (offset 0) are " + Convert.ToHexString(head.Slice(0, Math.Min(8, head.Length)));
            throw new WeightFormatException(name, "this file is " + what + " (" + first + ").");
        }

        /// <summary>Opens <paramref name="path"/> for reading, runs <paramref name="read"/> on it and closes it; a directory is refused as such.</summary>
        internal static T WithFile<T>(string path, Func<Stream, T> read)
        {
            ArgumentNullException.ThrowIfNull(path);
            if (Directory.Exists(path))
                throw new WeightFormatException(path, "this is a directory, not a file; give the path of the file itself.");
            if (!File.Exists(path))
                throw new FileNotFoundException($"'{path}' does not exist.", path);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            if (!file.CanSeek)
                throw new WeightFormatException(path, "it is a pipe, FIFO or device, not a regular file; checkpoints and .npy arrays are read from regular files " +
                                                      "(every size is checked against the file's length). Save it to a file first.");
            return read(file);
        }

        /// <summary>The readers check every size against the stream's length, so they need to know it.</summary>
        internal static void RequireSeekable(Stream stream)
        {
            ArgumentNullException.ThrowIfNull(stream);
            if (!stream.CanSeek || !stream.CanRead)
                throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        }
    }
}
