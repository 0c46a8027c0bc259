using System;
using System.IO;

namespace EffNet.Imaging
{
    /// <summary>
    /// The encoded bytes as stb_image reads them, seeking the way its C memory reader does: a skip past the end, or a
    /// negative skip, lands on the end. StbImageSharp seeks the stream by the raw amount instead, so after a segment
    /// length that runs past the end its end-of-data test (position == length) is never true again and its marker search
    /// spins forever: 14 bytes of a truncated JPEG hung the decoder (found by the mutation property).
    /// </summary>
    sealed class StbInput : MemoryStream
    {
        public StbInput(byte[] data) : base(data, writable: false) { }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => offset < 0 || offset > Length - Position ? Length : Position + offset,
                _ => Length + Math.Min(offset, 0),
            };
            return base.Seek(Math.Clamp(target, 0, Length), SeekOrigin.Begin);
        }

        public override long Position
        {
            get => base.Position;
            set => base.Position = Math.Clamp(value, 0, Length);
        }
    }
}
