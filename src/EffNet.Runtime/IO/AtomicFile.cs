using System;
using System.IO;

namespace EffNet.IO
{
    /// <summary>
    /// A file written so that its path only ever names a complete file and nothing else is destroyed on the way:
    /// <see cref="Create"/> refuses a target that is one of the inputs (by device and inode, not by name), a directory or
    /// a device, FIFO or socket, and one whose directory is missing. The bytes go to a temporary file beside the target
    /// (<c>&lt;name&gt;.partial-&lt;pid&gt;-&lt;random&gt;</c>); <see cref="Commit"/> flushes them to the disk and renames the temporary
    /// file over the target. Any failure (a full disk included) deletes the temporary file, leaves an existing target
    /// untouched and throws an <see cref="IOException"/> naming the target, never the temporary name. A process killed
    /// mid-write leaves at most a <c>.partial-*</c> file, never a truncated file under the target's name.
    /// </summary>
    /// <example><code>
    /// using (var output = AtomicFile.Create(path, inputPath)) { Write(output.Stream, ...); output.Commit(); }
    /// </code></example>
    sealed class AtomicFile : IDisposable
    {
        readonly string _target;
        readonly string _temp;
        readonly bool _targetExisted;
        readonly FileStream _file;
        bool _committed;

        AtomicFile(string target, string temp, bool targetExisted, FileStream file)
        {
            _target = target;
            _temp = temp;
            _targetExisted = targetExisted;
            _file = file;
            Stream = new TargetStream(this);
        }

        /// <summary>Starts writing <paramref name="path"/>; <paramref name="inputs"/> are the files the output is made from.</summary>
        /// <exception cref="IOException">The target may not or cannot be written; the message says why and what to do.</exception>
        public static AtomicFile Create(string path, params ReadOnlySpan<string> inputs)
        {
            string target = CheckTarget(path, inputs);
            bool existed = File.Exists(target);
            string temp = $"{target}.partial-{Environment.ProcessId}-{Random.Shared.Next():x8}";
            try
            {
                return new AtomicFile(target, temp, existed, new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16));
            }
            catch (Exception e) when (IsFileError(e))
            {
                Delete(temp);
                throw Failure(target, temp, existed, e);
            }
        }

        /// <summary>
        /// Checks that writing <paramref name="path"/> destroys nothing and can start (for failing before long work), and
        /// returns where the bytes will go: the full path, or the file a symbolic link there points to.
        /// </summary>
        /// <exception cref="IOException">The output is an input, a directory, a device, FIFO or socket, or its directory is missing.</exception>
        public static string CheckTarget(string path, params ReadOnlySpan<string> inputs)
        {
            ArgumentNullException.ThrowIfNull(path);
            string named = Path.GetFullPath(path);
            string target = FileIdentity.ResolveLinks(named);
            string directory = Path.GetDirectoryName(target) ?? target;
            FileIdentity? folder = FileIdentity.Of(directory);
            if (folder is null)
                throw new IOException($"Cannot write '{named}': the directory '{directory}' does not exist. Create it first, or choose an output path in an existing directory.");
            if (folder.Value.Kind != FileKind.Directory)
                throw new IOException($"Cannot write '{named}': '{directory}' is a file, not a directory. Choose an output path in a directory.");
            if (FileIdentity.Of(target) is not FileIdentity existing)
                return target;
            if (existing.Kind == FileKind.Directory)
                throw new IOException($"Cannot write '{named}': it is a directory. Give a file name.");
            if (existing.Kind == FileKind.Special)
                throw new IOException($"Cannot write '{named}': it exists and is not a regular file (a device, FIFO or socket), which writing would replace. Give the path of a regular file.");
            foreach (string input in inputs)
                if (FileIdentity.Of(input) is FileIdentity source && source.IsSameFileAs(existing))
                    throw new IOException($"Cannot write '{named}': it is the input file '{Path.GetFullPath(input)}', which writing would destroy. Choose another output path.");
            return target;
        }

        /// <summary>Where the bytes go until <see cref="Commit"/>; a failed write throws an <see cref="IOException"/> naming the target.</summary>
        public Stream Stream { get; }

        /// <summary>Flushes everything to the disk and moves the temporary file onto the target.</summary>
        public void Commit()
        {
            try
            {
                _file.Flush(flushToDisk: true);
                _file.Dispose();
                File.Move(_temp, _target, overwrite: true);
            }
            catch (Exception e) when (IsFileError(e))
            {
                throw Failure(e);
            }
            _committed = true;
        }

        public void Dispose()
        {
            try
            {
                _file.Dispose(); // flushes what is buffered, which fails again when the disk is full
            }
            catch (Exception e) when (IsFileError(e))
            {
                // already reported by the write or the commit that failed first
            }
            finally
            {
                if (!_committed)
                    Delete(_temp);
            }
        }

        Exception Failure(Exception error) => Failure(_target, _temp, _targetExisted, error);

        /// <summary>Failures of the file system: a full disk, a file-size limit (which .NET reports as ArgumentOutOfRangeException), no permission.</summary>
        static bool IsFileError(Exception e) => e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException;

        static IOException Failure(string target, string temp, bool targetExisted, Exception error)
        {
            const int NoSpace = 28, QuotaExceeded = 122; // ENOSPC, EDQUOT: .NET's IOException carries the errno as HResult on Unix
            string directory = Path.GetDirectoryName(target) ?? target;
            string reason = error switch
            {
                UnauthorizedAccessException => $"no permission to create files in '{directory}'",
                ArgumentOutOfRangeException => "the file would exceed the file-size limit (ulimit -f) or the largest file the file system holds",
                IOException { HResult: NoSpace or QuotaExceeded } => "the disk is full",
                _ => error.Message.Replace($" : '{temp}'", "").Replace(temp, target).TrimEnd('.'),
            };
            string fix = error switch
            {
                UnauthorizedAccessException => "Choose a directory you can write to.",
                IOException { HResult: NoSpace or QuotaExceeded } => "Free some space or choose another disk.",
                _ => "Choose another output path or disk.",
            };
            string kept = targetExisted ? "the existing file is unchanged" : "no file was created";
            return new IOException($"Could not write '{target}': {reason}; {kept}. {fix}", error);
        }

        static void Delete(string temp)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception e) when (IsFileError(e))
            {
                // the temporary file could not be created or removed: nothing more to do
            }
        }

        /// <summary>Writes to the temporary file and reports a failure of the file system as a failure to write the target.</summary>
        sealed class TargetStream : Stream
        {
            readonly AtomicFile _owner;

            public TargetStream(AtomicFile owner) => _owner = owner;

            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => _owner._file.Length;
            public override long Position { get => _owner._file.Position; set => throw new NotSupportedException(); }

            public override void Write(byte[] buffer, int offset, int count)
            {
                ValidateBufferArguments(buffer, offset, count);
                Write(buffer.AsSpan(offset, count));
            }

            public override void Write(ReadOnlySpan<byte> buffer)
            {
                try { _owner._file.Write(buffer); }
                catch (Exception e) when (IsFileError(e)) { throw _owner.Failure(e); }
            }

            public override void Flush()
            {
                try { _owner._file.Flush(); }
                catch (Exception e) when (IsFileError(e)) { throw _owner.Failure(e); }
            }

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }
}
