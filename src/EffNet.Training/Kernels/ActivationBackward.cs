using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using EffNet.Kernels;

namespace EffNet.Training.Kernels
{
    /// <summary>
    /// An activation's forward pass that keeps its input, and its backward pass from that input: training runs every conv
    /// without its fused activation so the pre-activation map is there for the derivative.
    /// </summary>
    static class ActivationBackward
    {
        /// <summary>output = act(input), as the inference kernels compute it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Forward(ReadOnlySpan<float> input, Span<float> output, Activation activation)
        {
            Check(input.Length, output.Length);
            int i = 0, n = input.Length, width = Vector<float>.Count;
            for (; i <= n - width; i += width)
                Simd.Activate(new Vector<float>(input.Slice(i)), activation).CopyTo(output.Slice(i));
            for (; i < n; i++)
                output[i] = Simd.Activate(input[i], activation);
        }

        /// <summary>gradient *= act'(input), in place: the gradient of the activation's output becomes its input's.</summary>
        /// <remarks>SiLU: s (1 + x (1 - s)) with s = sigmoid(x). ReLU6: 1 strictly inside (0, 6), else 0 (torch's choice at the corners).</remarks>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Run(ReadOnlySpan<float> input, Span<float> gradient, Activation activation)
        {
            Check(input.Length, gradient.Length);
            if (activation == Activation.None) return;
            int i = 0, n = input.Length, width = Vector<float>.Count;
            var one = Vector<float>.One;
            var six = new Vector<float>(6f);
            for (; i <= n - width; i += width)
            {
                var x = new Vector<float>(input.Slice(i));
                var g = new Vector<float>(gradient.Slice(i));
                Vector<float> d;
                if (activation == Activation.SiLU)
                {
                    Vector<float> s = Simd.Sigmoid(x);
                    d = s * (one + x * (one - s));
                }
                else
                    d = Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero) & Vector.LessThan(x, six), one, Vector<float>.Zero);
                (g * d).CopyTo(gradient.Slice(i));
            }
            for (; i < n; i++)
                gradient[i] *= Derivative(input[i], activation);
        }

        public static float Derivative(float x, Activation activation)
        {
            switch (activation)
            {
                case Activation.SiLU:
                    float s = 1f / (1f + MathF.Exp(-x));
                    return s * (1f + x * (1f - s));
                case Activation.ReLU6:
                    return x > 0f && x < 6f ? 1f : 0f;
                default:
                    return 1f;
            }
        }

        static void Check(int input, int other)
        {
            if (input != other) throw new ArgumentException($"The activation's maps differ in length ({input} and {other} floats).");
        }
    }
}
