namespace EffNet.Kernels
{
    /// <summary>The activation a kernel applies in its epilogue, after bias and before any residual add.</summary>
    public enum Activation
    {
        /// <summary>Linear output (the projection conv of each block).</summary>
        None = 0,

        /// <summary>SiLU / swish: x * sigmoid(x).</summary>
        SiLU = 1,
    }
}
