using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics.Tensors;

namespace EffNet
{
    /// <summary>
    /// Finds NaN and infinite weights. A single one makes every logit NaN (or every class tie), so the writer, the
    /// importer and the reader refuse them unless the caller allows them explicitly.
    /// </summary>
    static class NonFiniteValues
    {
        /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or -1 (vectorised scan; the slow loop runs only on failure).</summary>
        public static int IndexOf(ReadOnlySpan<float> values)
        {
            if (TensorPrimitives.IsFiniteAll(values))
                return -1;
            for (int i = 0; i < values.Length; i++)
                if (!float.IsFinite(values[i]))
                    return i;
            return -1;
        }

        public static string Name(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+Infinity" : "-Infinity";

        /// <summary>"index 17 ([0, 1, 2, 2] of [32, 3, 3, 3])": the flat index and, for rank above 1, the element's coordinates.</summary>
        public static string Position(int index, int[] shape)
        {
            string flat = "index " + index.ToString(CultureInfo.InvariantCulture);
            if (shape.Length < 2)
                return flat;
            var coordinates = new int[shape.Length];
            int rest = index;
            for (int axis = shape.Length - 1; axis >= 0; axis--)
            {
                int size = Math.Max(shape[axis], 1);
                coordinates[axis] = rest % size;
                rest /= size;
            }
            return $"{flat} ({SourceTensor.FormatShape(coordinates)} of {SourceTensor.FormatShape(shape)})";
        }

        /// <summary>What to do about it, appended to every refusal.</summary>
        public const string Advice =
            "Non-finite weights make the model's outputs NaN: the checkpoint is damaged or was saved from a diverged training run. " +
            "To keep such values anyway, pass allowNonFinite: true (effnet import --allow-non-finite).";

        /// <summary>
        /// Throws <see cref="WeightFormatException"/> naming <paramref name="path"/>, the first tensor (in enumeration order)
        /// holding a NaN or infinity, its index and its value.
        /// </summary>
        public static void Check(IEnumerable<KeyValuePair<string, SourceTensor>> tensors, string? path)
        {
            foreach (KeyValuePair<string, SourceTensor> tensor in tensors)
            {
                int index = IndexOf(tensor.Value.Data);
                if (index >= 0)
                    throw new WeightFormatException(path,
                        $"tensor '{tensor.Key}' holds {Name(tensor.Value.Data[index])} at {Position(index, tensor.Value.Shape)}. {Advice}");
            }
        }
    }
}
