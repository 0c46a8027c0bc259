using System;
using System.Numerics.Tensors;
using EffNet.Kernels;

namespace EffNet.Training.Kernels
{
    /// <summary>
    /// The 1x1 convolution's backward pass, y = x W + b with x [pixels, in] and W [in, out]: the weight gradient is
    /// xᵀ dy and the input gradient dy Wᵀ. Both are GEMMs, and both run on the forward pass's
    /// <see cref="PointwiseConvolution"/> kernel with transposed operands, so training multiplies as fast as inference.
    /// </summary>
    static class PointwiseConvolutionBackward
    {
        /// <summary>Floats of <c>scratch</c> that <see cref="Run"/> needs.</summary>
        public static long ScratchFloats(int pixels, int inChannels, int outChannels)
            => (long)pixels * inChannels + (long)pixels * outChannels + (long)inChannels * outChannels + Math.Max(inChannels, outChannels);

        /// <param name="input">x, [pixels, inChannels], as the forward pass read it</param>
        /// <param name="gradOutput">dy, [pixels, outChannels]</param>
        /// <param name="transposedPanels">Wᵀ, [outChannels, inChannels], in <see cref="PointwiseConvolution.PackPanels"/> order</param>
        /// <param name="gradInput">receives dx, [pixels, inChannels]; empty when nothing before needs it</param>
        /// <param name="gradWeights">[inChannels, outChannels]: xᵀ dy is added to it</param>
        /// <param name="gradBias">[outChannels]: the column sums of dy are added to it</param>
        public static void Run(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> transposedPanels,
                               Span<float> gradInput, Span<float> gradWeights, Span<float> gradBias,
                               int pixels, int inChannels, int outChannels, Span<float> scratch)
        {
            int inputFloats = pixels * inChannels, outputFloats = pixels * outChannels, weightFloats = inChannels * outChannels;
            Span<float> inputT = scratch.Slice(0, inputFloats);
            Span<float> gradPanels = scratch.Slice(inputFloats, outputFloats);
            Span<float> product = scratch.Slice(inputFloats + outputFloats, weightFloats);
            Span<float> zeros = scratch.Slice(inputFloats + outputFloats + weightFloats, Math.Max(inChannels, outChannels));
            zeros.Clear();

            // dW = xᵀ dy: the "pixels" of this product are the input channels, its inner dimension the pixels.
            Transpose(input, inputT, pixels, inChannels);
            PointwiseConvolution.PackPanels(gradOutput, gradPanels, pixels, outChannels);
            PointwiseConvolution.Run(inputT, gradPanels, zeros.Slice(0, outChannels), product, inChannels, pixels, outChannels, Activation.None);
            TensorPrimitives.Add(gradWeights, product, gradWeights);

            for (int p = 0; p < pixels; p++)
                TensorPrimitives.Add(gradBias, gradOutput.Slice(p * outChannels, outChannels), gradBias);

            if (!gradInput.IsEmpty)
                PointwiseConvolution.Run(gradOutput, transposedPanels, zeros.Slice(0, inChannels), gradInput, pixels, outChannels, inChannels, Activation.None);
        }

        /// <summary>[rows, columns] to [columns, rows].</summary>
        public static void Transpose(ReadOnlySpan<float> source, Span<float> destination, int rows, int columns)
        {
            // In 16 x 16 tiles, so both sides are walked a cache line at a time.
            const int Tile = 16;
            for (int r0 = 0; r0 < rows; r0 += Tile)
                for (int c0 = 0; c0 < columns; c0 += Tile)
                {
                    int r1 = Math.Min(rows, r0 + Tile), c1 = Math.Min(columns, c0 + Tile);
                    for (int r = r0; r < r1; r++)
                        for (int c = c0; c < c1; c++)
                            destination[c * rows + r] = source[r * columns + c];
                }
        }

        /// <summary>W [in, out] as the panels of Wᵀ that the input gradient multiplies by.</summary>
        public static void PackTransposed(ReadOnlySpan<float> weights, Span<float> panels, Span<float> scratch, int inChannels, int outChannels)
        {
            Span<float> transposed = scratch.Slice(0, inChannels * outChannels);
            Transpose(weights, transposed, inChannels, outChannels);
            PointwiseConvolution.PackPanels(transposed, panels, outChannels, inChannels);
        }
    }
}
