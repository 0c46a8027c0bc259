using System;
using System.Linq;

namespace EffNet
{
    /// <summary>A float32 tensor from a checkpoint (PyTorch layout, row-major), before folding and packing.</summary>
    public sealed class SourceTensor
    {
        public SourceTensor(int[] shape, float[] data)
        {
            ArgumentNullException.ThrowIfNull(shape);
            ArgumentNullException.ThrowIfNull(data);
            long elements = shape.Aggregate(1L, (n, d) => n * d);
            if (elements != data.Length)
                throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {elements} elements but {data.Length} were given.", nameof(data));
            Shape = shape;
            Data = data;
        }

        public int[] Shape { get; }
        public float[] Data { get; }

        public static string FormatShape(int[] shape) => "[" + string.Join(", ", shape) + "]";
    }
}
