using System;
using System.Runtime.InteropServices;

namespace EffNet.Memory
{
    /// <summary>A zeroed, 64-byte aligned block of native floats: the weights or the activation arena of one model.</summary>
    public sealed unsafe class AlignedBuffer : IDisposable
    {
        public const int Alignment = 64;
        float* _data;

        public AlignedBuffer(long floats)
        {
            if (floats < 0 || floats > Array.MaxLength)
                throw new ArgumentOutOfRangeException(nameof(floats), floats, $"A buffer holds at most {Array.MaxLength} floats.");
            Length = (int)floats;
            nuint bytes = (nuint)Math.Max(1L, floats) * sizeof(float);
            _data = (float*)NativeMemory.AlignedAlloc(bytes, Alignment);
            NativeMemory.Clear(_data, bytes);
        }

        public int Length { get; }

        public bool IsDisposed => _data == null;

        public Span<float> Span
        {
            get
            {
                ObjectDisposedException.ThrowIf(_data == null, this);
                return new Span<float>(_data, Length);
            }
        }

        public void Dispose()
        {
            if (_data != null)
            {
                NativeMemory.AlignedFree(_data);
                _data = null;
            }
            GC.SuppressFinalize(this);
        }

        ~AlignedBuffer() => Dispose();
    }
}
