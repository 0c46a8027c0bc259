namespace EffNet.Kernels
{
    /// <summary>The activation a kernel applies in its epilogue, after bias and before any residual add.</summary>
    /// <remarks>Shared with the generator, whose plan names each call's activation.</remarks>
#if EFFNET_RUNTIME
    public
#endif
    enum Activation
    {
        /// <summary>Linear output (the projection conv of each block).</summary>
        None = 0,

        /// <summary>SiLU / swish: x * sigmoid(x).</summary>
        SiLU = 1,

        /// <summary>min(max(x, 0), 6): EfficientNet-Lite's, which keeps activations in a range int8 can hold.</summary>
        ReLU6 = 2,
    }
}
