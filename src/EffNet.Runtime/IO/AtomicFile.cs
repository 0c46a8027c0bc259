using System;
using System.IO;

namespace EffNet.IO
{
    /// <summary>
    /// A file written so that its path only ever names a complete file: the bytes go to a temporary file beside it
    /// (<c>&lt;name&gt;.partial-&lt;pid&gt;-&lt;random&gt;</c>), <see cref="Commit"/> flushes them to the disk and renames the
    /// temporary file over the target. Disposing without committing (an exception while writing) deletes the temporary
    /// file and leaves an existing target untouched; a process killed mid-write leaves at most a <c>.partial-*</c> file,
    /// never a truncated file under the target's name.
    /// </summary>
    /// <example><code>
    /// using (var output = AtomicFile.Create(path)) { Write(output.Stream, ...); output.Commit(); }
    /// </code></example>
    sealed class AtomicFile : IDisposable
    {
        readonly string _target;
        readonly string _temp;
        readonly FileStream _stream;
        bool _committed;

        AtomicFile(string target, string temp, FileStream stream)
        {
            _target = target;
            _temp = temp;
            _stream = stream;
        }

        public static AtomicFile Create(string path)
        {
            ArgumentNullException.ThrowIfNull(path);
            string full = Path.GetFullPath(path);
            if (Directory.Exists(full))
                throw new IOException($"Cannot write '{full}': it is a directory. Give a file name.");
            string temp = $"{full}.partial-{Environment.ProcessId}-{Random.Shared.Next():x8}";
            return new AtomicFile(full, temp, new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16));
        }

        /// <summary>Where the bytes go until <see cref="Commit"/>.</summary>
        public Stream Stream => _stream;

        /// <summary>Flushes everything to the disk and moves the temporary file onto the target.</summary>
        public void Commit()
        {
            _stream.Flush(flushToDisk: true);
            _stream.Dispose();
            File.Move(_temp, _target, overwrite: true);
            _committed = true;
        }

        public void Dispose()
        {
            _stream.Dispose();
            if (!_committed && File.Exists(_temp))
                File.Delete(_temp);
        }
    }
}
