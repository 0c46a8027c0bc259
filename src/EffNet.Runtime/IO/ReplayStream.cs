using System;
using System.IO;

namespace EffNet.IO
{
    /// <summary>
    /// Lets a stream that cannot seek (a pipe, a FIFO) be read from the start twice: the bytes read before
    /// <see cref="Replay"/> are kept and read again first, then reading goes on where the source left off. Used to read a
    /// blob's header to choose the model, then hand the whole blob to that model, with the file opened only once.
    /// </summary>
    sealed class ReplayStream : Stream
    {
        readonly Stream _source;
        readonly MemoryStream _seen = new MemoryStream();
        bool _replaying;

        public ReplayStream(Stream source) => _source = source;

        /// <summary>From now on, reading starts again at the first byte read.</summary>
        public void Replay()
        {
            _replaying = true;
            _seen.Position = 0;
        }

        public override int Read(Span<byte> buffer)
        {
            if (_replaying && _seen.Position < _seen.Length)
                return _seen.Read(buffer);
            int read = _source.Read(buffer);
            if (!_replaying)
                _seen.Write(buffer.Slice(0, read));
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            ValidateBufferArguments(buffer, offset, count);
            return Read(buffer.AsSpan(offset, count));
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
