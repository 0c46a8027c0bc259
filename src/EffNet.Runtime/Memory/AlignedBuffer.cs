using System;
using System.Runtime.InteropServices;

namespace EffNet.Memory
{
    /// <summary>
    /// A zeroed, 64-byte aligned block of native floats: the weights or one activation arena of a model. A
    /// <see cref="SafeHandle"/>, so the memory is freed exactly once, by <see cref="IDisposable.Dispose"/> or by the
    /// runtime's critical finalizer, and never while a <see cref="SafeHandle.DangerousAddRef"/> is outstanding. The GC is
    /// told about the native bytes, so dropped models are collected as promptly as managed arrays of the same size.
    /// </summary>
    public sealed unsafe class AlignedBuffer : SafeHandle
    {
        public const int Alignment = 64;
        readonly long _bytes;

        public AlignedBuffer(long floats) : base(IntPtr.Zero, ownsHandle: true)
        {
            if (floats < 0 || floats > Array.MaxLength)
                throw new ArgumentOutOfRangeException(nameof(floats), floats, $"A buffer holds at most {Array.MaxLength} floats.");
            Length = (int)floats;
            _bytes = Math.Max(1L, floats) * sizeof(float);
            void* data = NativeMemory.AlignedAlloc((nuint)_bytes, Alignment);
            NativeMemory.Clear(data, (nuint)_bytes);
            SetHandle((IntPtr)data);
            GC.AddMemoryPressure(_bytes);
        }

        public int Length { get; }

        public override bool IsInvalid => handle == IntPtr.Zero;

        public bool IsDisposed => IsClosed;

        /// <summary>The floats. Valid until the buffer is disposed: the owner must keep it open while the span is in use.</summary>
        public Span<float> Span
        {
            get
            {
                ObjectDisposedException.ThrowIf(IsClosed, this);
                return new Span<float>((void*)handle, Length);
            }
        }

        protected override bool ReleaseHandle()
        {
            NativeMemory.AlignedFree((void*)handle);
            GC.RemoveMemoryPressure(_bytes);
            return true;
        }
    }
}
