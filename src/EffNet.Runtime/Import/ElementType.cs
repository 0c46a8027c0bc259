using System;
using System.Buffers.Binary;

namespace EffNet.Import
{
    /// <summary>The element types a checkpoint tensor may hold; all are converted to float32 on reading.</summary>
    internal enum ElementType
    {
        Float32,
        Float16,
        BFloat16,
        Float64,
        Int64,
        Int32,
    }

    /// <summary>Sizes, names and little-endian conversion to float32 of <see cref="ElementType"/>.</summary>
    internal static class ElementTypes
    {
        public static int Size(ElementType type) => type switch
        {
            ElementType.Float16 or ElementType.BFloat16 => 2,
            ElementType.Float32 or ElementType.Int32 => 4,
            _ => 8,
        };

        /// <summary>The name numpy and PyTorch users know: float32, float16, bfloat16, ...</summary>
        public static string Name(ElementType type) => type switch
        {
            ElementType.Float32 => "float32",
            ElementType.Float16 => "float16",
            ElementType.BFloat16 => "bfloat16",
            ElementType.Float64 => "float64",
            ElementType.Int64 => "int64",
            _ => "int32",
        };

        /// <summary>Element <paramref name="index"/> of little-endian <paramref name="bytes"/>, as float32.</summary>
        public static float Read(ReadOnlySpan<byte> bytes, long index, ElementType type)
        {
            int at = checked((int)(index * Size(type)));
            return type switch
            {
                ElementType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(at)),
                ElementType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(at)),
                ElementType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(at)) << 16),
                ElementType.Float64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(at)),
                ElementType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(at)),
                _ => BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(at)),
            };
        }

        /// <summary>Converts <paramref name="destination"/>.Length consecutive elements starting at element <paramref name="first"/>.</summary>
        public static void Convert(ReadOnlySpan<byte> bytes, long first, ElementType type, Span<float> destination)
        {
            if (type == ElementType.Float32 && BitConverter.IsLittleEndian)
            {
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes.Slice(checked((int)(first * 4)), destination.Length * 4))
                    .CopyTo(destination);
                return;
            }
            for (int i = 0; i < destination.Length; i++)
                destination[i] = Read(bytes, first + i, type);
        }

        /// <summary>
        /// Gathers a strided view (PyTorch's storage offset, sizes and strides, all in elements) into a row-major float32
        /// array. The caller has checked that every index the view reaches lies inside <paramref name="bytes"/>.
        /// </summary>
        public static float[] Gather(ReadOnlySpan<byte> bytes, ElementType type, long offset, int[] shape, long[] strides)
        {
            long count = 1;
            foreach (int d in shape) count *= d;
            var result = new float[count];
            if (count == 0)
                return result;
            if (IsRowMajor(shape, strides))
            {
                Convert(bytes, offset, type, result);
                return result;
            }

            // Odometer over the view's index, innermost axis fastest; the source index follows by adding strides.
            int rank = shape.Length;
            var index = new int[rank];
            long source = offset;
            for (long i = 0; i < count; i++)
            {
                result[i] = Read(bytes, source, type);
                for (int axis = rank - 1; axis >= 0; axis--)
                {
                    if (++index[axis] < shape[axis])
                    {
                        source += strides[axis];
                        break;
                    }
                    source -= (long)(shape[axis] - 1) * strides[axis];
                    index[axis] = 0;
                }
            }
            return result;
        }

        /// <summary>Are these the strides of a contiguous row-major tensor (axes of size 1 may have any stride)?</summary>
        static bool IsRowMajor(int[] shape, long[] strides)
        {
            long expected = 1;
            for (int axis = shape.Length - 1; axis >= 0; axis--)
            {
                if (shape[axis] != 1 && strides[axis] != expected)
                    return false;
                expected *= shape[axis];
            }
            return true;
        }
    }
}
